import { describe, expect, it } from 'vitest';
import {
  checkListOpsConfig,
  evaluateListOps,
  generateListOpsExample,
  LISTOPS_CLOSE,
  LISTOPS_VOCAB,
  listOpsMaxTokens,
  listOpsSplits,
  listOpsText,
  listOpsTokens,
  packListOps,
  parseListOps,
} from '../../src/tasks/listops.ts';
import { Random } from '../../src/util/random.ts';

const value = (text: string) => evaluateListOps(parseListOps(text));

describe('ListOps evaluator', () => {
  it('hand-worked expressions, every operator', () => {
    expect(value('[MAX 2 9 [MIN 4 7 ] 0 ]')).toBe(9);
    expect(value('[MIN 3 8 1 5 ]')).toBe(1);
    expect(value('[SM 9 8 7 ]')).toBe(4); // 24 mod 10
    expect(value('[SM 0 0 ]')).toBe(0);
    expect(value('[MED 1 9 4 ]')).toBe(4);
    // even count: int(np.median) truncates the mean of the two middle values
    expect(value('[MED 1 2 ]')).toBe(1); // 1.5 -> 1
    expect(value('[MED 3 8 1 6 ]')).toBe(4); // middle 3, 6 -> 4.5 -> 4
    expect(value('[MED 2 4 6 8 ]')).toBe(5); // 4, 6 -> 5
    expect(value('7')).toBe(7);
  });

  it('deep nesting', () => {
    // [SM [MAX 3 [MIN 9 [MED 5 1 7 ] ] ] [SM 6 6 ] 2 ] = SM(MAX(3, MIN(9, 5)), 2, 2) = SM(5, 2, 2) = 9
    expect(value('[SM [MAX 3 [MIN 9 [MED 5 1 7 ] ] ] [SM 6 6 ] 2 ]')).toBe(9);
    let text = '4';
    for (let d = 0; d < 30; d++) text = `[MAX 0 ${text} ]`;
    expect(value(text)).toBe(4);
    let sums = '9';
    for (let d = 0; d < 12; d++) sums = `[SM ${sums} 1 ]`;
    expect(value(sums)).toBe(1); // 9 + 12 = 21
  });

  it('text and tokens round-trip; malformed input is named', () => {
    const text = '[MAX 2 9 [MIN 4 7 ] 0 ]';
    const tokens = listOpsTokens(parseListOps(text));
    expect(tokens).toHaveLength(9);
    expect(listOpsText(tokens)).toBe(text);
    expect(Math.max(...tokens)).toBeLessThan(LISTOPS_VOCAB);
    expect(tokens[tokens.length - 1]).toBe(LISTOPS_CLOSE);
    expect(() => parseListOps('[MAX 2 9')).toThrow(/never closed/);
    expect(() => parseListOps('[MAX ]')).toThrow(/no arguments/);
    expect(() => parseListOps('[MAX 1 2 ] 3')).toThrow(/1 tokens after the end/);
    expect(() => parseListOps('[FOO 1 ]')).toThrow(/unknown token '\[FOO'/);
    expect(() => parseListOps('] 1')).toThrow(/unexpected token '\]' at position 0/);
  });
});

describe('ListOps generator', () => {
  const tiny = checkListOpsConfig({ minLength: 10, maxLength: 40, maxDepth: 4, maxArgs: 5 });

  it('meets the length bounds; labels equal the evaluated text; seeded', () => {
    const rng = new Random(5);
    for (let i = 0; i < 200; i++) {
      const ex = generateListOpsExample(rng, tiny);
      expect(ex.tokens.length).toBeGreaterThanOrEqual(10);
      expect(ex.tokens.length).toBeLessThanOrEqual(40);
      expect(evaluateListOps(parseListOps(ex.tokens))).toBe(ex.label);
    }
    const a = generateListOpsExample(new Random(9), tiny);
    const b = generateListOpsExample(new Random(9), tiny);
    expect(a).toEqual(b);
  });

  it('labels cover the classes', () => {
    const { train } = listOpsSplits(tiny, { train: 400, validation: 0, test: 0 });
    const seen = new Set(train.map((e) => e.label));
    expect(seen.size).toBe(10);
  });

  it('fixed splits: held-out expressions never repeat a training one', () => {
    const s = listOpsSplits(tiny, { train: 300, validation: 50, test: 50 });
    const again = listOpsSplits(tiny, { train: 300, validation: 50, test: 50 });
    expect(again).toEqual(s);
    const train = new Set(s.train.map((e) => e.tokens.join(',')));
    for (const e of [...s.validation, ...s.test]) expect(train.has(e.tokens.join(','))).toBe(false);
    const val = new Set(s.validation.map((e) => e.tokens.join(',')));
    for (const e of s.test) expect(val.has(e.tokens.join(','))).toBe(false);
  });

  it('refuses bounds no expression can meet, naming them', () => {
    expect(listOpsMaxTokens({ maxDepth: 3, maxArgs: 2 })).toBe(2 + 2 * (2 + 2 * 1));
    expect(() => checkListOpsConfig({ minLength: 11, maxLength: 20, maxDepth: 3, maxArgs: 2 })).toThrow(
      /no expression can reach minLength 11.*longest has 10 tokens/,
    );
    expect(() => checkListOpsConfig({ minLength: 3, maxLength: 3 })).toThrow(/admit no expression/);
    expect(() => checkListOpsConfig({ minLength: 50, maxLength: 10 })).toThrow(/minLength 50 exceeds maxLength 10/);
    expect(() => checkListOpsConfig({ minArgs: 4, maxArgs: 3 })).toThrow(/minArgs 4 exceeds maxArgs 3/);
    expect(() => checkListOpsConfig({ maxDepth: 0 })).toThrow(/maxDepth must be an integer >= 1/);
  });

  it('packs a batch padded on the right, and refuses an expression over the length', () => {
    const rng = new Random(3);
    const exs = [generateListOpsExample(rng, tiny), generateListOpsExample(rng, tiny)];
    const b = packListOps(exs, 48);
    expect(b.seq).toBe(48);
    expect(Array.from(b.lengths)).toEqual(exs.map((e) => e.tokens.length));
    expect(Array.from(b.inputs.subarray(48, 48 + exs[1]!.tokens.length))).toEqual(exs[1]!.tokens);
    expect(b.inputs[exs[0]!.tokens.length]).toBe(0);
    expect(() => packListOps(exs, 5)).toThrow(/exceeds the sequence length 5/);
  });
});
