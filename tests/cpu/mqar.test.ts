// MQAR generation: every query's target is the value paired with that key earlier in the
// sequence, the mask selects exactly the answers, keys are distinct, and generation is seeded.
import { describe, expect, it } from 'vitest';
import { MQAR_PAD, checkMqarConfig, makeMqarBatch, makeMqarHeldOut, mqarVocab } from '../../src/tasks/mqar.ts';
import { Random } from '../../src/util/random.ts';

const CFG = { maxLen: 37, pairs: 7, queries: 5, keys: 11, values: 9 };

describe('MQAR', () => {
  it('every query asks a key of the pairs, and its target is the value paired with that key', () => {
    const b = makeMqarBatch(new Random(3), 50, CFG);
    const L = CFG.maxLen;
    for (let s = 0; s < b.batch; s++) {
      const x = Array.from(b.inputs.subarray(s * L, (s + 1) * L));
      const y = Array.from(b.targets.subarray(s * L, (s + 1) * L));
      const m = Array.from(b.mask.subarray(s * L, (s + 1) * L));
      const pairs = new Map<number, number>();
      for (let i = 0; i < CFG.pairs; i++) {
        const k = x[2 * i]!;
        const v = x[2 * i + 1]!;
        expect(k).toBeGreaterThanOrEqual(1);
        expect(k).toBeLessThanOrEqual(CFG.keys);
        expect(v).toBeGreaterThan(CFG.keys);
        expect(v).toBeLessThanOrEqual(CFG.keys + CFG.values);
        expect(pairs.has(k), 'keys are distinct within a sequence').toBe(false);
        pairs.set(k, v);
      }
      const asked = new Set<number>();
      let scored = 0;
      for (let t = 0; t < L; t++) {
        if (m[t] === 1) {
          scored++;
          expect(pairs.has(x[t]!), `position ${t} queries a key of the pairs`).toBe(true);
          expect(y[t]).toBe(pairs.get(x[t]!));
          expect(asked.has(x[t]!), 'queries are distinct').toBe(false);
          asked.add(x[t]!);
          expect(t).toBeGreaterThanOrEqual(2 * CFG.pairs);
        } else {
          expect(m[t]).toBe(0);
        }
      }
      expect(scored).toBe(CFG.queries);
      // targets are the inputs shifted by one; the padding is 0 and unscored
      for (let t = 0; t < L - 1; t++) expect(y[t]).toBe(x[t + 1]);
      expect(y[L - 1]).toBe(MQAR_PAD);
      for (let t = 2 * CFG.pairs + 2 * CFG.queries; t < L; t++) expect(x[t]).toBe(MQAR_PAD);
    }
  });

  it('is seeded: the same seed gives the same batch, another seed another; the held-out set is fixed', () => {
    const a = makeMqarBatch(new Random(9), 8, CFG);
    const b = makeMqarBatch(new Random(9), 8, CFG);
    const c = makeMqarBatch(new Random(10), 8, CFG);
    expect(a.inputs).toEqual(b.inputs);
    expect(a.mask).toEqual(b.mask);
    expect(a.inputs).not.toEqual(c.inputs);
    expect(makeMqarHeldOut(16, CFG).inputs).toEqual(makeMqarHeldOut(16, CFG).inputs);
    // one batch of 8 = two of 4 drawn one after another (sequences are drawn in turn)
    const rng = new Random(9);
    const first = makeMqarBatch(rng, 4, CFG);
    const second = makeMqarBatch(rng, 4, CFG);
    expect([...first.inputs, ...second.inputs]).toEqual([...a.inputs]);
  });

  it('uses every value of the vocabulary and every pair as a query over many draws', () => {
    const b = makeMqarBatch(new Random(1), 400, { maxLen: 8, pairs: 2, queries: 2, keys: 3, values: 4 });
    expect(new Set(b.inputs)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7].filter((t) => t !== 0)));
    expect(mqarVocab({ keys: 3, values: 4, pairs: 2, queries: 2, maxLen: 8 })).toBe(8);
  });

  it.each([
    [{ pairs: 12, keys: 11 }, /12 pairs need distinct keys, but there are only 11 keys/],
    [{ queries: 8, pairs: 7 }, /8 queries of distinct keys, but only 7 pairs/],
    [{ maxLen: 20 }, /need length >= 24, got maxLen 20/],
    [{ values: 0 }, /values must be a positive integer/],
  ])('refuses %j', (bad, message) => {
    expect(() => checkMqarConfig({ ...CFG, ...bad })).toThrow(message);
  });
});
