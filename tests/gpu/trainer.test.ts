// The trainer on the engine: records and evaluations, bit-identical resume from a checkpoint (copy
// task and MNIST), live hyper-parameter changes, divergence with rollback to the last good step,
// refusal of runs that cannot fit, and clear errors for damaged or mismatched checkpoints.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/engine/tensor.ts';
import type { ImageSet } from '../../src/tasks/idx.ts';
import { loadMnistFile } from '../../src/tasks/dataNode.ts';
import { makeRunConfig, type RunOverrides } from '../../src/train/presets.ts';
import { estimateMemory } from '../../src/train/memory.ts';
import { Trainer, type TaskData } from '../../src/train/trainer.ts';
import type { MetricsRecord, RunConfig } from '../../src/train/types.ts';
import type { Variant } from '../../src/model/config.ts';
import { useGpu } from '../helpers.ts';

const gpu = useGpu();
let mnist: ImageSet;
beforeAll(async () => {
  mnist = await loadMnistFile();
});

const COPY: TaskData = { kind: 'copy' };

function copyRun(variant: Variant, o: RunOverrides = {}): RunConfig {
  return makeRunConfig({
    task: 'copy',
    variant,
    preset: 'tiny',
    overrides: {
      batch: 4,
      steps: 20,
      evalEvery: 10,
      ...o,
      task: { maxLen: 13, symbols: 4, heldOut: 9, ...(o.task ?? {}) },
      model: { layers: 2, heads: 2, headDim: 4, ffn: 12, dropout: 0.1, ...(o.model ?? {}) },
    },
  });
}

async function snapshot(params: Map<string, Tensor>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of params) out.set(k, await t.read());
  return out;
}

function expectSameState(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, v] of a) {
    const w = b.get(k)!;
    const diff = v.findIndex((x, i) => !Object.is(x, w[i]));
    if (diff >= 0) throw new Error(`${k} differs at ${diff}: ${v[diff]} vs ${w[diff]}`);
  }
}

const lossesOf = (rs: MetricsRecord[]) => rs.map((r) => r.trainLoss);

describe('Trainer', () => {
  it('emits one record per step with evaluations on evaluation steps', async () => {
    const t = Trainer.create(gpu(), copyRun('adaptive'), COPY, { window: 3 });
    try {
      const { records, stop } = await t.run(100);
      expect(stop).toBeNull();
      expect(t.finished).toBe(true);
      expect(records.map((r) => r.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const evals = records.filter((r) => r.testLoss !== null);
      expect(evals.map((r) => r.step)).toEqual([10, 20]);
      for (const r of evals) {
        expect(r.accuracy).toBeGreaterThanOrEqual(0);
        expect(r.accuracy).toBeLessThanOrEqual(1);
        expect(r.sequenceAccuracy).toBeGreaterThanOrEqual(0);
      }
      for (const r of records) {
        expect(Number.isFinite(r.trainLoss) && Number.isFinite(r.gradNorm) && r.tokensPerSec > 0).toBe(true);
        // Adaptive: one mean beta~ per layer after the first, in [0, 1 - delta].
        expect(r.betaTilde).toHaveLength(1);
        expect(r.betaTilde![0]).toBeGreaterThanOrEqual(0);
        expect(r.betaTilde![0]).toBeLessThanOrEqual(1);
      }
      expect(records[19]!.wallSeconds).toBeGreaterThan(records[0]!.wallSeconds);
    } finally {
      t.dispose();
    }
  });

  it.each([
    ['copy', 'momentum-connection'],
    ['mnist', 'softmax'],
    ['listops', 'adaptive'],
    ['images', 'linear'],
  ] as const)('%s %s: 2k steps straight equal k steps, checkpoint, load, k steps (bit for bit)', async (task, variant) => {
    const g = gpu();
    const small = { layers: 1, heads: 2, headDim: 4, ffn: 8, dropout: 0.1 };
    const cfg =
      task === 'copy'
        ? copyRun(variant, { steps: 14, evalEvery: 7 })
        : task === 'listops'
          ? makeRunConfig({ task, variant, preset: 'tiny', overrides: { batch: 3, steps: 14, evalEvery: 7, task: { trainExamples: 30, testExamples: 5 }, model: small } })
          : makeRunConfig({ task, variant, preset: 'tiny', overrides: { batch: 3, steps: 14, evalEvery: 7, task: { subset: 20, testImages: 5 }, model: small } });
    const data: TaskData = task === 'copy' ? COPY : task === 'listops' ? { kind: 'listops' } : { kind: 'mnist', images: mnist };
    const straight = Trainer.create(g, cfg, data, { window: 4 });
    let a: MetricsRecord[];
    let stateA: Map<string, Float32Array>;
    try {
      a = (await straight.run(14)).records;
      stateA = await snapshot(straight.model.params);
    } finally {
      straight.dispose();
    }
    const first = Trainer.create(g, cfg, data, { window: 4 });
    let bytes: Uint8Array;
    let b1: MetricsRecord[];
    try {
      b1 = (await first.run(7)).records;
      bytes = await first.checkpoint();
    } finally {
      first.dispose();
    }
    const resumed = Trainer.fromCheckpoint(g, bytes, data, { window: 4 });
    try {
      expect(resumed.step).toBe(7);
      const b2 = (await resumed.run(100)).records;
      expect(lossesOf([...b1, ...b2])).toEqual(lossesOf(a));
      expect(b2.at(-1)!.testLoss).toBe(a.at(-1)!.testLoss);
      // Classifiers: the training accuracy (on a fixed training sample) at every evaluation, also after the resume.
      const classify = task === 'listops' || task === 'images';
      expect(a.filter((r) => r.trainAccuracy !== undefined).map((r) => r.step)).toEqual(classify ? [7, 14] : []);
      expect(b2.at(-1)!.trainAccuracy).toBe(a.at(-1)!.trainAccuracy);
      expectSameState(await snapshot(resumed.model.params), stateA);
    } finally {
      resumed.dispose();
    }
  });

  it('applies hyper-parameter changes at the next step, records them, and refuses invalid ones', async () => {
    const t = Trainer.create(gpu(), copyRun('momentum', { steps: 6 }), COPY, { window: 4 });
    try {
      await t.run(2);
      expect(() => t.setHypers({ beta: 1 })).toThrow(/beta must be in \[0, 1\)/);
      expect(() => t.setHypers({ gamma: 0 })).toThrow(/gamma must be > 0/);
      expect(() => t.setHypers({ betaTilde: 0.5 })).toThrow(/fixed momentum connection/);
      expect(() => t.setHypers({ lr: -1 })).toThrow(/learning rate/);
      t.setHypers({ beta: 0.3, lr: 5e-4 });
      const { records } = await t.run(4);
      expect(records[0]!.changed).toEqual({ beta: 0.3, lr: 5e-4 });
      expect(records[0]!.lr).toBe(5e-4);
      expect(records.slice(1).every((r) => r.changed === undefined)).toBe(true);
      expect(t.config.model.attention).toEqual({ kind: 'momentum', beta: 0.3, gamma: 0.6 });
    } finally {
      t.dispose();
    }
  });

  it.each([
    [1e4, 1e5, /the training loss became NaN/],
    [50, 15, /the gradient norm .* exceeded the limit/],
  ])('lr %d, gradient-norm limit %d: stops a diverging run with the reason and keeps the state after its last good step', async (lr, limit, why) => {
    const g = gpu();
    const cfg = copyRun('linear', { steps: 30, evalEvery: 30 });
    const t = Trainer.create(g, cfg, COPY, { window: 8, gradNormLimit: limit });
    let kept: Map<string, Float32Array>;
    let good: number;
    try {
      await t.run(3);
      t.setHypers({ lr }); // from step 4 on: the parameters blow up
      const { records, stop } = await t.run(30);
      expect(stop?.kind).toBe('diverged');
      expect(stop!.message).toMatch(/^diverged at step \d+: /);
      expect(stop!.message).toMatch(why);
      good = t.step;
      expect(good).toBeGreaterThan(3); // the rollback replays good steps of the window
      expect(stop!.step).toBe(good + 1);
      expect(records.at(-1)!.step).toBe(good);
      expect(t.finished).toBe(true);
      kept = await snapshot(t.model.params);
    } finally {
      t.dispose();
    }
    // The same run stopped by hand after `good` steps has exactly the kept state.
    const ref = Trainer.create(g, cfg, COPY, { window: 8 });
    try {
      await ref.run(3);
      ref.setHypers({ lr });
      if (good > 3) await ref.run(good - 3);
      expectSameState(await snapshot(ref.model.params), kept);
    } finally {
      ref.dispose();
    }
  });

  it('refuses runs that cannot fit before allocating, with the estimate and the limit', () => {
    const g = gpu();
    const huge = copyRun('softmax', { batch: 4096, task: { maxLen: 128 }, model: { ffn: 4096, heads: 8, headDim: 64 } });
    expect(estimateMemory(huge).largest.bytes).toBeGreaterThan(2 ** 30);
    expect(() => Trainer.create(g, huge, COPY)).toThrow(/largest buffer .* needs [\d.]+ MiB, over the device's limit of [\d.]+ MiB/);
    const big = copyRun('softmax', { batch: 64, task: { maxLen: 128 } });
    expect(() => Trainer.create(g, big, COPY, { memoryBudget: 2 ** 20 })).toThrow(/needs about [\d.]+ MiB of GPU memory .* over the budget of 1.0 MiB/);
    expect(() => copyRun('softmax', { batch: 0 })).toThrow(/batch must be a positive integer/);
  });

  it('reports damaged and mismatched checkpoints clearly', async () => {
    const g = gpu();
    const t = Trainer.create(g, copyRun('momentum'), COPY);
    let bytes: Uint8Array;
    try {
      await t.run(1);
      bytes = await t.checkpoint();
    } finally {
      t.dispose();
    }
    const flipped = bytes.slice();
    flipped[flipped.length - 5]! ^= 0x40;
    expect(() => Trainer.fromCheckpoint(g, flipped, COPY)).toThrow(/checksum|CRC/i);
    expect(() => Trainer.fromCheckpoint(g, bytes.slice(0, bytes.length - 100), COPY)).toThrow(/safetensors/);
    expect(() => Trainer.fromCheckpoint(g, new Uint8Array(3), COPY)).toThrow(/truncated/);
    // The copy task's checkpoint cannot train MNIST without images.
    const other = Trainer.fromCheckpoint(g, bytes, COPY);
    expect(other.step).toBe(1);
    other.dispose();
  });
});
