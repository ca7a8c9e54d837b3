// The paired design of seed groups: runs of one seed start from the same weights wherever the
// variants' shapes agree (all five variants share every parameter) and draw the same batches in
// the same order, on the copy task and MQAR; another seed changes both. An MQAR run trains and
// scores accuracy on the answers.
import { describe, expect, it } from 'vitest';
import { VARIANTS, type Variant } from '../../src/model/config.ts';
import { makeRunConfig } from '../../src/train/presets.ts';
import { Trainer } from '../../src/train/trainer.ts';
import type { RunConfig, TaskName } from '../../src/train/types.ts';
import { useGpu } from '../helpers.ts';

const gpu = useGpu();

function run(task: 'copy' | 'mqar', variant: Variant, seed: number): RunConfig {
  const t = task === 'copy' ? { maxLen: 13, symbols: 4, heldOut: 5 } : { maxLen: 14, pairs: 3, queries: 3, keys: 5, values: 4, heldOut: 5 };
  return makeRunConfig({
    task: task as TaskName,
    variant,
    overrides: { seed, batch: 3, steps: 4, evalEvery: 2, task: t, model: { layers: 2, heads: 2, headDim: 4, ffn: 10 } },
  });
}

async function weights(t: Trainer): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, p] of t.model.params) out.set(k, await p.read());
  return out;
}

describe('seed groups are paired', () => {
  it.each(['copy', 'mqar'] as const)('%s: one seed, the same initial weights and batches for every variant', async (task) => {
    const g = await gpu();
    let ref: Map<string, Float32Array> | null = null;
    let refBatches: Uint32Array[] | null = null;
    for (const variant of VARIANTS) {
      const t = Trainer.create(g, run(task, variant, 7), { kind: task });
      try {
        const w = await weights(t);
        const batches = [t.data.next(3).inputs, t.data.next(3).inputs];
        if (!ref) {
          ref = w;
          refBatches = batches;
          continue;
        }
        expect([...w.keys()], variant).toEqual([...ref.keys()]);
        for (const [k, x] of w) expect(x, `${variant} ${k}`).toEqual(ref.get(k));
        expect(batches, variant).toEqual(refBatches);
      } finally {
        t.dispose();
      }
    }
    const other = Trainer.create(g, run(task, 'softmax', 8), { kind: task });
    try {
      const w = await weights(other);
      expect(w.get('layers.0.attn.qkv.weight')).not.toEqual(ref!.get('layers.0.attn.qkv.weight'));
      expect(other.data.next(3).inputs).not.toEqual(refBatches![0]);
    } finally {
      other.dispose();
    }
  });

  it('an MQAR run evaluates loss and accuracy on the answers', async () => {
    const g = await gpu();
    const t = Trainer.create(g, run('mqar', 'momentum', 1), { kind: 'mqar' });
    try {
      const { records, stop } = await t.run(4);
      expect(stop).toBeNull();
      const evals = records.filter((r) => r.testLoss !== null);
      expect(evals.map((r) => r.step)).toEqual([2, 4]);
      for (const r of evals) {
        expect(r.accuracy).toBeGreaterThanOrEqual(0);
        expect(r.accuracy).toBeLessThanOrEqual(1);
        // 5 held-out sequences x 3 answers: accuracy is a multiple of 1/15
        expect(Math.abs(r.accuracy! * 15 - Math.round(r.accuracy! * 15))).toBeLessThan(1e-6);
        expect(r.testLoss).toBeGreaterThan(0);
      }
      expect(t.data.describe()).toMatch(/MQAR: length 14, 3 pairs, 3 queries, 5 keys, 4 values, 5 held-out sequences/);
    } finally {
      t.dispose();
    }
  });
});
