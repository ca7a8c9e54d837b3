// The training worker: owns the WebGPU device and every Trainer. The page talks to it only through
// the messages of protocol.ts; all the logic is in host.ts.
import { Gpu } from '../engine/gpu.ts';
import { generateImages } from '../model/sampler.ts';
import { makeCopyHeldOut } from '../tasks/copyTask.ts';
import { fetchMnist } from '../tasks/mnist.ts';
import { Random } from '../tasks/random.ts';
import { copyGreedyAccuracy } from '../train/copyGreedy.ts';
import { PRESET_DESCRIPTIONS, PRESET_NAMES, makeRunConfig } from '../train/presets.ts';
import { Trainer } from '../train/trainer.ts';
import { TrainingHost, type GpuLike } from './host.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

const scope = self as unknown as {
  postMessage(msg: FromWorker, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
};

const host = new TrainingHost({
  async openGpu() {
    if (!('gpu' in navigator) || !navigator.gpu) {
      throw new Error('WebGPU is not available in this browser (navigator.gpu is missing).');
    }
    let gpu: Gpu;
    try {
      gpu = await Gpu.open();
    } catch (e) {
      // The engine's message ends with help for Node (Vulkan packages); the page gives browser help.
      throw new Error((e as Error).message.split('\n- In Node')[0]!.trim());
    }
    const lost = gpu.device.lost.then((info) => `The GPU device was lost (${info.reason || 'unknown'}): ${info.message}`);
    return { gpu, lost };
  },
  makeConfig: (spec) => makeRunConfig(spec),
  presets: () => ({
    names: [...PRESET_NAMES],
    descriptions: { ...PRESET_DESCRIPTIONS },
    configs: {
      copy: Object.fromEntries(PRESET_NAMES.map((p) => [p, makeRunConfig({ task: 'copy', variant: 'momentum', preset: p })])),
      mnist: Object.fromEntries(PRESET_NAMES.map((p) => [p, makeRunConfig({ task: 'mnist', variant: 'momentum', preset: p })])),
      mqar: Object.fromEntries(PRESET_NAMES.map((p) => [p, makeRunConfig({ task: 'mqar', variant: 'momentum', preset: p })])),
    },
  }),
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
  post: (msg, transfer = []) => scope.postMessage(msg, transfer),
  now: () => performance.now(),
});

// Messages are handled in order: a 'create' that awaits the device is not overtaken by its 'start'.
// Slow requests (samples, checkpoints) start in order but do not hold up the messages after them.
let chain: Promise<void> = Promise.resolve();
scope.onmessage = (ev) => {
  const msg = ev.data;
  const slow = msg.type === 'sample' || msg.type === 'checkpoint';
  chain = chain.then(() => (slow ? void host.handle(msg) : host.handle(msg)));
};

export type { GpuLike };
