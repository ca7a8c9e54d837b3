// The training worker: owns the WebGPU device and every Trainer. The page talks to it only through
// the messages of protocol.ts; all the logic is in host.ts.
import { Gpu } from '../engine/gpu.ts';
import { generateImages } from '../model/sampler.ts';
import { makeCopyHeldOut } from '../tasks/copyTask.ts';
import { fetchMnist } from '../tasks/mnist.ts';
import { Random } from '../util/random.ts';
import { copyGreedyAccuracy } from '../train/copyGreedy.ts';
import { PRESET_DESCRIPTIONS, PRESET_NAMES, makeRunConfig } from '../train/presets.ts';
import { Trainer } from '../train/trainer.ts';
import { TASK_NAMES } from '../train/types.ts';
import { flopsPerStep } from './estimate.ts';
import { classReport } from './classReport.ts';
import { TrainingHost, type GpuLike } from './host.ts';
import { inspectRun } from './inspect.ts';
import type { FromWorker, PresetTable, RunConfig, TaskName, ToWorker } from './protocol.ts';

const scope = self as unknown as {
  postMessage(msg: FromWorker, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
};

const NO_BROWSER_ADAPTER = [
  'No WebGPU adapter was found.',
  'Use a recent Chrome or Edge (WebGPU is on by default); on Linux start it with --enable-unsafe-webgpu',
  '(and --enable-features=Vulkan), or Firefox Nightly / Safari 18+.',
].join('\n');

/** Tasks the page may offer; one this build's presets do not know is left out of the table. */
const TASKS = TASK_NAMES;

function presetTable(): PresetTable {
  const names = [...PRESET_NAMES];
  const configs: PresetTable['configs'] = {};
  for (const task of TASKS) {
    const row: Record<string, RunConfig> = {};
    for (const p of names) {
      try {
        row[p] = makeRunConfig({ task: task as TaskName, variant: 'momentum', preset: p });
      } catch {
        // this task has no such preset (or the task is not in this build)
      }
    }
    if (Object.keys(row).length > 0) configs[task] = row;
  }
  const descriptions: Record<string, string> = { ...PRESET_DESCRIPTIONS };
  return { names: names.filter((n) => Object.values(configs).some((c) => c && n in c)), descriptions, configs };
}

/** GFLOP/s of a few steps of a small copy model (after one warm-up step that compiles the kernels). */
async function measureSpeed(gpu: Gpu): Promise<number> {
  const cfg = makeRunConfig({ task: 'copy', variant: 'linear', preset: 'tiny', overrides: { name: 'speed probe', steps: 100, evalEvery: 100 } });
  const trainer = Trainer.create(gpu, cfg, { kind: 'copy' });
  try {
    await trainer.run(1);
    const t0 = performance.now();
    await trainer.run(3);
    const ms = performance.now() - t0;
    return (3 * flopsPerStep(cfg)) / (ms * 1e6);
  } finally {
    trainer.dispose();
  }
}

const host = new TrainingHost({
  async openGpu() {
    if (!('gpu' in navigator) || !navigator.gpu) {
      throw new Error('WebGPU is not available in this browser (navigator.gpu is missing).');
    }
    // Asked here first so that a missing adapter gets the browser's explanation, not the engine's
    // (which also covers Node); the engine then opens its own adapter and device.
    if (!(await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }))) throw new Error(NO_BROWSER_ADAPTER);
    const gpu = await Gpu.open();
    const lost = gpu.device.lost.then((info) => `The GPU device was lost (${info.reason || 'unknown'}): ${info.message}`);
    return { gpu, lost };
  },
  makeConfig: (spec) => makeRunConfig(spec),
  presets: presetTable,
  measureSpeed: (gpu) => measureSpeed(gpu as Gpu),
  loseDevice: (gpu) => (gpu as Gpu).device.destroy(),
  createTrainer: (gpu, cfg, data) => Trainer.create(gpu as Gpu, cfg, data),
  restoreTrainer: (gpu, bytes, data) => Trainer.fromCheckpoint(gpu as Gpu, bytes, data),
  loadEmbedded: (url) => fetchMnist(url),
  // Digits pixel by pixel, or greedy copies of held-out sequences, through the recurrent steps.
  async sample(_gpu, trainerLike, count) {
    const trainer = trainerLike as Trainer;
    const cfg = trainer.config;
    if (cfg.task.kind === 'mnist') {
      const side = cfg.task.resolution;
      const r = await generateImages(trainer.model, { count, rows: side, cols: side, temperature: 1, rng: new Random(trainer.step + 1) });
      return { kind: 'mnist', rows: side, cols: side, pixels: r.pixels, count, imagesPerSec: r.imagesPerSec };
    }
    if (cfg.task.kind !== 'copy') throw new Error(`samples are drawn for the copy task and MNIST, not ${cfg.task.kind}`);
    const held = makeCopyHeldOut(count, { maxLen: cfg.task.maxLen, symbols: cfg.task.symbols });
    const g = await copyGreedyAccuracy(trainer.model, held, Math.min(count, cfg.batch));
    return {
      kind: 'copy',
      inputs: held.inputs,
      outputs: g.predictions,
      mask: Uint8Array.from(held.mask),
      maxLen: held.maxLen,
      count,
    };
  },
  classReport: (t) => {
    const trainer = t as Trainer;
    return classReport(trainer.config, trainer.lastEvaluation, trainer.data, trainer.step);
  },
  async evaluateReport(_gpu, t) {
    const trainer = t as Trainer;
    trainer.lastEvaluation = await trainer.evaluate();
    return classReport(trainer.config, trainer.lastEvaluation, trainer.data, trainer.step);
  },
  inspect: (_gpu, trainer, runId, example) => inspectRun(runId, trainer as Trainer, example),
  post: (msg, transfer = []) => scope.postMessage(msg, transfer),
  now: () => performance.now(),
});

// Messages are handled in order: a 'create' that awaits the device is not overtaken by its 'start'.
// Slow requests (samples, checkpoints) start in order but do not hold up the messages after them.
let chain: Promise<void> = Promise.resolve();
scope.onmessage = (ev) => {
  const msg = ev.data;
  const slow = msg.type === 'sample' || msg.type === 'checkpoint' || msg.type === 'inspect' || msg.type === 'evaluate';
  chain = chain.then(() => (slow ? void host.handle(msg) : host.handle(msg)));
};

export type { GpuLike };
