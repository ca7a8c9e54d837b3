// The benchmark report's ratios, targets, options and tables: pure functions, no GPU, no timing.
import { describe, expect, it } from 'vitest';
import { benchQuery, defaultBenchOptions, parseBenchQuery } from '../../src/bench/options.ts';
import { trainStepMatmuls } from '../../src/bench/model.ts';
import { integrateOverPrefix } from '../../src/bench/sampling.ts';
import { applyCeiling, checkTargets, emptyReport, formatReport, growth, momentumOverLinear, ratio, type BenchReport } from '../../src/bench/report.ts';
import { trainStepFlops } from '../../src/bench/model.ts';
import type { StepProfile } from '../../src/bench/profile.ts';

function report(over: Partial<BenchReport> = {}): BenchReport {
  return {
    device: { description: 'test adapter', backend: 'swiftshader', runtime: 'test' },
    options: {},
    matmul: [
      { shape: '1024x192x64', role: 'qkv forward', transA: false, transB: false, oursGflops: 2, tfjsGflops: 1 },
      { shape: '64x192x1024', role: 'qkv dW', transA: true, transB: false, oursGflops: 1, tfjsGflops: 1.25 },
    ],
    trainStep: { config: { layers: 2 }, oursMs: 100, tfjsMs: 150, notes: [] },
    attention: [
      { kind: 'softmax', seq: 256, ms: 10, peakBytes: 2 ** 20 },
      { kind: 'linear', seq: 256, ms: 4, peakBytes: 2 ** 21 },
      { kind: 'momentum', seq: 256, ms: 4.2, peakBytes: 2 ** 21 },
      { kind: 'linear', seq: 512, ms: 8, peakBytes: 2 ** 22 },
      { kind: 'momentum', seq: 512, ms: 10, peakBytes: 2 ** 22 },
    ],
    attentionSkipped: [{ kind: 'softmax', fromSeq: 512 }],
    sampling: {
      level: 'attention',
      seq: 784,
      batch: 8,
      recurrentTokensPerSec: 600,
      kvCacheTokensPerSec: 100,
      noCacheTokensPerSec: 10,
      recurrentImagesPerSec: 600 / 784,
      kvCacheImagesPerSec: 100 / 784,
      noCacheImagesPerSec: 10 / 784,
      notes: [],
    },
    notes: [],
    ...over,
  };
}

describe('benchmark ratios and targets', () => {
  it('takes ratios only of two measured positive figures', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
    expect(ratio(3, undefined)).toBeNull();
  });

  it('gives growth from each kind’s smallest N and momentum / linear per N', () => {
    const r = report();
    expect(growth(r.attention, 'linear', 512)).toBe(2);
    expect(growth(r.attention, 'momentum', 512)).toBeCloseTo(10 / 4.2);
    expect(growth(r.attention, 'softmax', 512)).toBeNull();
    expect(momentumOverLinear(r.attention, 512)).toBe(1.25);
  });

  it('checks each target and says by how much it misses', () => {
    const t = checkTargets(report());
    const by = Object.fromEntries(t.map((c) => [c.name.split(':')[0], c]));
    expect(by['training step']).toMatchObject({ value: 1.5, holds: false });
    expect(by['training step']!.margin).toBeCloseTo(0.75);
    expect(by['matmul']).toMatchObject({ value: 0.8, holds: false }); // the worst shape decides
    expect(by['attention']).toMatchObject({ value: 1.25, holds: false });
    expect(by['attention']!.margin).toBeCloseTo(1.1 / 1.25);
    expect(by['sampling']).toMatchObject({ value: 6, holds: true });
    const none = checkTargets(report({ trainStep: null, sampling: null, matmul: [], attention: [] }));
    expect(none.every((c) => c.holds === null && c.value === null)).toBe(true);
  });

  it('takes momentum / linear from the interleaved pairs where the report has them: the worst N’s median', () => {
    const paired = [
      { seq: 256, ratios: [1.02, 1.05, 1.04], median: 1.04, low: NaN, high: NaN },
      { seq: 512, ratios: [1.12, 1.07, 1.09, 1.2, 1.06, 1.08], median: 1.085, low: 1.06, high: 1.2 },
    ];
    const t = checkTargets(report({ attentionPaired: paired }));
    const att = t.find((c) => c.name.startsWith('attention'))!;
    expect(att.name).toMatch(/median of interleaved pairs/);
    expect(att).toMatchObject({ value: 1.085, holds: true }); // not the separate medians' 1.25
    const text = formatReport(report({ attentionPaired: paired }));
    expect(text).toContain('| 256 | 3 | 1.040 | - | 0 |');
    expect(text).toContain('| 512 | 6 | 1.085 | 1.060 .. 1.200 | 2 |');
  });

  it('takes the sampling ratio as the median of the interleaved pairs’ ratios where the report has them', () => {
    const base = report();
    const t = checkTargets(report({ sampling: { ...base.sampling!, pairRatios: [4.2, 5.6, 5.1] } }));
    const s = t.find((c) => c.name.startsWith('sampling'))!;
    expect(s.name).toMatch(/median of interleaved pairs/);
    expect(s).toMatchObject({ value: 5.1, holds: true });
  });

  it('prints every section with its ratios and the skipped cells', () => {
    const text = formatReport(report());
    expect(text).toContain('| 1024x192x64 | qkv forward | 2.00 | 1.00 | 2.00 |');
    expect(text).toContain('64x192x1024 (A^T)');
    expect(text).toContain('| 100.0 | 150.0 | 1.50 |');
    expect(text).toContain('| 512 | skipped (over budget) | 8.0 (2.00x) | 10.0 (2.38x) | 1.25 | 2 |');
    expect(text).toContain('| softmax + KV cache | 100.0 | 0.128 | 6.00 |');
    expect(text).toMatch(/misses by 1\.33x/);
  });
});

describe('benchmark options and shapes', () => {
  it('round-trips options through the query string and refuses bad values', () => {
    const o = { ...defaultBenchOptions, maxN: 1024, reps: 2, sections: ['matmul', 'attention'] as const };
    expect(parseBenchQuery(benchQuery({ ...o, sections: [...o.sections] }))).toEqual({ ...o, sections: ['matmul', 'attention'] });
    expect(benchQuery(defaultBenchOptions)).toBe('');
    expect(() => parseBenchQuery('?reps=0')).toThrow(/reps must be a positive number/);
    expect(() => parseBenchQuery('?sections=matmul,nope')).toThrow(/unknown section 'nope'/);
    expect(() => parseBenchQuery('?minN=4096&maxN=256')).toThrow(/minN 4096 is larger/);
  });

  it('lists the training step’s products with their transposes', () => {
    const shapes = trainStepMatmuls();
    expect(shapes.find((s) => s.role === 'qkv forward')).toMatchObject({ m: 1024, n: 192, k: 64 });
    expect(shapes.find((s) => s.role === 'qkv dW')).toMatchObject({ m: 64, n: 192, k: 1024, transA: true });
    expect(shapes.find((s) => s.role === 'ffn.2 dX')).toMatchObject({ m: 1024, n: 128, k: 64, transB: true });
  });
});

describe('the no-cache sampler’s integrated time', () => {
  it('sums a per-token cost measured at a few prefix lengths over every token', async () => {
    const asked: number[] = [];
    const linear = async (len: number) => {
      asked.push(len);
      return 2 * len;
    };
    // Exact for a cost linear in t: sum_{t=1}^{100} 2t = 100 * 101.
    expect(await integrateOverPrefix(100, 4, linear)).toBeCloseTo(100 * 101);
    expect(asked).toEqual([1, 25, 50, 75, 100]);
    expect(await integrateOverPrefix(3, 8, async () => 1)).toBe(3); // lengths repeat when seq < points
  });
});

describe('the FMA ceiling and the per-kernel profile in the report', () => {
  const ceiling = { fmaGflops: 8, workgroups: 64, workgroupSize: 64, iterations: 1024, ms: 100, flops: 8e8 };
  const profile: StepProfile = {
    step: 'training step',
    method: 'timestamps',
    dispatches: 3,
    stepMs: 5,
    kernelMs: 4,
    rows: [
      { kernel: 'matmul:matmul_tiled', timedAlone: false, calls: 2, ms: 3, share: 0.75, flops: 12e6, bytes: 3e6, gflops: 4, gbps: 1, fraction: null },
      { kernel: 'elementwise:relu', timedAlone: true, calls: 1, ms: 1, share: 0.25, flops: null, bytes: 2e6, gflops: null, gbps: 2, fraction: null },
    ],
    notes: ['GPU timestamps'],
  };

  it('keeps every key of today’s report and adds ceiling and profile', () => {
    const r = emptyReport({ description: 'd', backend: 'gpu', runtime: 'r' }, {});
    expect(Object.keys(r)).toEqual(
      expect.arrayContaining(['device', 'options', 'matmul', 'trainStep', 'attention', 'attentionSkipped', 'sampling', 'notes', 'ceiling', 'profile']),
    );
    expect(r.ceiling).toBeNull();
    expect(r.profile).toBeNull();
  });

  it('gives every throughput as a fraction of the ceiling', () => {
    const r = applyCeiling(
      report({
        ceiling,
        trainStep: { config: {}, oursMs: 100, tfjsMs: null, flops: { matmul: 3e8, attention: 1e8, total: 4e8 }, notes: [] },
        profile: { train: structuredClone(profile), sample: null },
      }),
    );
    expect(r.matmul.map((m) => m.fraction)).toEqual([2 / 8, 1 / 8]);
    expect(r.trainStep!.oursGflops).toBeCloseTo(4); // 4e8 flops in 100 ms
    expect(r.trainStep!.fraction).toBeCloseTo(0.5);
    expect(r.profile!.train!.rows.map((x) => x.fraction)).toEqual([0.5, null]);
    const text = formatReport(r);
    expect(text).toContain('FMA ceiling: 8.00 GFLOP/s');
    expect(text).toContain('| 1024x192x64 | qkv forward | 2.00 | 1.00 | 2.00 | 25.0% |');
    expect(text).toContain('| 100.0 | - | - | 4.00 | 50.0% |');
    expect(text).toContain('| matmul:matmul_tiled | 2 | 3.000 | 75.0% | 4.00 | 1.00 | 50.0% |');
    expect(text).toContain('| elementwise:relu (alone) | 1 | 1.000 | 25.0% | - | 2.00 | - |');
  });

  it("tables the variant's kernels on 1024^3, and checks the real-GPU target on a GPU only", () => {
    const kernels = () => [
      { shape: '1024x1024x1024', role: 'square', entry: 'matmul_tiled' as const, isDefault: true, gflops: 2 },
      { shape: '1024x1024x1024', role: 'square', entry: 'matmul_subgroup' as const, isDefault: false, gflops: 3 },
      { shape: '1024x192x64', role: 'qkv forward', entry: 'matmul_tiled' as const, isDefault: true, gflops: 4 },
      { shape: '1024x192x64', role: 'qkv forward', entry: 'matmul_subgroup' as const, isDefault: false, gflops: 1 },
    ];
    const gpu = applyCeiling(report({ ceiling, matmulKernels: kernels(), device: { description: 'a GPU', backend: 'gpu', runtime: 'test' } }));
    expect(gpu.matmulKernels!.map((m) => m.fraction)).toEqual([2 / 8, 3 / 8, 4 / 8, 1 / 8]);
    const text = formatReport(gpu);
    expect(text).toContain('## 1b. Matmul kernels of the gpu variant, side by side');
    expect(text).toContain('| 1024x1024x1024 | square | matmul_tiled (default) | 2.00 | 1.00 | 25.0% |');
    expect(text).toContain('| 1024x1024x1024 | square | matmul_subgroup | 3.00 | 1.50 | 37.5% |');
    // Each shape against its own default.
    expect(text).toContain('| 1024x192x64 | qkv forward | matmul_subgroup | 1.00 | 0.25 | 12.5% |');
    const target = checkTargets(gpu).find((t) => t.name.startsWith('matmul 1024x1024x1024 on a GPU'))!;
    expect(target).toMatchObject({ value: 0.25, target: 0.3, holds: false });
    // SwiftShader is not the real GPU the target is about; without a ceiling there is no figure.
    expect(checkTargets(applyCeiling(report({ ceiling, matmulKernels: kernels() }))).some((t) => t.name.includes('on a GPU'))).toBe(false);
    const noCeiling = applyCeiling(report({ matmulKernels: kernels(), device: { description: 'a GPU', backend: 'gpu', runtime: 'test' } }));
    expect(checkTargets(noCeiling).find((t) => t.name.includes('on a GPU'))).toMatchObject({ value: null, holds: null });
  });

  it('leaves fractions empty without a ceiling', () => {
    const r = applyCeiling(report({ trainStep: { config: {}, oursMs: 100, tfjsMs: null, notes: [] } }));
    expect(r.matmul.every((m) => m.fraction === null)).toBe(true);
    expect(r.trainStep!.oursGflops).toBeNull();
    expect(formatReport(r)).not.toContain('FMA ceiling');
  });

  it('counts a training step’s flops: three products per linear and the attention', () => {
    const f = trainStepFlops();
    // BENCH_MODEL: width 64, ffn 128, 11 classes, 2 layers; R = 8 * 128 rows.
    const linear = 2 * (64 * 192 + 64 * 128 + 128 * 64 + 64 * 64) + 64 * 11;
    expect(f.matmul).toBe(6 * 1024 * linear);
    expect(f.attention).toBe(2 * 3 * 4 * 1024 * 4 * 16 * 16);
    expect(f.total).toBe(f.matmul + f.attention);
  });
});

describe('the ListOps encoder step table', () => {
  it('gives each kind its time, peak memory and softmax / this ratios', () => {
    const text = formatReport(
      report({
        encoderStep: [
          { kind: 'softmax', seq: 2000, batch: 32, ms: 900, peakBytes: 300 * 2 ** 20 },
          { kind: 'linear', seq: 2000, batch: 32, ms: 300, peakBytes: 100 * 2 ** 20 },
          { kind: 'momentum', seq: 2000, batch: 32, ms: 360, peakBytes: 120 * 2 ** 20 },
        ],
      }),
    );
    expect(text).toMatch(/## 6\. One ListOps training step, encoder .*N = 2000, batch 32/);
    expect(text).toMatch(/\| momentum \| 360\.0 \| 120\.00 \| 2\.50 \| 2\.50 \|/);
    expect(text).toMatch(/\| softmax \| 900\.0 \| 300\.00 \| 1\.00 \| 1\.00 \|/);
    expect(formatReport(report())).not.toMatch(/ListOps/);
  });
});
