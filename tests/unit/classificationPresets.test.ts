// The classification tasks' presets and run checks: the paper's Table 1 values and the authors'
// LRA settings, the schedule following the run's length, and errors naming what is wrong.
import { describe, expect, it } from 'vitest';
import { VARIANTS } from '../../src/model/config.ts';
import { checkRunConfig, makeRunConfig } from '../../src/train/presets.ts';
import { estimateMemory } from '../../src/train/memory.ts';

describe('classification presets', () => {
  it('paper: Table 1 (ListOps beta 0.1, gamma 0.6, gamma~ 0.4; Image beta 0.9, gamma 0.9, gamma~ 0.001) and the LRA encoder', () => {
    for (const [task, beta, gamma, gammaTilde] of [
      ['listops', 0.1, 0.6, 0.4],
      ['images', 0.9, 0.9, 0.001],
    ] as const) {
      const cfg = makeRunConfig({ task, variant: 'adaptive', preset: 'paper' });
      expect(cfg.model.attention).toEqual({ kind: 'momentum', beta, gamma });
      expect(cfg.model.connection).toEqual({ kind: 'adaptive', gammaTilde, delta: 1e-3 });
      expect(cfg.model).toMatchObject({ layers: 2, heads: 2, headDim: 32, ffn: 128, encoder: { pooling: 'mean' } });
      expect(cfg.batch).toBe(32);
      expect(cfg.optim.schedule).toEqual({ kind: 'linear', lr: 1e-4, warmup: 1000, total: cfg.steps, minLr: 0 });
    }
    const lo = makeRunConfig({ task: 'listops', variant: 'softmax', preset: 'paper' });
    expect(lo.task).toMatchObject({ minLength: 500, maxLength: 2000, maxDepth: 10, minArgs: 2, maxArgs: 10, trainExamples: 96_000, testExamples: 2000 });
    expect(lo.model).toMatchObject({ vocab: 16, maxSeq: 2000, output: { kind: 'softmax', classes: 10 } });
    const img = makeRunConfig({ task: 'images', variant: 'linear', preset: 'paper' });
    expect(img.model).toMatchObject({ vocab: 256, maxSeq: 784, output: { kind: 'softmax', classes: 10 } });
  });

  it('every preset and variant makes a valid encoder run; a CLS token adds one position', () => {
    for (const task of ['listops', 'images'] as const) {
      for (const preset of ['tiny', 'quick', 'paper']) {
        for (const variant of VARIANTS) expect(() => checkRunConfig(makeRunConfig({ task, variant, preset }))).not.toThrow();
      }
    }
    const cls = makeRunConfig({ task: 'listops', variant: 'linear', overrides: { model: { encoder: { pooling: 'cls' } } } });
    const mean = makeRunConfig({ task: 'listops', variant: 'linear' });
    expect(cls.model.maxSeq).toBe(mean.model.maxSeq + 1);
    expect(estimateMemory(cls).totalBytes).toBeGreaterThan(estimateMemory(mean).totalBytes);
  });

  it('the decay ends at the last step; a run shorter than the warm-up warms up over its first half', () => {
    expect(makeRunConfig({ task: 'listops', variant: 'linear', overrides: { steps: 77 } }).optim.schedule).toMatchObject({ kind: 'linear', total: 77, warmup: 30 });
    expect(makeRunConfig({ task: 'images', variant: 'linear', preset: 'paper', overrides: { steps: 10 } }).optim.schedule).toMatchObject({ total: 10, warmup: 5 });
  });

  it('names a short maxSeq, an unreachable length bound, a wrong output and a missing encoder', () => {
    expect(() => makeRunConfig({ task: 'listops', variant: 'linear', overrides: { model: { maxSeq: 30 } } })).toThrow(
      /model.maxSeq 30 is shorter than the 40 tokens of the task's longest sequence \(40\)/,
    );
    expect(() => makeRunConfig({ task: 'images', variant: 'linear', overrides: { model: { maxSeq: 49, encoder: { pooling: 'cls' } } } })).toThrow(
      /model.maxSeq 49 is shorter than the 49 tokens and the CLS token of the task's longest sequence \(50\)/,
    );
    expect(() => makeRunConfig({ task: 'listops', variant: 'linear', overrides: { task: { minLength: 100, maxLength: 200, maxDepth: 2 } } })).toThrow(
      /no expression can reach minLength 100/,
    );
    const ok = makeRunConfig({ task: 'images', variant: 'linear' });
    expect(() => checkRunConfig({ ...ok, model: { ...ok.model, output: { kind: 'softmax', classes: 7 } } })).toThrow(/needs a 10-way softmax output/);
    const { encoder: _e, ...decoder } = ok.model;
    expect(() => checkRunConfig({ ...ok, model: decoder })).toThrow(/images is a classification task: it needs an encoder/);
    const copy = makeRunConfig({ task: 'copy', variant: 'linear' });
    expect(() => checkRunConfig({ ...copy, model: { ...copy.model, encoder: { pooling: 'mean' } } })).toThrow(/trains a causal decoder; model.encoder must be absent/);
  });
});
