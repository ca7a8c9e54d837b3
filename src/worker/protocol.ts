// The one message protocol between the page and the training worker. The worker owns the WebGPU
// device and every Trainer; the page only sends plain data and receives plain data. Metrics travel
// in columnar batches of typed arrays that are transferred, not copied.
import type { Variant } from '../model/config.ts';
import type { RunOverrides } from '../train/presets.ts';
import type { LiveHypers, MetricsRecord, RunConfig, StopReason, TaskName } from '../train/types.ts';
import type { AdapterFacts } from '../util/adapter.ts';

export type { AdapterFacts, LiveHypers, MetricsRecord, RunConfig, RunOverrides, StopReason, TaskName, Variant };

/** What the page asks for: a preset for a task and variant plus overrides (the worker builds the config). */
export interface RunSpec {
  task: TaskName;
  variant: Variant;
  preset: string;
  overrides: RunOverrides;
}

/** The presets as the worker's makeRunConfig builds them (momentum variant), for the form's defaults. */
export interface PresetTable {
  names: string[];
  descriptions: Record<string, string>;
  configs: Record<TaskName, Record<string, RunConfig>>;
}

/** Images as raw grey bytes (the same shape as src/tasks/idx.ts's ImageSet, plain data). */
export interface ImageData8 {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array; // [count, rows, cols]
  labels?: Uint8Array; // [count]
}

/** Where a run's training data comes from. */
export type DataSpec =
  | { kind: 'copy' }
  /** The 10,000 embedded digits (public/mnist-10k.bin), fetched by the worker. */
  | { kind: 'mnist-embedded' }
  /** Images the page registered earlier with a `dataset` message under this name. */
  | { kind: 'mnist-dataset'; name: string };

export type RunState = 'created' | 'running' | 'paused' | 'finished' | 'stopped' | 'diverged' | 'error' | 'device-lost';

/** Page -> worker. */
export type ToWorker =
  | { type: 'init'; mnistUrl: string }
  | { type: 'presets' }
  /** Registers user images (IDX files) for later runs; the pixels are transferred. */
  | { type: 'dataset'; name: string; images: ImageData8 }
  /** A new run, paused at step 0 until `start`. Give `config` (a shared or earlier run) or `spec`. */
  | { type: 'create'; runId: string; spec?: RunSpec; config?: RunConfig; data: DataSpec }
  /** A run continued from checkpoint bytes (a reload, a lost device, an uploaded file); paused. */
  | { type: 'restore'; runId: string; checkpoint: Uint8Array; data: DataSpec }
  | { type: 'start'; runId: string }
  | { type: 'pause'; runId: string }
  | { type: 'stop'; runId: string }
  /** One step of a paused run. */
  | { type: 'step'; runId: string }
  /** Applies at the run's next step; reported in that step's record.changed. */
  | { type: 'hypers'; runId: string; hypers: LiveHypers }
  | { type: 'checkpoint'; runId: string; requestId: number }
  | { type: 'sample'; runId: string; requestId: number; count: number }
  | { type: 'dispose'; runId: string };

/** One batch of a run's metrics, one entry per step; NaN where a record had no value. */
export interface MetricsBatch {
  step: Float64Array;
  wallSeconds: Float64Array;
  trainLoss: Float64Array;
  testLoss: Float64Array;
  /** Copy: token accuracy; MNIST: NaN. */
  accuracy: Float64Array;
  /** MNIST: bits/dim; copy: NaN. */
  bitsPerDim: Float64Array;
  tokensPerSec: Float64Array;
  lr: Float64Array;
  gradNorm: Float64Array;
  /** Adaptive runs: [steps, layers - 1] mean beta~ per layer (from the second); else empty. */
  betaTilde: Float64Array;
  betaTildeLayers: number;
  /** Live hyper-parameter changes and the step at which each took effect. */
  changes: { step: number; hypers: LiveHypers }[];
}

export interface SamplesMnist {
  kind: 'mnist';
  rows: number;
  cols: number;
  /** [count, rows, cols] generated grey levels. */
  pixels: Uint8Array;
  count: number;
  imagesPerSec: number;
}

export interface SamplesCopy {
  kind: 'copy';
  /** Held-out sequences: [count, maxLen] inputs and the model's greedy outputs for them. */
  inputs: Uint32Array;
  outputs: Uint32Array;
  /** 1 where a position belongs to the copied half (scored), else 0. */
  mask: Uint8Array;
  maxLen: number;
  count: number;
}

/** Worker -> page. */
export type FromWorker =
  /** `adapter`: its features and the limits that matter (the device panel), where known. */
  | { type: 'ready'; backend: 'swiftshader' | 'gpu'; description: string; adapter?: AdapterFacts }
  /** No WebGPU or no adapter in the worker: `message` says why and what to do. */
  | { type: 'unsupported'; message: string }
  | { type: 'presets'; table: PresetTable }
  | { type: 'created'; runId: string; config: RunConfig; step: number; parameters: number }
  | { type: 'state'; runId: string; state: RunState; step: number; message?: string; stop?: StopReason }
  | { type: 'metrics'; runId: string; batch: MetricsBatch }
  /** The run's config after a live change (what `Trainer.config` reports). */
  | { type: 'config'; runId: string; config: RunConfig }
  | { type: 'checkpoint'; runId: string; requestId: number; step: number; bytes: Uint8Array }
  | { type: 'samples'; runId: string; requestId: number; samples: SamplesMnist | SamplesCopy }
  /** A request failed (invalid hypers, a corrupt checkpoint, ...); the run itself goes on. */
  | { type: 'error'; runId?: string; requestId?: number; message: string }
  /** The device is gone: every run is paused with what it had; `init` again to resume. */
  | { type: 'device-lost'; message: string };

/** Worker requests made with a `requestId` (checkpoints are also sent unasked, with requestId -1). */
export const UNSOLICITED = -1;

/** Columnar batch from the trainer's records (the arrays are fresh, ready to transfer). */
export function packMetrics(records: MetricsRecord[]): MetricsBatch {
  const n = records.length;
  const col = () => new Float64Array(n);
  const b: MetricsBatch = {
    step: col(),
    wallSeconds: col(),
    trainLoss: col(),
    testLoss: col(),
    accuracy: col(),
    bitsPerDim: col(),
    tokensPerSec: col(),
    lr: col(),
    gradNorm: col(),
    betaTilde: new Float64Array(0),
    betaTildeLayers: records.reduce((m, r) => Math.max(m, r.betaTilde?.length ?? 0), 0),
    changes: [],
  };
  if (b.betaTildeLayers > 0) b.betaTilde = new Float64Array(n * b.betaTildeLayers).fill(NaN);
  records.forEach((r, i) => {
    b.step[i] = r.step;
    b.wallSeconds[i] = r.wallSeconds;
    b.trainLoss[i] = r.trainLoss;
    b.testLoss[i] = r.testLoss ?? NaN;
    b.accuracy[i] = r.accuracy ?? NaN;
    b.bitsPerDim[i] = r.bitsPerDim ?? NaN;
    b.tokensPerSec[i] = r.tokensPerSec;
    b.lr[i] = r.lr;
    b.gradNorm[i] = r.gradNorm;
    r.betaTilde?.forEach((v, l) => (b.betaTilde[i * b.betaTildeLayers + l] = v));
    if (r.changed) b.changes.push({ step: r.step, hypers: r.changed });
  });
  return b;
}

/** The typed arrays of a batch, for postMessage's transfer list. */
export function metricsTransfer(b: MetricsBatch): ArrayBuffer[] {
  return [b.step, b.wallSeconds, b.trainLoss, b.testLoss, b.accuracy, b.bitsPerDim, b.tokensPerSec, b.lr, b.gradNorm, b.betaTilde].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
