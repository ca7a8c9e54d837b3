// The contract between the trainer and everything that drives it (the CLI, the training worker,
// the UI): one run's configuration, the metrics it emits, and the hyper-parameters that may change
// while it runs. Plain data only, so every type here can cross a worker boundary and go into JSON.
import type { LrSchedule, OptimizerKind } from '../engine/optim.ts';
import type { LiveHypers as ModelHypers, ModelConfig, Variant } from '../model/config.ts';

/** The tasks a run can train; a new task adds its name here, a preset and a data stream. */
export const TASK_NAMES = ['copy', 'mnist', 'mqar', 'listops', 'images'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** The tasks an encoder classifies (one label per sequence); the others train a causal decoder. */
export const CLASSIFICATION_TASKS = ['listops', 'images'] as const satisfies readonly TaskName[];
export type ClassificationTaskName = (typeof CLASSIFICATION_TASKS)[number];

export function isClassificationTask(task: TaskName): task is ClassificationTaskName {
  return (CLASSIFICATION_TASKS as readonly string[]).includes(task);
}

/** Sides MNIST images can be trained at: full resolution or downsampled by 2 or 4. */
export const MNIST_RESOLUTIONS = [28, 14, 7] as const;
export type MnistResolution = (typeof MNIST_RESOLUTIONS)[number];

/** `MnistTaskConfig.source` of the 10,000 digits embedded from the `mnist` package. */
export const EMBEDDED_MNIST = 'embedded';

export interface CopyTaskConfig {
  kind: 'copy';
  /** L: the padded sequence length (the paper: 128). */
  maxLen: number;
  /** Alphabet size (the paper: 10 symbols, vocabulary 11 with the separator). */
  symbols: number;
  /** Held-out sequences evaluated every `evalEvery` steps. */
  heldOut: number;
}

export interface MnistTaskConfig {
  kind: 'mnist';
  /** Side of the square images after downsampling (28 = full resolution). */
  resolution: MnistResolution;
  /** Use only this many training images (null: all). */
  subset: number | null;
  /** Test images evaluated every `evalEvery` steps (at most the test split). */
  testImages: number;
  /** Where the images come from: EMBEDDED_MNIST, or the IDX file or data set the images were read from. */
  source: string;
}

/** Multi-query associative recall (src/tasks/mqar.ts): P key-value pairs, then Q queries. */
export interface MqarTaskConfig {
  kind: 'mqar';
  maxLen: number;
  pairs: number;
  queries: number;
  keys: number;
  values: number;
  /** Held-out sequences evaluated every `evalEvery` steps. */
  heldOut: number;
}

/**
 * ListOps classification (src/tasks/listops.ts, MATH.md section 10): fixed train and test splits
 * generated from the split seeds, whatever the run's seed; batches right-padded to their longest.
 */
export interface ListOpsTaskConfig {
  kind: 'listops';
  /** Token-count bounds of an expression, both inclusive (LRA: 500 to 2000). */
  minLength: number;
  maxLength: number;
  maxDepth: number;
  minArgs: number;
  maxArgs: number;
  /** Examples in the training split. */
  trainExamples: number;
  /** Held-out test examples evaluated every `evalEvery` steps. */
  testExamples: number;
}

/** Pixel-sequence image classification (LRA's Image task): every grey level a token, one label per image. */
export interface ImagesTaskConfig {
  kind: 'images';
  /** Side of the square images after downsampling (28: 784 tokens). */
  resolution: MnistResolution;
  /** Use only this many training images (null: all). */
  subset: number | null;
  /** Test images evaluated every `evalEvery` steps. */
  testImages: number;
  /** EMBEDDED_MNIST, or the IDX images file or data set the images were read from. */
  source: string;
  /** The IDX labels file beside an IDX `source` (null: the labels come with the source). */
  labels: string | null;
  /** Classes; every label must lie in 0..classes-1. */
  classes: number;
}

export type TaskConfig = CopyTaskConfig | MnistTaskConfig | MqarTaskConfig | ListOpsTaskConfig | ImagesTaskConfig;

/**
 * Tokens per sequence of a task, before a CLS token (src/model/config.ts `encoderPositions`): a
 * copy or MQAR sequence, an image's pixels but one (generation) or all of them (classification), or
 * the longest ListOps expression (batches are padded to their own longest).
 */
export function taskTokens(task: TaskConfig): number {
  switch (task.kind) {
    case 'copy':
    case 'mqar':
      return task.maxLen;
    case 'mnist':
      return task.resolution * task.resolution - 1;
    case 'images':
      return task.resolution * task.resolution;
    case 'listops':
      return task.maxLength;
  }
}

export interface OptimConfig {
  kind: OptimizerKind;
  weightDecay: number;
  /** Gradient-norm clip (null: none). */
  clipNorm: number | null;
  schedule: LrSchedule;
}

export interface RunConfig {
  /** Free text shown in the UI and the CLI. */
  name: string;
  variant: Variant;
  task: TaskConfig;
  model: ModelConfig;
  optim: OptimConfig;
  batch: number;
  steps: number;
  /** Evaluate (test loss, accuracy or bits/dim) every this many steps and at the last step. */
  evalEvery: number;
  /** Seeds initialisation, data order and dropout. */
  seed: number;
}

/** Hyper-parameters that may change between two steps of a running model: the model's and the lr. */
export interface LiveHypers extends ModelHypers {
  /** The schedule's base learning rate. */
  lr?: number;
}

/** One line of `metrics.jsonl` and one point of the UI's curves. */
export interface MetricsRecord {
  step: number;
  wallSeconds: number;
  trainLoss: number;
  /** null between evaluations. */
  testLoss: number | null;
  /** Copy task and MQAR: per-token accuracy on the scored positions (MQAR: the answers); copy task: on the copied half of held-out sequences (teacher-forced). ListOps and images: the share of test sequences classified right. */
  accuracy?: number;
  /** ListOps and images, at evaluations: the share classified right of a fixed sample of training sequences (as many as the test set, dropout off). */
  trainAccuracy?: number;
  /** Copy task: fraction of held-out sequences copied without a single error (teacher-forced). */
  sequenceAccuracy?: number;
  /** MNIST: test bits per dimension, at `resolution`. */
  bitsPerDim?: number;
  resolution?: number;
  tokensPerSec: number;
  lr: number;
  gradNorm: number;
  /** Adaptive connection: each layer's mean beta~ (layers 2..L; layer 1 has no previous layer). */
  betaTilde?: number[];
  /** Hyper-parameter changes that took effect at this step. */
  changed?: LiveHypers;
}

/**
 * The numeric columns every record has (NaN where a record has no value: testLoss between
 * evaluations, accuracy for MNIST, bitsPerDim for the copy task), in the order the worker's
 * batches, the store's series and the exports use. `betaTilde` (per layer) and `changed` travel
 * beside them.
 */
export const METRIC_COLUMNS = [
  'step',
  'wallSeconds',
  'trainLoss',
  'testLoss',
  'accuracy',
  'trainAccuracy',
  'bitsPerDim',
  'tokensPerSec',
  'lr',
  'gradNorm',
] as const satisfies readonly (keyof MetricsRecord)[];
export type MetricColumn = (typeof METRIC_COLUMNS)[number];

/** Why a run stopped before its last step. */
export interface StopReason {
  kind: 'diverged' | 'stopped' | 'device-lost' | 'error';
  step: number;
  message: string;
}
