// The benchmark's measuring tools on SwiftShader: the FMA ceiling runs and counts its flops; the
// per-kernel profile of a tiny training step and a tiny sampling step lists every kernel the step
// dispatches, with positive times and calls that add up to the step's dispatch count, both with
// GPU timestamps and with each kernel replayed alone. No timing is asserted beyond "positive".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gpu, type DispatchInfo } from '../../src/engine/gpu.ts';
import { pairedAttentionRatio } from '../../src/bench/attention.ts';
import { defaultSamplingOptions, samplingBench } from '../../src/bench/sampling.ts';
import { fmaCeiling, fmaFlops } from '../../src/bench/ceiling.ts';
import { BENCH_MODEL } from '../../src/bench/model.ts';
import { dispatchFlops, type StepProfile } from '../../src/bench/profile.ts';
import { profileSampleStep, profileTrainStep, type ProfileSteps } from '../../src/bench/profileSteps.ts';
import { trainStepRunner } from '../../src/bench/trainStep.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await Gpu.open({ timestamps: true });
});
afterAll(() => gpu?.destroy());

const TINY: ProfileSteps = {
  train: { cfg: { ...BENCH_MODEL, layers: 1, heads: 2, headDim: 4, ffn: 16, maxSeq: 8 }, batch: 2, seq: 7 },
  sample: { batch: 2, heads: 2, dim: 4, seq: 64 },
  reps: 2,
};

/** Labels and count of one step's dispatches, seen through the observer. */
async function dispatchesOf(step: () => void): Promise<string[]> {
  const seen: string[] = [];
  step();
  await gpu.sync();
  const before = gpu.dispatchCount;
  gpu.observer = (d: DispatchInfo) => void seen.push(d.label);
  step();
  gpu.observer = null;
  await gpu.sync();
  expect(gpu.dispatchCount - before).toBe(seen.length);
  return seen;
}

function expectComplete(p: StepProfile, labels: string[]): void {
  expect(p.dispatches).toBe(labels.length);
  expect(p.rows.reduce((s, r) => s + r.calls, 0)).toBe(labels.length);
  expect(new Set(p.rows.map((r) => r.kernel))).toEqual(new Set(labels));
  for (const r of p.rows) {
    expect(r.ms, r.kernel).toBeGreaterThan(0);
    expect(r.calls).toBe(labels.filter((l) => l === r.kernel).length);
  }
  expect(p.rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 6);
  expect(p.stepMs).toBeGreaterThan(0);
}

describe('FMA ceiling', () => {
  it('runs the FMA shader and counts 8 flops per vec4 FMA', async () => {
    const c = await fmaCeiling(gpu, { workgroups: 3, minMs: 5, reps: 1 });
    expect(c.workgroups).toBe(3);
    expect(c.flops).toBe(fmaFlops(3, c.iterations));
    expect(c.flops).toBe(3 * 64 * c.iterations * 64);
    expect(c.fmaGflops).toBeGreaterThan(0);
    expect(c.fmaGflops).toBeCloseTo(c.flops / (c.ms * 1e6), 6);
  });
});

describe('per-kernel profile', () => {
  it('has timestamp-query on SwiftShader when asked for, and not otherwise', async () => {
    expect(gpu.device.features.has('timestamp-query')).toBe(true);
    const plain = await Gpu.open();
    try {
      expect(plain.device.features.has('timestamp-query')).toBe(false);
    } finally {
      plain.destroy();
    }
  });

  it('profiles every kernel of a tiny training step, with timestamps and replayed alone', async () => {
    const runner = trainStepRunner(gpu, TINY.train!.cfg, TINY.train!.batch, TINY.train!.seq);
    let labels: string[];
    try {
      labels = await dispatchesOf(() => runner.step());
    } finally {
      runner.dispose();
    }
    expect(labels.some((l) => l.startsWith('matmul:matmul_'))).toBe(true);
    const ts = await profileTrainStep(gpu, { ...TINY, method: 'timestamps', ceilingGflops: 7 });
    expect(ts.method).toBe('timestamps');
    expectComplete(ts, labels);
    const mm = ts.rows.filter((r) => r.kernel.startsWith('matmul:matmul_'));
    expect(mm.every((r) => r.flops! > 0 && r.gflops! > 0 && r.fraction === r.gflops! / 7)).toBe(true);
    const alone = await profileTrainStep(gpu, { ...TINY, method: 'alone' });
    expect(alone.method).toBe('alone');
    expectComplete(alone, labels);
    expect(alone.rows.every((r) => r.fraction === null)).toBe(true); // no ceiling given
  });

  it('profiles every kernel of a tiny sampling step', async () => {
    const p = await profileSampleStep(gpu, TINY);
    expect(p.method).toBe('timestamps');
    expect(p.dispatches).toBeGreaterThan(5);
    expect(p.rows.reduce((s, r) => s + r.calls, 0)).toBe(p.dispatches);
    for (const r of p.rows) expect(r.ms, r.kernel).toBeGreaterThan(0);
  });

  it('refuses a profile of no steps before running one', async () => {
    await expect(profileSampleStep(gpu, { ...TINY, reps: 0 })).rejects.toThrow(/profile: reps must be a positive integer; got 0/);
  });

  it('counts a matmul’s flops from its uniforms, batch and split-K included', () => {
    const params = { m: 5, n: 7, k: 9, splits: 3 };
    expect(dispatchFlops({ label: 'matmul:matmul_tiled', params, workgroups: [1, 1, 6] })).toBe(2 * 5 * 7 * 9 * 2);
    expect(dispatchFlops({ label: 'matmul:sum_rows', params, workgroups: [1, 1, 1] })).toBeNull();
    expect(dispatchFlops({ label: 'matmul:matmul_tiled', params: null, workgroups: [1, 1, 1] })).toBeNull();
  });
});

describe('momentum / linear from interleaved pairs', () => {
  it('times both kinds once per pair and gives the median with its order-statistic interval', async () => {
    const o = { heads: 1, dim: 8, minN: 37, maxN: 37, budget: 10, reps: 1 };
    const row = await pairedAttentionRatio(gpu, 37, o, 6);
    expect(row.seq).toBe(37);
    expect(row.ratios).toHaveLength(6);
    for (const r of row.ratios) expect(Number.isFinite(r) && r > 0).toBe(true);
    const sorted = [...row.ratios].sort((a, b) => a - b);
    expect(row.median).toBeCloseTo((sorted[2]! + sorted[3]!) / 2, 12);
    expect([row.low, row.high]).toEqual([sorted[0], sorted[5]]); // n = 6: the whole range, 96.9%
    await expect(pairedAttentionRatio(gpu, 37, o, 0)).rejects.toThrow(/pairs must be a positive integer/);
  });
});

describe('sampling speed from interleaved pairs of whole samples', () => {
  it('samples each form once per pair and reports medians and each pair’s ratio', async () => {
    const o = { ...defaultSamplingOptions, batch: 1, heads: 1, dim: 4, seq: 9, noCachePoints: 2, pairs: 2 };
    const r = await samplingBench(gpu, o);
    expect(r.pairRatios).toHaveLength(2);
    for (const x of r.pairRatios!) expect(Number.isFinite(x) && x > 0).toBe(true);
    expect(r.recurrentImagesPerSec).toBeGreaterThan(0);
    expect(r.kvCacheImagesPerSec).toBeGreaterThan(0);
    await expect(samplingBench(gpu, { ...o, pairs: 0 })).rejects.toThrow(/sampling pairs must be a positive integer/);
  });
});
