// What the training host (host.ts) is given and keeps: the trainer and device it drives, the
// dependencies the worker injects (fakes in tests), its timing options and a run's record.
import type { ImageSet } from '../tasks/idx.ts';
import type { TaskData } from '../train/data.ts';
import type { ClassReport, FromWorker, LiveHypers, MetricsRecord, PresetTable, RunConfig, RunSpec, RunState, SamplesCopy, SamplesMnist, StopReason } from './protocol.ts';
import type { Inspection } from './inspection.ts';

/** What the host needs of a Trainer (src/train/trainer.ts). */
export interface TrainerLike {
  readonly config: RunConfig;
  readonly step: number;
  readonly finished: boolean;
  readonly model: { parameterCount: number };
  setHypers(h: LiveHypers): void;
  run(n: number): Promise<{ records: MetricsRecord[]; stop: StopReason | null }>;
  checkpoint(): Promise<Uint8Array>;
  dispose(): void;
}

export interface GpuLike {
  readonly backend: 'swiftshader' | 'gpu';
  readonly description: string;
  /** The adapter, for the device panel's features and limits (absent in tests' fakes). */
  readonly adapter?: { features: Iterable<string>; limits: object };
  /** The first error of the device (a lost device included), if any. */
  readonly error: Error | null;
  /** Kernels still compiling (the engine's Gpu; absent in tests' fakes): a step waits for them. */
  readonly compiling?: number;
  destroy(): void;
}

export interface HostDeps {
  /** Opens the device; rejects with a message saying why there is none. `lost` settles if it goes. */
  openGpu(): Promise<{ gpu: GpuLike; lost: Promise<string> }>;
  /** makeRunConfig (src/train/presets.ts): throws naming what is wrong. */
  makeConfig(spec: RunSpec): RunConfig;
  presets(): PresetTable;
  createTrainer(gpu: GpuLike, cfg: RunConfig, data: TaskData): TrainerLike;
  restoreTrainer(gpu: GpuLike, bytes: Uint8Array, data: TaskData): TrainerLike;
  loadEmbedded(url: string): Promise<ImageSet>;
  /** Generated samples (src/model/sampler.ts); absent until a sampler exists. */
  sample?: (gpu: GpuLike, trainer: TrainerLike, count: number) => Promise<SamplesMnist | SamplesCopy>;
  /** The inspector's matrices for a held-out example (src/worker/inspect.ts); absent in builds without it. */
  inspect?: (gpu: GpuLike, trainer: TrainerLike, runId: string, example: number) => Promise<Inspection>;
  /** A classifier's latest evaluation for the page (src/worker/classReport.ts); null when there is none. */
  classReport?: (trainer: TrainerLike) => ClassReport | null;
  /** Evaluates a classifier on its test set now and reports it (the 'evaluate' message). */
  evaluateReport?: (gpu: GpuLike, trainer: TrainerLike) => Promise<ClassReport | null>;
  /** GFLOP/s of a short training run on the device, for estimates before any run has stepped. */
  measureSpeed?: (gpu: GpuLike) => Promise<number>;
  /** Test hook: make the device lost (destroy it). */
  loseDevice?: (gpu: GpuLike) => void;
  post(msg: FromWorker, transfer?: Transferable[]): void;
  now(): number;
}

export interface HostOptions {
  /** Seconds between unasked checkpoints of a running run (also taken on pause, stop and finish). */
  checkpointSeconds?: number;
  /** A turn of one run aims at this many milliseconds (steps per turn adapt, 1..maxTurnSteps). */
  turnMs?: number;
  maxTurnSteps?: number;
  /** A turn still running after this many milliseconds is reported busy (and its end too). */
  busyMs?: number;
}

export interface Run {
  id: string;
  trainer: TrainerLike;
  state: RunState;
  /** Steps a turn runs; grows while turns are short so a fast GPU is not held back by round trips. */
  turnSteps: number;
  stepOnce: boolean;
  lastCheckpoint: number;
  /** Trainer work is serialised: a checkpoint never reads parameters in the middle of a window. */
  queue: Promise<unknown>;
  disposed: boolean;
}
