// What the command-line tools share: option parsing with messages that name the problem, run
// configs from options, task data from files, a progress line, and the exit path for errors.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ATTENTION_WEIGHTS, POOLINGS, VARIANTS, variantUsesMomentum, type AttentionWeights, type ModelConfig, type Variant } from '../model/config.ts';
import { loadMnistFile } from '../tasks/dataNode.ts';
import { checkImageLabels } from '../tasks/imageClassification.ts';
import { loadIdxDataset, loadIdxImages } from '../tasks/idx.ts';
import { readCheckpointConfig } from '../train/checkpointConfig.ts';
import type { TaskData } from '../train/data.ts';
import { dataSpecOf } from '../train/dataSpec.ts';
import { PRESET_NAMES, makeRunConfig, type RunOverrides } from '../train/presets.ts';
import { MNIST_RESOLUTIONS, TASK_NAMES, isClassificationTask, type MetricsRecord, type RunConfig, type TaskName } from '../train/types.ts';
import { orList } from '../util/text.ts';

/** A problem with the user's input: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Runs a CLI main function: usage errors exit 2, other failures 1, each with its message. */
export function runMain(usage: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`error: ${err.message}\n\n${usage}`);
        process.exit(2);
      }
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.DEBUG && err instanceof Error) console.error(err.stack);
      process.exit(1);
    },
  );
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function intOption(value: string | undefined, name: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}; got '${value}'`);
  return n;
}

export function numOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number; got '${value}'`);
  return n;
}

export function taskOption(value: string | undefined): TaskName {
  if (value === undefined) throw new UsageError(`--task is required (${orList(TASK_NAMES)})`);
  if (!(TASK_NAMES as readonly string[]).includes(value)) throw new UsageError(`--task must be ${TASK_NAMES.join(' or ')}; got '${value}'`);
  return value as TaskName;
}

export function variantOption(value: string | undefined, fallback?: Variant): Variant {
  if (value === undefined) {
    if (fallback) return fallback;
    throw new UsageError(`--variant is required (${VARIANTS.join(', ')})`);
  }
  if (!(VARIANTS as readonly string[]).includes(value)) throw new UsageError(`--variant must be one of ${VARIANTS.join(', ')}; got '${value}'`);
  return value as Variant;
}

export function weightsOption(value: string | undefined): AttentionWeights | undefined {
  if (value === undefined) return undefined;
  if (!(ATTENTION_WEIGHTS as readonly string[]).includes(value)) throw new UsageError(`--weights must be ${ATTENTION_WEIGHTS.join(' or ')}; got '${value}'`);
  return value as AttentionWeights;
}

/**
 * The values for one variant of a comparison: --weights applies to the variants with momentum
 * attention, and the softmax and linear baselines run as they are.
 */
export function valuesFor<V extends { weights?: string }>(v: V, variant: Variant): V {
  return variantUsesMomentum(variant) ? v : { ...v, weights: undefined };
}

/** Options every training command accepts, for `parse`. */
export const RUN_OPTIONS = {
  task: { type: 'string' },
  preset: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  lr: { type: 'string' },
  'eval-every': { type: 'string' },
  beta: { type: 'string' },
  gamma: { type: 'string' },
  'beta-tilde': { type: 'string' },
  'gamma-tilde': { type: 'string' },
  delta: { type: 'string' },
  weights: { type: 'string' },
  'seq-len': { type: 'string' },
  symbols: { type: 'string' },
  pairs: { type: 'string' },
  queries: { type: 'string' },
  'key-vocab': { type: 'string' },
  'value-vocab': { type: 'string' },
  resolution: { type: 'string' },
  subset: { type: 'string' },
  data: { type: 'string' },
  labels: { type: 'string' },
  classes: { type: 'string' },
  'min-length': { type: 'string' },
  'max-length': { type: 'string' },
  'max-depth': { type: 'string' },
  'min-args': { type: 'string' },
  'max-args': { type: 'string' },
  'train-examples': { type: 'string' },
  'test-examples': { type: 'string' },
  pooling: { type: 'string' },
  layers: { type: 'string' },
  heads: { type: 'string' },
  'head-dim': { type: 'string' },
  ffn: { type: 'string' },
  out: { type: 'string' },
} as const;

/** The test loss (nats) whose first crossing compare and sweep report, per task. */
export function defaultThreshold(task: TaskName): number {
  if (task === 'mnist') return 1.5 * Math.LN2;
  if (task === 'listops') return 1.5;
  return 0.5;
}

export const RUN_USAGE = `  --task ${TASK_NAMES.join('|')}  what to train (required; mqar: multi-query associative recall)
  --preset ${PRESET_NAMES.join('|')}    model and schedule size (default tiny: minutes on CPU-only WebGPU)
  --steps N --batch B --seed S --lr LR --eval-every K
  --beta B --gamma G      momentum attention (beta in [0, 1), gamma > 0; default: the paper's per task)
  --beta-tilde B --gamma-tilde G --delta D   momentum connection
  --weights ${ATTENTION_WEIGHTS.join('|')}   momentum attention's weighting (default recurrence, eqs. 12-13;
                          authors-code: the authors' parallel path, MATH.md "A known discrepancy")
  --seq-len L --symbols K copy task: sequence length and alphabet
  --seq-len L --pairs P --queries Q --key-vocab K --value-vocab V   MQAR: length, pairs, queries, vocabularies
  --resolution ${MNIST_RESOLUTIONS.join('|')} --subset N   MNIST: downsampling and training-subset size
  --data FILE             MNIST or images: an IDX images file (gzipped or not) instead of the embedded digits
  --labels FILE           images: the IDX labels file of --data (gzipped or not)
  --classes K             images: classes (default 10; every label must lie in 0..K-1)
  --min-length A --max-length B --max-depth D --min-args P --max-args Q   ListOps expressions
  --train-examples N --test-examples M   ListOps split sizes
  --pooling mean|cls      listops and images: mean over the real tokens (default) or a CLS token
  --layers N --heads H --head-dim D --ffn F   model size (default: the preset's; width is H x D)
  --out DIR               where metrics and checkpoints go`;

type RunValues = { [K in keyof typeof RUN_OPTIONS]?: string };

/** The model-size flags (--layers, --heads, --head-dim, --ffn), each a positive integer, as model overrides. */
export function modelSizeOptions(v: RunValues): Partial<Pick<ModelConfig, 'layers' | 'heads' | 'headDim' | 'ffn'>> {
  const size: Partial<Pick<ModelConfig, 'layers' | 'heads' | 'headDim' | 'ffn'>> = {};
  for (const [flag, key] of [
    ['layers', 'layers'],
    ['heads', 'heads'],
    ['head-dim', 'headDim'],
    ['ffn', 'ffn'],
  ] as const) {
    const x = intOption(v[flag], flag);
    if (x !== undefined) size[key] = x;
  }
  return size;
}

/** A run config from command-line values. */
export function runConfigFrom(v: RunValues, variant: Variant): RunConfig {
  const task = taskOption(v.task);
  const o: RunOverrides = {};
  const set = <K extends keyof RunOverrides>(k: K, x: RunOverrides[K] | undefined) => {
    if (x !== undefined) o[k] = x;
  };
  set('steps', intOption(v.steps, 'steps'));
  set('batch', intOption(v.batch, 'batch'));
  set('seed', intOption(v.seed, 'seed', 0));
  set('evalEvery', intOption(v['eval-every'], 'eval-every'));
  set('lr', numOption(v.lr, 'lr'));
  const hypers: RunOverrides['hypers'] = {};
  for (const [flag, key] of [
    ['beta', 'beta'],
    ['gamma', 'gamma'],
    ['beta-tilde', 'betaTilde'],
    ['gamma-tilde', 'gammaTilde'],
    ['delta', 'delta'],
  ] as const) {
    const x = numOption(v[flag], flag);
    if (x !== undefined) hypers[key] = x;
  }
  if (Object.keys(hypers).length > 0) o.hypers = hypers;
  const weights = weightsOption(v.weights);
  if (weights !== undefined) {
    if (weights !== 'recurrence' && !variantUsesMomentum(variant)) {
      throw new UsageError(`--weights ${weights} applies to momentum attention; --variant ${variant} has none`);
    }
    o.weights = weights;
  }
  const mqarFlags = (['pairs', 'queries', 'key-vocab', 'value-vocab'] as const).filter((k) => v[k] !== undefined);
  if (task !== 'mqar' && mqarFlags.length > 0) throw new UsageError(`--${mqarFlags.join(', --')} apply to --task mqar`);
  const images = task === 'mnist' || task === 'images';
  if (!images && (v.resolution !== undefined || v.subset !== undefined || v.data !== undefined)) {
    throw new UsageError('--resolution, --subset and --data apply to --task mnist and --task images');
  }
  if (task !== 'images' && (v.labels !== undefined || v.classes !== undefined)) throw new UsageError('--labels and --classes apply to --task images');
  const listopsFlags = (['min-length', 'max-length', 'max-depth', 'min-args', 'max-args', 'train-examples', 'test-examples'] as const).filter((k) => v[k] !== undefined);
  if (task !== 'listops' && listopsFlags.length > 0) throw new UsageError(`--${listopsFlags.join(', --')} apply to --task listops`);
  if (v.pooling !== undefined) {
    if (!isClassificationTask(task)) throw new UsageError('--pooling applies to --task listops and --task images (the encoder)');
    if (!(POOLINGS as readonly string[]).includes(v.pooling)) throw new UsageError(`--pooling must be ${POOLINGS.join(' or ')}; got '${v.pooling}'`);
    o.model = { encoder: { pooling: v.pooling as (typeof POOLINGS)[number] } };
  }
  const size = modelSizeOptions(v);
  if (Object.keys(size).length > 0) o.model = { ...o.model, ...size };
  if (task === 'listops') {
    if (v['seq-len'] !== undefined || v.symbols !== undefined) throw new UsageError('--seq-len and --symbols apply to --task copy and mqar; ListOps takes --min-length and --max-length');
    const t: Record<string, number> = {};
    for (const [flag, k] of [
      ['min-length', 'minLength'],
      ['max-length', 'maxLength'],
      ['max-depth', 'maxDepth'],
      ['min-args', 'minArgs'],
      ['max-args', 'maxArgs'],
      ['train-examples', 'trainExamples'],
      ['test-examples', 'testExamples'],
    ] as const) {
      const x = intOption(v[flag], flag);
      if (x !== undefined) t[k] = x;
    }
    o.task = t;
  } else if (task === 'mqar') {
    if (v.symbols !== undefined) throw new UsageError('--symbols applies to --task copy');
    const t: Record<string, number> = {};
    const len = intOption(v['seq-len'], 'seq-len');
    if (len !== undefined) t.maxLen = len;
    for (const [flag, k] of [
      ['pairs', 'pairs'],
      ['queries', 'queries'],
      ['key-vocab', 'keys'],
      ['value-vocab', 'values'],
    ] as const) {
      const x = intOption(v[flag], flag);
      if (x !== undefined) t[k] = x;
    }
    o.task = t;
  } else if (task === 'copy') {
    const t: Record<string, number> = {};
    const len = intOption(v['seq-len'], 'seq-len');
    const sym = intOption(v.symbols, 'symbols');
    if (len !== undefined) t.maxLen = len;
    if (sym !== undefined) t.symbols = sym;
    o.task = t;
  } else {
    if (v['seq-len'] !== undefined || v.symbols !== undefined) throw new UsageError('--seq-len and --symbols apply to --task copy');
    const t: Record<string, unknown> = {};
    const res = intOption(v.resolution, 'resolution');
    if (res !== undefined) {
      if (!(MNIST_RESOLUTIONS as readonly number[]).includes(res)) throw new UsageError(`--resolution must be ${orList(MNIST_RESOLUTIONS)}; got ${res}`);
      t.resolution = res;
    }
    const sub = intOption(v.subset, 'subset');
    if (sub !== undefined) t.subset = sub;
    if (v.data !== undefined) t.source = v.data;
    if (task === 'images') {
      if (v.data !== undefined && v.labels === undefined) throw new UsageError('--task images with --data IMAGES needs --labels LABELS (the IDX labels file)');
      if (v.labels !== undefined && v.data === undefined) throw new UsageError('--labels needs --data IMAGES beside it');
      if (v.labels !== undefined) t.labels = v.labels;
      const classes = intOption(v.classes, 'classes', 2);
      if (classes !== undefined) t.classes = classes;
    }
    o.task = t;
  }
  try {
    return makeRunConfig({ task, variant, ...(v.preset !== undefined ? { preset: v.preset } : {}), overrides: o });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function readOption(path: string, flag: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${path}: ${(err as Error).message}`);
  }
}

/**
 * The data a run needs: the embedded digits (with their labels), or an IDX images file for MNIST
 * generation, or an IDX images + labels pair for image classification (labels checked against
 * the images and the classes before anything is trained: nothing is half-loaded).
 */
export async function loadTaskData(cfg: RunConfig, dataFile?: string, labelsFile?: string): Promise<TaskData> {
  const spec = dataSpecOf(cfg);
  if (spec.kind !== 'mnist-embedded' && spec.kind !== 'mnist-dataset') return { kind: spec.kind };
  if (dataFile === undefined && spec.kind === 'mnist-dataset') dataFile = spec.name;
  if (labelsFile === undefined && spec.kind === 'mnist-dataset') labelsFile = spec.labels;
  if (dataFile === undefined) return { kind: 'mnist', images: await loadMnistFile() };
  const bytes = await readOption(dataFile, '--data');
  if (cfg.task.kind === 'images') {
    if (labelsFile === undefined) throw new UsageError(`--task images with --data ${dataFile} needs --labels LABELS`);
    const labels = await readOption(labelsFile, '--labels');
    let images;
    try {
      images = await loadIdxDataset(bytes, labels);
    } catch (err) {
      throw new UsageError(`--data ${dataFile} with --labels ${labelsFile}: ${(err as Error).message}`);
    }
    try {
      checkImageLabels(images, cfg.task.classes);
    } catch (err) {
      throw new UsageError(`--labels ${labelsFile}: ${(err as Error).message}`);
    }
    return { kind: 'mnist', images };
  }
  try {
    return { kind: 'mnist', images: await loadIdxImages(bytes) };
  } catch (err) {
    throw new UsageError(`--data ${dataFile} is not a usable IDX images file: ${(err as Error).message}`);
  }
}

/** The metric that matters for a task, formatted. */
export function metricOf(r: MetricsRecord): string {
  if (r.accuracy !== undefined) return `accuracy ${(100 * r.accuracy).toFixed(1)}%`;
  if (r.bitsPerDim !== undefined) return `${r.bitsPerDim.toFixed(3)} bits/dim at ${r.resolution}x${r.resolution}`;
  return '';
}

/** A one-line progress bar on a terminal; plain lines at evaluations otherwise. */
export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  constructor(private readonly label: string, private readonly total: number) {}

  update(r: MetricsRecord): void {
    const width = 24;
    const done = Math.round((width * r.step) / this.total);
    const bar = `[${'#'.repeat(done)}${'.'.repeat(width - done)}]`;
    const line =
      `${this.label} ${bar} ${r.step}/${this.total} loss ${r.trainLoss.toFixed(4)}` +
      (r.testLoss !== null ? ` test ${r.testLoss.toFixed(4)} ${metricOf(r)}` : '') +
      ` ${Math.round(r.tokensPerSec)} tok/s`;
    if (this.tty) process.stderr.write(`\r${line.padEnd(100)}`);
    else if (r.testLoss !== null) process.stderr.write(`${line}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

/** The run config in a checkpoint (src/train/checkpointConfig.ts); `what` names the option in the error. */
/** `--checkpoint FILE`: its bytes and run config; a missing, unreadable or foreign file is a usage error naming it. */
export function checkpointOption(path: string | undefined): { bytes: Uint8Array; cfg: RunConfig } {
  if (path === undefined) throw new UsageError('--checkpoint is required');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new UsageError(`cannot read --checkpoint ${path}: ${(err as Error).message}`);
  }
  return { bytes, cfg: checkpointConfig(bytes, `--checkpoint ${path}`) };
}

export function checkpointConfig(bytes: Uint8Array, what: string): RunConfig {
  try {
    return readCheckpointConfig(bytes);
  } catch (err) {
    throw new UsageError(`${what} is not a playground checkpoint: ${(err as Error).message}`);
  }
}
