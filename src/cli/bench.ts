// `npm run bench`: our engine alone in Node (Dawn): the matmul rate on the shapes of a training
// step, one training step of the small linear-attention transformer, one attention layer forward +
// backward for softmax, linear and momentum at N = 256 ... 8192 (each one's growth from N = 256,
// the momentum/linear ratio and peak memory), sampling throughput, and one training step of the
// ListOps encoder at N = 2000 per attention kind (time, peak memory, softmax / this). The same measuring code
// (src/bench/) runs in the browser beside TensorFlow.js with `npm run bench:browser`.
//
//   npm run bench -- [--heads 4] [--dim 32] [--max-n 8192] [--budget 60] [--reps 3]
//       [--sections matmul,train,attention,sampling,encoder] [--sample-seq 784]
//       [--encoder-seq 2000] [--encoder-batch 32] [--out FILE]
//       [--profile [--profile-method auto|timestamps|alone]]
//
// Every run first measures the device's FMA ceiling (src/bench/ceiling.ts) and reports each
// throughput also as a fraction of it. --profile adds a per-kernel profile of one training step
// and one sampling step (src/bench/profile.ts); alone (without --sections) it runs only that.
import { writeFileSync } from 'node:fs';
import { Gpu } from '../engine/gpu.ts';
import { matmulGflops } from '../engine/kernels/matmul.ts';
import { SQUARE, matmulKernels } from '../bench/matmulKernels.ts';
import { attentionSweep, pairedSweep } from '../bench/attention.ts';
import { encoderStepBench } from '../bench/encoderStep.ts';
import { shapeName, trainStepFlops, trainStepMatmuls } from '../bench/model.ts';
import { SECTIONS, defaultBenchOptions, type BenchOptions, type Section } from '../bench/options.ts';
import { fmaCeiling } from '../bench/ceiling.ts';
import type { ProfileMethod } from '../bench/profile.ts';
import { profileSampleStep, profileTrainStep } from '../bench/profileSteps.ts';
import { adapterFacts, applyCeiling, checkTargets, emptyReport, formatReport } from '../bench/report.ts';
import { attentionSamplingBench, defaultSamplingOptions, samplingBench } from '../bench/sampling.ts';
import { oursTrainStep } from '../bench/trainStep.ts';
import { UsageError, parse, runMain } from './common.ts';

const USAGE = `usage: npm run bench -- [--heads N] [--dim N] [--max-n N] [--budget SECONDS] [--reps N] [--pairs N]
    [--sections ${SECTIONS.join(',')}] [--sample-seq N] [--sample-batch N] [--sample-pairs N]
    [--encoder-seq N] [--encoder-batch N] [--out FILE]
    [--profile [--profile-method auto|timestamps|alone]]`;
const METHODS = ['auto', 'timestamps', 'alone'] as const;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a positive number; got '${raw}'`);
  return v;
}

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), {
    heads: { type: 'string' },
    dim: { type: 'string' },
    'max-n': { type: 'string' },
    budget: { type: 'string' },
    reps: { type: 'string' },
    pairs: { type: 'string' },
    sections: { type: 'string' },
    'sample-seq': { type: 'string' },
    'sample-batch': { type: 'string' },
    'sample-pairs': { type: 'string' },
    'encoder-seq': { type: 'string' },
    'encoder-batch': { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'boolean' },
    'profile-method': { type: 'string' },
  });
  const d = defaultBenchOptions;
  const method = (v['profile-method'] ?? 'auto') as (typeof METHODS)[number];
  if (!(METHODS as readonly string[]).includes(method)) throw new UsageError(`--profile-method must be one of ${METHODS.join(', ')}; got '${method}'`);
  if (v['profile-method'] !== undefined && !v.profile) throw new UsageError('--profile-method needs --profile');
  const sections = (v.sections?.split(',').filter(Boolean) ?? (v.profile ? [] : [...SECTIONS])) as Section[];
  for (const s of sections) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new UsageError(`unknown section '${s}' (use ${SECTIONS.join(', ')})`);
  }
  const o: BenchOptions = {
    ...d,
    sections,
    heads: positive('heads', v.heads, d.heads),
    dim: positive('dim', v.dim, d.dim),
    maxN: positive('max-n', v['max-n'], d.maxN),
    budget: positive('budget', v.budget, d.budget),
    reps: positive('reps', v.reps, d.reps),
    pairs: positive('pairs', v.pairs, d.pairs),
    sampleSeq: positive('sample-seq', v['sample-seq'], d.sampleSeq),
    sampleBatch: positive('sample-batch', v['sample-batch'], d.sampleBatch),
    samplePairs: positive('sample-pairs', v['sample-pairs'], d.samplePairs),
    encoderSeq: positive('encoder-seq', v['encoder-seq'], d.encoderSeq),
    encoderBatch: positive('encoder-batch', v['encoder-batch'], d.encoderBatch),
  };
  const FLAGS = { encoderSeq: 'encoder-seq', encoderBatch: 'encoder-batch', pairs: 'pairs', samplePairs: 'sample-pairs' } as const;
  for (const k of ['encoderSeq', 'encoderBatch', 'pairs', 'samplePairs'] as const) {
    if (!Number.isInteger(o[k])) throw new UsageError(`--${FLAGS[k]} must be an integer; got ${o[k]}`);
  }
  if (o.encoderBatch > o.encoderSeq) throw new UsageError(`--encoder-batch ${o.encoderBatch} exceeds --encoder-seq ${o.encoderSeq} (row b holds seq - b tokens)`);
  const log = (line: string) => process.stderr.write(line + '\n');
  const gpu = await Gpu.open({ timestamps: Boolean(v.profile) });
  const report = emptyReport(
    { description: gpu.description, backend: gpu.backend, runtime: `node ${process.versions.node} (Dawn, the webgpu package)` },
    o,
    ['our engine only; `npm run bench:browser` measures TensorFlow.js beside it'],
  );

  report.adapter = adapterFacts(gpu.adapter);
  log(`device: ${gpu.description} (${gpu.backend})`);
  try {
    report.ceiling = await fmaCeiling(gpu);
    log(`  FMA ceiling: ${report.ceiling.fmaGflops.toFixed(2)} GFLOP/s`);
    if (sections.includes('matmul')) {
      for (const s of trainStepMatmuls()) {
        const { gflops } = await matmulGflops(gpu, s.m, s.n, s.k, o.matmulIters, { transA: s.transA, transB: s.transB });
        report.matmul.push({ shape: shapeName(s), role: s.role, transA: s.transA, transB: s.transB, oursGflops: gflops, tfjsGflops: null });
        log(`  matmul ${shapeName(s)} ${s.role}: ${gflops.toFixed(2)} GFLOP/s`);
      }
      log(`  matmul kernels side by side (${SQUARE}^3 and the step's shapes):`);
      report.matmulKernels = await matmulKernels(gpu, o.matmulIters, log);
    }
    if (sections.includes('train')) {
      const t = await oursTrainStep(gpu, o.reps);
      report.trainStep = {
        config: { model: 'src/bench/model.ts BENCH_MODEL' },
        oursMs: t.ms,
        tfjsMs: null,
        oursLoss: t.loss,
        flops: trainStepFlops(),
        notes: [],
      };
      log(`  training step: ${t.ms.toFixed(1)} ms`);
    }
    if (sections.includes('attention')) {
      log(`attention: causal, batch 1, heads ${o.heads}, dim ${o.dim}, forward + backward, median of ${o.reps}`);
      const ao = { heads: o.heads, dim: o.dim, minN: o.minN, maxN: o.maxN, budget: o.budget, reps: o.reps };
      const { rows, skipped } = await attentionSweep(gpu, ao, log);
      report.attention = rows;
      report.attentionSkipped = skipped;
      log(`attention: momentum / linear from ${o.pairs} interleaved pairs at each N`);
      report.attentionPaired = await pairedSweep(gpu, ao, o.pairs, log);
    }
    if (sections.includes('sampling')) {
      const so = { ...defaultSamplingOptions, seq: o.sampleSeq, batch: o.sampleBatch, pairs: o.samplePairs };
      report.sampling = await samplingBench(gpu, so, log);
      report.sampling.attentionLevel = await attentionSamplingBench(gpu, so, log);
    }
    if (sections.includes('encoder')) {
      log(`encoder: one ListOps training step (paper preset model), N = ${o.encoderSeq}, batch ${o.encoderBatch}, median of ${o.reps}`);
      report.encoderStep = await encoderStepBench(gpu, { seq: o.encoderSeq, batch: o.encoderBatch, reps: o.reps }, log);
    }
    if (v.profile) {
      log('profile: one training step and one sampling step, per kernel');
      const po = { method: method as ProfileMethod | 'auto', reps: o.reps, sample: { batch: o.sampleBatch }, ceilingGflops: report.ceiling.fmaGflops };
      const train = await profileTrainStep(gpu, po);
      log(`  ${train.step}: ${train.dispatches} dispatches, ${train.stepMs.toFixed(1)} ms (${train.method})`);
      const sample = await profileSampleStep(gpu, po);
      log(`  ${sample.step}: ${sample.dispatches} dispatches, ${sample.stepMs.toFixed(1)} ms (${sample.method})`);
      report.profile = { train, sample };
    }
    applyCeiling(report);
  } finally {
    gpu.destroy();
  }
  console.log('\n' + formatReport(report));
  if (v.out) {
    writeFileSync(v.out, JSON.stringify({ ...report, targets: checkTargets(report) }, null, 2) + '\n');
    console.log(`\nwrote ${v.out}`);
  }
}

runMain(USAGE, main);
