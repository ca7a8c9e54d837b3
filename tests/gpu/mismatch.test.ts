// The authors'-code weighting in a model: the config carries it through a checkpoint (and an older
// checkpoint without it reads as the recurrence), the parallel forward uses it, and
// measureMismatch (npm run mismatch) reports what recurrent sampling (12) makes of it: for a
// model trained with it the parallel and recurrent outputs differ, while the parallel forward under
// the recurrence's weights matches the recurrent sampler to rounding; for a recurrence model the
// two losses are one number.
import { describe, expect, it } from 'vitest';
import { attentionWeightsOf } from '../../src/model/config.ts';
import { measureMismatch } from '../../src/train/mismatch.ts';
import { readCheckpointConfig } from '../../src/train/checkpointConfig.ts';
import { makeRunConfig } from '../../src/train/presets.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { useGpu } from '../helpers.ts';

const gpu = useGpu();

/** A copy-task run small enough for SwiftShader in seconds; beta 0.6 makes the weightings differ clearly. */
function tinyRun(weights?: 'recurrence' | 'authors-code', variant: 'momentum' | 'adaptive' | 'softmax' = 'momentum') {
  return makeRunConfig({
    task: 'copy',
    variant,
    overrides: {
      steps: 4,
      evalEvery: 4,
      batch: 4,
      task: { maxLen: 12, symbols: 4, heldOut: 8 },
      model: { layers: 2, heads: 2, headDim: 4, ffn: 16 },
      hypers: { beta: 0.6, gamma: 0.9 },
      ...(weights ? { weights } : {}),
    },
  });
}

describe("authors'-code weights in a model", () => {
  it('round-trip through a checkpoint; a config without them reads as the recurrence', async () => {
    const cfg = tinyRun('authors-code');
    expect(cfg.model.attention).toEqual({ kind: 'momentum', beta: 0.6, gamma: 0.9, weights: 'authors-code' });
    expect(cfg.name).toBe('momentum [authors-code] (copy, tiny)');
    const t = Trainer.create(gpu(), cfg, { kind: 'copy' });
    await t.run(4);
    const bytes = await t.checkpoint();
    t.dispose();
    expect(readCheckpointConfig(bytes).model.attention).toEqual(cfg.model.attention);
    const back = Trainer.fromCheckpoint(gpu(), bytes, { kind: 'copy' });
    expect(back.model.cfg.attention).toEqual(cfg.model.attention);
    back.dispose();

    // The default leaves the field out, as every checkpoint before it did.
    const old = tinyRun();
    expect(old.model.attention).toEqual({ kind: 'momentum', beta: 0.6, gamma: 0.9 });
    expect(attentionWeightsOf(old.model.attention)).toBe('recurrence');
    expect(tinyRun('recurrence').model.attention).toEqual(old.model.attention);
  });

  it('measureMismatch: the parallel forward as trained differs from recurrent sampling; under the recurrence it does not', async () => {
    const t = Trainer.create(gpu(), tinyRun('authors-code'), { kind: 'copy' });
    try {
      await t.run(4);
      const r = await measureMismatch(gpu(), t.model, t.config, t.data, { sequences: 3 });
      expect(r.trained).toBe('authors-code');
      expect(r.sequences).toBe(3);
      expect(r.seq).toBe(12);
      expect(r.maxDiffRecurrence).toBeLessThan(1e-4 * Math.max(1, r.maxOutput));
      expect(r.maxDiffTrained).toBeGreaterThan(1e-3);
      expect(Math.abs(r.checkedLoss.recurrent - r.checkedLoss.recurrence)).toBeLessThan(1e-5);
      expect(r.checkedLoss.trained).not.toBe(r.checkedLoss.recurrence);
      expect(r.parallel.testLoss).not.toBe(r.recurrence.testLoss);
      // The model is left with the weighting it trained with.
      expect(t.model.cfg.attention).toEqual({ kind: 'momentum', beta: 0.6, gamma: 0.9, weights: 'authors-code' });
    } finally {
      t.dispose();
    }
  });

  it('measureMismatch on a recurrence model (adaptive connection): one loss, outputs equal to rounding', async () => {
    const t = Trainer.create(gpu(), tinyRun(undefined, 'adaptive'), { kind: 'copy' });
    try {
      const r = await measureMismatch(gpu(), t.model, t.config, t.data, { sequences: 2 });
      expect(r.trained).toBe('recurrence');
      expect(r.recurrence.testLoss).toBe(r.parallel.testLoss);
      expect(r.maxDiffTrained).toBe(r.maxDiffRecurrence);
      expect(r.maxDiffTrained).toBeLessThan(1e-4 * Math.max(1, r.maxOutput));
    } finally {
      t.dispose();
    }
  });

  it('refuses what does not apply', async () => {
    expect(() => tinyRun('authors-code', 'softmax')).toThrow(/weights 'authors-code' applies to momentum attention; variant 'softmax' uses softmax attention/);
    expect(() => tinyRun('paper' as never)).toThrow(/attention weights must be recurrence or authors-code; got "paper"/);
    const cfg = tinyRun();
    const bad = { ...cfg, model: { ...cfg.model, attention: { kind: 'linear', weights: 'authors-code' } as never } };
    expect(() => Trainer.create(gpu(), bad, { kind: 'copy' })).toThrow(/attention.weights applies to momentum attention only, not linear/);
    const worse = { ...cfg, model: { ...cfg.model, attention: { ...cfg.model.attention, weights: 'both' } as never } };
    expect(() => Trainer.create(gpu(), worse, { kind: 'copy' })).toThrow(/attention.weights must be recurrence or authors-code; got "both"/);
    const soft = Trainer.create(gpu(), tinyRun(undefined, 'softmax'), { kind: 'copy' });
    try {
      await expect(measureMismatch(gpu(), soft.model, soft.config, soft.data)).rejects.toThrow(/this model uses softmax attention/);
    } finally {
      soft.dispose();
    }
  });
});
