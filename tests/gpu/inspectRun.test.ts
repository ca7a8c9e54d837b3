// The worker's inspector request on a real (tiny) trainer: the held-out example's tokens, the copy
// task's read positions, the matrices per layer and head, and errors for a bad example index, a
// sequence over the limit or a classifier's encoder.
import { describe, expect, it } from 'vitest';
import { makeCopyHeldOut, COPY_HELDOUT_SEED } from '../../src/tasks/copyTask.ts';
import { makeRunConfig } from '../../src/train/presets.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { inspectRun } from '../../src/worker/inspect.ts';
import { copyTargets } from '../../src/worker/inspection.ts';
import { useGpu } from '../helpers.ts';

const gpu = useGpu();

function copyTrainer(variant: 'adaptive' | 'softmax') {
  const cfg = makeRunConfig({
    task: 'copy',
    variant,
    preset: 'tiny',
    overrides: {
      batch: 4,
      steps: 4,
      evalEvery: 2,
      task: { maxLen: 13, symbols: 4, heldOut: 9 },
      model: { layers: 2, heads: 3, headDim: 4, ffn: 12, dropout: 0 },
    },
  });
  return Trainer.create(gpu(), cfg, { kind: 'copy' });
}

describe('copyTargets', () => {
  it('query t of the scored half [n, 2n-1] reads position t - n', () => {
    // n = 3: x = a b c 0 a b c 0 0; scored t = 3..5 must output x[0..2].
    expect(Array.from(copyTargets([0, 0, 0, 1, 1, 1, 0, 0, 0]))).toEqual([-1, -1, -1, 0, 1, 2, -1, -1, -1]);
    expect(Array.from(copyTargets([0, 0, 0]))).toEqual([-1, -1, -1]);
  });
});

describe('inspectRun', () => {
  it('a copy run: tokens of held-out example 6, read positions, [L, H, N, N] weights and beta~', async () => {
    const t = copyTrainer('adaptive');
    try {
      await t.run(2);
      const x = await inspectRun('r1', t, 6);
      const held = makeCopyHeldOut(9, { maxLen: 13, symbols: 4 }, COPY_HELDOUT_SEED);
      expect(Array.from(x.tokens)).toEqual(Array.from(held.inputs.subarray(6 * 13, 7 * 13)));
      expect([x.step, x.example, x.examples, x.layers, x.heads, x.seq, x.imageSide]).toEqual([2, 6, 9, 2, 3, 13, 0]);
      expect(x.task).toBe('copy');
      expect(x.attention.kind).toBe('momentum');
      expect(x.weights.length).toBe(2 * 3 * 13 * 13);
      expect(x.betaTilde?.length).toBe(13);
      // The token each scored query must output is the token at its read position.
      const n = held.lengths[6]!;
      for (let q = 0; q < 13; q++) {
        const r = x.target![q]!;
        if (q >= n && q < 2 * n) {
          expect(r).toBe(q - n);
          expect(x.tokens[r]).toBe(held.targets[6 * 13 + q]);
        } else expect(r).toBe(-1);
      }
      // Momentum rows need not sum to 1; causal rows are zero past the query.
      for (let h = 0; h < 2 * 3; h++) for (let i = 0; i < 13; i++) for (let j = i + 1; j < 13; j++) expect(x.weights[(h * 13 + i) * 13 + j]).toBe(0);
    } finally {
      t.dispose();
    }
  });

  it('refuses an example index out of range, naming the range', async () => {
    const t = copyTrainer('softmax');
    try {
      await expect(inspectRun('r2', t, 9)).rejects.toThrow(/held-out example 9 is out of range: run r2 has 9 \(0 to 8\)/);
      await expect(inspectRun('r2', t, -1)).rejects.toThrow(/out of range/);
      await expect(inspectRun('r2', t, 1.5)).rejects.toThrow(/out of range/);
      const x = await inspectRun('r2', t, 0);
      expect(x.betaTilde).toBeNull();
      // Softmax rows sum to 1.
      for (let r = 0; r < 2 * 3 * 13; r++) {
        const row = x.weights.subarray(r * 13, (r + 1) * 13);
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
      }
    } finally {
      t.dispose();
    }
  });

  it('refuses sequences over the limit, or matrices too large to send, before running anything', async () => {
    const fake = { config: { batch: 1, task: { kind: 'copy' }, model: {} }, data: { seq: 2048 } } as unknown as Trainer;
    await expect(inspectRun('r3', fake, 0)).rejects.toThrow(/2048 tokens, over the inspector's limit of 1024/);
    const huge = { config: { batch: 1, task: { kind: 'mnist' }, model: { layers: 48, heads: 64 } }, data: { seq: 783 } } as unknown as Trainer;
    await expect(inspectRun('r3', huge, 0)).rejects.toThrow(/48 layers x 64 heads x 783\^2 need \d+ MiB, over the inspector's 256 MiB per request/);
    // A classifier's encoder is non-causal over each row's own length: not drawn as a decoder's.
    const encoder = { config: { batch: 1, task: { kind: 'listops' }, model: { layers: 1, heads: 1, encoder: { pooling: 'mean' } } }, data: { seq: 40 } } as unknown as Trainer;
    await expect(inspectRun('r4', encoder, 0)).rejects.toThrow("the inspector draws decoder runs (copy task, MQAR, MNIST); listops trains a non-causal encoder, which it does not inspect yet");
  });
});
