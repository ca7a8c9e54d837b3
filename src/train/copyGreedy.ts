// The copy task scored by greedy generation: each held-out sequence is fed through the recurrent
// steps up to and including its separator (w, 0), then the model writes the copy itself, each
// argmax token fed back as the next input. Teacher-forced accuracy (the trainer's evaluation) sees
// the true previous symbol at every position; this sees the model's own, so one early mistake can
// spoil the rest, as in real use.
import type { Transformer } from '../model/transformer.ts';
import { Sampler, sampleRow } from '../model/sampler.ts';
import { copyAccuracy, type CopyAccuracy, type CopyBatch } from '../tasks/copyTask.ts';

export interface GreedyCopy extends CopyAccuracy {
  /** [count, L]: inputs as generated (the prompt w, 0, then the model's tokens, then padding). */
  outputs: Uint32Array;
  /** [count, L]: the model's prediction for each position's target (0 outside the copy). */
  predictions: Uint32Array;
  tokensPerSec: number;
}

/** Greedy copies of `set` (a held-out CopyBatch), `batch` sequences at a time. */
export async function copyGreedyAccuracy(model: Transformer, set: CopyBatch, batch: number): Promise<GreedyCopy> {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`copyGreedyAccuracy: batch must be a positive integer; got ${batch}`);
  const L = set.maxLen;
  const outputs = new Uint32Array(set.inputs); // [count, L]
  const predictions = new Uint32Array(set.batch * L); // [count, L]
  const width = model.cfg.output.kind === 'softmax' ? model.cfg.output.classes : 0;
  if (width === 0) throw new Error('copyGreedyAccuracy: the copy task needs a softmax output');
  const start = performance.now();
  let generated = 0;
  for (let b0 = 0; b0 < set.batch; b0 += batch) {
    const n = Math.min(batch, set.batch - b0);
    const sampler = new Sampler(model, n);
    try {
      // The last scored position of the group: 2 n_max - 1 (its output is the last copied symbol).
      let last = 0;
      for (let b = 0; b < n; b++) last = Math.max(last, 2 * set.lengths[b0 + b]! - 1);
      const column = new Uint32Array(n); // [n] the tokens fed at one position
      for (let t = 0; t <= last; t++) {
        for (let b = 0; b < n; b++) column[b] = outputs[(b0 + b) * L + t]!;
        const rows = await sampler.step(column).read(); // [n, V]
        for (let b = 0; b < n; b++) {
          const len = set.lengths[b0 + b]!;
          if (t < len || t > 2 * len - 1) continue; // not in the copy
          const token = sampleRow(rows.subarray(b * width, (b + 1) * width), model.cfg.output, 0, null);
          predictions[(b0 + b) * L + t] = token;
          if (t + 1 < L) outputs[(b0 + b) * L + t + 1] = token; // fed back at the next position
          generated++;
        }
      }
    } finally {
      sampler.dispose();
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const acc = copyAccuracy(predictions, set.targets, set.mask, set.batch, L);
  return { ...acc, outputs, predictions, tokensPerSec: seconds > 0 ? generated / seconds : 0 };
}
