// The one message protocol between the page and the training worker. The worker owns the WebGPU
// device and every Trainer; the page only sends plain data and receives plain data. Metrics travel
// in columnar batches of typed arrays that are transferred, not copied.
import type { Variant } from '../model/config.ts';
import type { RunOverrides } from '../train/presets.ts';
import { METRIC_COLUMNS, type LiveHypers, type MetricColumn, type MetricsRecord, type RunConfig, type StopReason, type TaskName } from '../train/types.ts';
import type { AdapterFacts } from '../util/adapter.ts';
import type { Inspection } from './inspection.ts';

export type { AdapterFacts, LiveHypers, MetricsRecord, RunConfig, RunOverrides, StopReason, TaskName, Variant };
export type { Inspection } from './inspection.ts';

/** What the page asks for: a preset for a task and variant plus overrides (the worker builds the config). */
export interface RunSpec {
  task: TaskName;
  variant: Variant;
  preset: string;
  overrides: RunOverrides;
}

/**
 * The presets as the worker's makeRunConfig builds them (momentum variant), for the form's
 * defaults: per task the presets that exist for it (a task this build lacks has no entry).
 */
export interface PresetTable {
  names: string[];
  descriptions: Record<string, string>;
  configs: Partial<Record<string, Record<string, RunConfig>>>;
}

/** Images as raw grey bytes (the same shape as src/tasks/idx.ts's ImageSet, plain data). */
export interface ImageData8 {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array; // [count, rows, cols]
  labels?: Uint8Array; // [count]
}

/** Where a run's training data comes from (in the page: a data set registered with a `dataset` message). */
import type { DataSpec } from '../train/dataSpec.ts';
export type { DataSpec };

export type RunState = 'created' | 'running' | 'paused' | 'finished' | 'stopped' | 'diverged' | 'error' | 'device-lost';

/** A spec the worker built and checked, with its expected cost, or why it cannot run. */
export type PlanItem =
  | {
      ok: true;
      config: RunConfig;
      /** Floating-point work of one training step (src/worker/estimate.ts). */
      flopsPerStep: number;
      /** Expected seconds per step at the device's measured speed (null: not measured). */
      stepSeconds: number | null;
    }
  | { ok: false; message: string };

/** Page -> worker. */
export type ToWorker =
  | { type: 'init'; mnistUrl: string }
  | { type: 'presets' }
  /** Builds and checks run configs without creating anything; replies 'plan'. */
  | { type: 'plan'; requestId: number; specs: RunSpec[] }
  /** Test hook: destroys the worker's device, as a lost device would (the e2e test uses it). */
  | { type: 'lose-device' }
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
  /** The inspector: every layer's effective attention on held-out example `example` of the run. */
  | { type: 'inspect'; runId: string; requestId: number; example: number }
  /** A classifier's test evaluation now (between steps); answered with 'classified' (a run restored from a checkpoint has none until its next evaluation). */
  | { type: 'evaluate'; runId: string }
  | { type: 'dispose'; runId: string };

/** The per-step metric columns (src/train/types.ts): the worker packs them, the store keeps them, export writes them. */
export { METRIC_COLUMNS, type MetricColumn } from '../train/types.ts';

/** One batch of a run's metrics, one entry per step in each column; NaN where a record had no value. */
export type MetricsBatch = Record<MetricColumn, Float64Array> & {
  /** Adaptive runs: [steps, layers - 1] mean beta~ per layer (from the second); else empty. */
  betaTilde: Float64Array;
  betaTildeLayers: number;
  /** Live hyper-parameter changes and the step at which each took effect. */
  changes: { step: number; hypers: LiveHypers }[];
};

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

/** A held-out example of a classifier with the class the latest evaluation predicted for it. */
export interface ClassExampleView {
  /** The real tokens (no padding): ListOps ids, or an image's grey levels row by row. */
  tokens: number[];
  /** ListOps: the expression as `npm run data` writes it. */
  text?: string;
  label: number;
  predicted: number;
}

/** A classifier's latest test evaluation: the confusion matrix and a few examples (sent after each). */
export interface ClassReport {
  step: number;
  accuracy: number;
  testLoss: number;
  classes: number;
  /** matrix[true][predicted]: test sequences counted, as confusion.json writes it. */
  matrix: number[][];
  examples: ClassExampleView[];
  /** Images: the side of the (downsampled) square images the tokens are; absent for ListOps. */
  side?: number;
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
  /**
   * A step has been in flight for a while (busy), or the long step ended; commands wait for it.
   * `compiling`: the device is still compiling kernels the step needs (a run's first steps).
   */
  | { type: 'busy'; runId: string; busy: boolean; step: number; compiling?: boolean }
  | { type: 'plan'; requestId: number; items: PlanItem[]; gflops: number | null }
  | { type: 'metrics'; runId: string; batch: MetricsBatch }
  /** The run's config after a live change (what `Trainer.config` reports). */
  | { type: 'config'; runId: string; config: RunConfig }
  | { type: 'checkpoint'; runId: string; requestId: number; step: number; bytes: Uint8Array }
  | { type: 'samples'; runId: string; requestId: number; samples: SamplesMnist | SamplesCopy }
  | { type: 'inspection'; runId: string; requestId: number; inspection: Inspection }
  /** A classifier evaluated: its confusion matrix and examples (after every evaluation). */
  | { type: 'classified'; runId: string; report: ClassReport }
  /** A request failed (invalid hypers, a corrupt checkpoint, ...); the run itself goes on. */
  | { type: 'error'; runId?: string; requestId?: number; message: string }
  /** The device is gone: every run is paused with what it had; `init` again to resume. */
  | { type: 'device-lost'; message: string };

/** Worker requests made with a `requestId` (checkpoints are also sent unasked, with requestId -1). */
export const UNSOLICITED = -1;

/** Columnar batch from the trainer's records (the arrays are fresh, ready to transfer). */
export function packMetrics(records: MetricsRecord[]): MetricsBatch {
  const n = records.length;
  const layers = records.reduce((m, r) => Math.max(m, r.betaTilde?.length ?? 0), 0);
  const b = {
    ...emptyColumns(n),
    betaTilde: layers > 0 ? new Float64Array(n * layers).fill(NaN) : new Float64Array(0),
    betaTildeLayers: layers,
    changes: [],
  } as MetricsBatch;
  records.forEach((r, i) => {
    for (const c of METRIC_COLUMNS) b[c][i] = r[c] ?? NaN;
    r.betaTilde?.forEach((v, l) => (b.betaTilde[i * layers + l] = v));
    if (r.changed) b.changes.push({ step: r.step, hypers: r.changed });
  });
  return b;
}

/** A fresh Float64Array of length n for every metric column. */
export function emptyColumns(n: number): Record<MetricColumn, Float64Array> {
  return Object.fromEntries(METRIC_COLUMNS.map((c) => [c, new Float64Array(n)])) as Record<MetricColumn, Float64Array>;
}

/** The typed arrays of a batch, for postMessage's transfer list. */
export function metricsTransfer(b: MetricsBatch): ArrayBuffer[] {
  return [...METRIC_COLUMNS.map((c) => b[c]), b.betaTilde].map((a) => a.buffer as ArrayBuffer);
}
