// The browser benchmark page: our engine and TensorFlow.js's WebGPU backend on this page's
// adapter, section by section (matmul, training step, attention, sampling), after the device's FMA
// ceiling. Progress goes to the console and the page; the report ends in `window.__bench` for the
// headless runner (src/cli/benchBrowser.ts), which prints the tables and writes the JSON. The
// page is also part of the site (/bench.html): there it waits for its Run button (the runner
// passes `run=1` to start at once), shows the adapter's name, features and limits and the same
// tables, and offers the JSON as a download.
import { Gpu } from '../engine/gpu.ts';
import { matmulGflops } from '../engine/kernels/matmul.ts';
import { SQUARE, matmulKernels } from './matmulKernels.ts';
import { attentionSweep, pairedSweep } from './attention.ts';
import { fmaCeiling } from './ceiling.ts';
import { BENCH_BATCH, BENCH_LR, BENCH_MODEL, BENCH_SEQ, shapeName, trainStepFlops, trainStepMatmuls } from './model.ts';
import { parseBenchQuery } from './options.ts';
import { profileSteps } from './profileSteps.ts';
import { adapterFacts, applyCeiling, checkTargets, emptyReport, formatReport, type BenchReport, type TargetCheck } from './report.ts';
import { attentionSamplingBench, defaultSamplingOptions, samplingBench } from './sampling.ts';
import { openTfjs, tfjsMatmulGflops, tfjsTrainStep } from './tfjs.ts';
import { oursTrainStep } from './trainStep.ts';

export type BenchState =
  | { state: 'running' }
  | { state: 'done'; report: BenchReport & { targets: TargetCheck[] }; text: string }
  | { state: 'error'; message: string };

declare global {
  interface Window {
    __bench?: BenchState;
  }
}

const logEl = document.getElementById('log');
const resultEl = document.getElementById('result');
const deviceEl = document.getElementById('device');
const runButton = document.getElementById('run') as HTMLButtonElement | null;
const downloadButton = document.getElementById('download') as HTMLButtonElement | null;
const profileBox = document.getElementById('profile') as HTMLInputElement | null;
const query = new URLSearchParams(location.search);
if (profileBox && query.get('profile') === '1') profileBox.checked = true;
function log(line: string): void {
  console.log(`[bench] ${line}`);
  if (logEl) logEl.textContent += line + '\n';
}

async function run(): Promise<void> {
  window.__bench = { state: 'running' };
  if (runButton) runButton.disabled = true;
  if (logEl) logEl.textContent = '';
  const o = parseBenchQuery(location.search);
  // profile=1 in the query (or the page's checkbox): a per-kernel profile after the sections.
  const wantProfile = query.get('profile') === '1' || Boolean(profileBox?.checked);
  const gpu = await Gpu.open({ timestamps: wantProfile });
  const report = emptyReport({ description: gpu.description, backend: gpu.backend, runtime: navigator.userAgent }, o);
  report.adapter = adapterFacts(gpu.adapter);
  if (deviceEl) {
    deviceEl.textContent =
      `${gpu.description} (${gpu.backend})\nfeatures: ${report.adapter.features.join(', ')}\n` +
      Object.entries(report.adapter.limits)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n');
  }

  log(`device: ${gpu.description} (${gpu.backend})`);
  report.ceiling = await fmaCeiling(gpu);
  log(`FMA ceiling: ${report.ceiling.fmaGflops.toFixed(2)} GFLOP/s`);
  const needsPeer = o.sections.includes('matmul') || o.sections.includes('train');
  if (needsPeer) {
    const peer = await openTfjs();
    report.notes.push(`peer: ${peer}, its default flags, in the same page on the same adapter (its own GPUDevice)`);
    log(`peer: ${peer}`);
  }

  if (o.sections.includes('matmul')) {
    log('matmul:');
    for (const s of trainStepMatmuls()) {
      // Ours then the peer's for each shape, so slow drift of the machine hits both alike.
      const ours = await matmulGflops(gpu, s.m, s.n, s.k, o.matmulIters, { transA: s.transA, transB: s.transB });
      const peer = await tfjsMatmulGflops(s, o.matmulIters);
      report.matmul.push({ shape: shapeName(s), role: s.role, transA: s.transA, transB: s.transB, oursGflops: ours.gflops, tfjsGflops: peer });
      log(`  ${shapeName(s)} ${s.role}: ours ${ours.gflops.toFixed(2)}, TF.js ${peer.toFixed(2)} GFLOP/s`);
    }
    log(`matmul kernels side by side (${SQUARE}^3 and the step's shapes):`);
    report.matmulKernels = await matmulKernels(gpu, o.matmulIters, log);
  }

  if (o.sections.includes('train')) {
    log('training step:');
    const ours = await oursTrainStep(gpu, o.reps);
    log(`  ours ${ours.ms.toFixed(1)} ms (loss ${ours.loss.toFixed(3)})`);
    const peer = await tfjsTrainStep(o.reps);
    log(`  TF.js ${peer.ms.toFixed(1)} ms (loss ${peer.loss.toFixed(3)})`);
    report.trainStep = {
      config: {
        layers: BENCH_MODEL.layers,
        heads: BENCH_MODEL.heads,
        headDim: BENCH_MODEL.headDim,
        ffn: BENCH_MODEL.ffn,
        vocab: BENCH_MODEL.vocab,
        seq: BENCH_SEQ,
        batch: BENCH_BATCH,
        attention: 'linear (elu + 1), causal',
        norm: BENCH_MODEL.norm,
        activation: BENCH_MODEL.activation,
        optimizer: `adam lr ${BENCH_LR}`,
        dropout: BENCH_MODEL.dropout,
      },
      oursMs: ours.ms,
      tfjsMs: peer.ms,
      oursLoss: ours.loss,
      tfjsLoss: peer.loss,
      flops: trainStepFlops(),
      notes: [
        `mean of ${o.reps} steps after 2 warm-up steps; each side encodes its steps back to back and waits once at the end`,
        'TF.js has no causal prefix-sum (scan) op for linear attention, so its causal linear attention is the masked N x N product tril(phi(q) phi(k)^T) v / rowsum; ours is the O(N) chunked scan',
        'TF.js gradients come from its tape (tf.variableGrads via optimizer.minimize); the optimizer is tf.train.adam with the same hyper-parameters',
      ],
    };
  }

  if (o.sections.includes('attention')) {
    log(`attention (heads ${o.heads}, dim ${o.dim}, causal, forward + backward, median of ${o.reps}):`);
    const ao = { heads: o.heads, dim: o.dim, minN: o.minN, maxN: o.maxN, budget: o.budget, reps: o.reps };
    const { rows, skipped } = await attentionSweep(gpu, ao, log);
    report.attention = rows;
    report.attentionSkipped = skipped;
    log(`momentum / linear from ${o.pairs} interleaved pairs at each N:`);
    report.attentionPaired = await pairedSweep(gpu, ao, o.pairs, log);
  }

  if (o.sections.includes('sampling')) {
    log(`sampling (${o.sampleSeq} tokens, batch ${o.sampleBatch}):`);
    const so = { ...defaultSamplingOptions, seq: o.sampleSeq, batch: o.sampleBatch, pairs: o.samplePairs };
    report.sampling = await samplingBench(gpu, so, log);
    log('  one attention layer alone:');
    report.sampling.attentionLevel = await attentionSamplingBench(gpu, so, log);
    if (o.sampleSeq !== defaultSamplingOptions.seq) {
      report.sampling.notes.push(`capped at ${o.sampleSeq} tokens per sequence (an MNIST image has ${defaultSamplingOptions.seq}); images/s count ${o.sampleSeq}-token sequences`);
    }
  }

  if (wantProfile) {
    log('profile: one training step and one sampling step, per kernel');
    report.profile = await profileSteps(gpu, { reps: o.reps, sample: { batch: o.sampleBatch }, ceilingGflops: report.ceiling.fmaGflops });
  }

  gpu.destroy();
  applyCeiling(report);
  const full = { ...report, targets: checkTargets(report) };
  const text = formatReport(report);
  log('\n' + text);
  if (resultEl) resultEl.textContent = text;
  window.__bench = { state: 'done', report: full, text };
  if (downloadButton) {
    downloadButton.hidden = false;
    downloadButton.onclick = () => {
      const blob = new Blob([JSON.stringify(full, null, 2) + '\n'], { type: 'application/json' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    };
  }
}

function start(): void {
  run()
    .catch((err: unknown) => {
      const message = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
      log(`error: ${message}`);
      window.__bench = { state: 'error', message };
    })
    .finally(() => {
      if (runButton) runButton.disabled = false;
    });
}

// The headless runner passes run=1; a person presses the button.
if (query.get('run') === '1' || !runButton) start();
else runButton.onclick = start;
