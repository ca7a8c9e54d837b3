// `npm run data` writes what training uses: the examples equal the data stream's batches, row by
// row, for the copy task and MQAR, and the held-out split equals the evaluation batches.
import { describe, expect, it } from 'vitest';
import { makeDataStream } from '../../src/train/data.ts';
import { evaluateListOps, parseListOps } from '../../src/tasks/listops.ts';
import { runExamples, type ClassExample, type SequenceExample } from '../../src/train/examples.ts';
import { makeRunConfig } from '../../src/train/presets.ts';

describe('run examples', () => {
  it.each(['copy', 'mqar'] as const)('%s: the first N training sequences are the stream\'s, batch after batch', (task) => {
    const cfg = makeRunConfig({ task, variant: 'linear', overrides: { seed: 5, batch: 3 } });
    const ex = runExamples(cfg, { kind: task }, 7);
    expect(ex).toHaveLength(7);
    const stream = makeDataStream(cfg, { kind: task });
    const rows: { input: number[]; target: number[]; mask: number[] }[] = [];
    for (let b = 0; b < 3; b++) {
      const batch = stream.next(3);
      for (let i = 0; i < 3; i++) {
        const L = batch.seq;
        rows.push({
          input: [...batch.inputs.subarray(i * L, (i + 1) * L)],
          target: [...batch.targets.subarray(i * L, (i + 1) * L)],
          mask: [...batch.mask!.subarray(i * L, (i + 1) * L)],
        });
      }
    }
    expect(ex).toEqual(rows.slice(0, 7));
    expect(runExamples({ ...cfg, seed: 6 }, { kind: task }, 7)).not.toEqual(ex);
    for (const e of ex as SequenceExample[]) expect(new Set(e.mask).size).toBe(2);
  });

  it('the test split is the held-out set the trainer evaluates', () => {
    const cfg = makeRunConfig({ task: 'mqar', variant: 'softmax' });
    const ex = runExamples(cfg, { kind: 'mqar' }, 1000, 'test');
    expect(ex).toHaveLength(cfg.task.kind === 'mqar' ? cfg.task.heldOut : 0);
    const first = makeDataStream(cfg, { kind: 'mqar' }).evalBatches(cfg.batch)[0]!;
    expect(ex[0]!.input).toEqual([...first.inputs.subarray(0, first.seq)]);
  });

  it('ListOps: the real tokens of the stream\'s rows, their label and their text', () => {
    const cfg = makeRunConfig({ task: 'listops', variant: 'momentum', overrides: { seed: 3, batch: 4, task: { trainExamples: 50, testExamples: 10 } } });
    const ex = runExamples(cfg, { kind: 'listops' }, 6) as ClassExample[];
    const stream = makeDataStream(cfg, { kind: 'listops' });
    const b0 = stream.next(4);
    const b1 = stream.next(4);
    const rows = [b0, b1].flatMap((b) =>
      Array.from({ length: b.batch }, (_, i) => ({ input: [...b.inputs.subarray(i * b.seq, i * b.seq + b.lengths![i]!)], label: b.targets[i]! })),
    );
    expect(ex.map(({ input, label }) => ({ input, label }))).toEqual(rows.slice(0, 6));
    for (const e of ex) {
      expect(parseListOps(e.text!)).toEqual(parseListOps(e.input)); // one id per text token
      expect(e.text!.split(' ')).toHaveLength(e.input.length);
      expect(evaluateListOps(parseListOps(e.text!))).toBe(e.label);
      expect(e.input.includes(0)).toBe(false); // no padding
    }
    expect(runExamples(cfg, { kind: 'listops' }, 100, 'test')).toHaveLength(10);
  });
});
