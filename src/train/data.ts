// The training and evaluation data of a run, as host arrays ready for upload. A stream's whole
// state is plain numbers (checkpoint metadata), so a resumed run draws exactly the batches the
// uninterrupted run would have drawn.
import { COPY_HELDOUT_SEED, makeCopyBatch, makeCopyHeldOut, type CopyBatch } from '../tasks/copyTask.ts';
import type { ImageSet } from '../tasks/idx.ts';
import { MQAR_HELDOUT_SEED, makeMqarBatch, makeMqarHeldOut, type MqarBatch } from '../tasks/mqar.ts';
import { MNIST_TEST_COUNT, checkImageSet, downsampleImages, imagesToSequences, splitImages, subsetImages } from '../tasks/mnist.ts';
import { EpochSampler, Random, type SamplerState } from '../util/random.ts';
import type { CopyTaskConfig, MnistTaskConfig, MqarTaskConfig, RunConfig, TaskConfig } from './types.ts';

/** What a run trains on: the copy task needs nothing; MNIST generation needs images (any IDX set). */
export type TaskData = { kind: 'copy' } | { kind: 'mqar' } | { kind: 'mnist'; images: ImageSet };

export interface Batch {
  batch: number;
  seq: number;
  inputs: Uint32Array; // [B, N]
  targets: Uint32Array; // [B * N]
  /** [B * N] loss weights, or null: every position counts. */
  mask: Float32Array | null;
}

export type StreamState = { kind: 'copy'; rng: number[] } | { kind: 'mqar'; rng: number[] } | { kind: 'mnist'; sampler: SamplerState };

export interface DataStream {
  readonly task: TaskConfig;
  /** Positions per sequence. */
  readonly seq: number;
  next(batch: number): Batch;
  /** The evaluation set, cut into batches of at most `batch` sequences (always the same). */
  evalBatches(batch: number): Batch[];
  state(): StreamState;
  restore(s: StreamState): void;
  /** A line for logs: what the numbers belong to. */
  describe(): string;
}

/** Seeds of the data order, distinct from the initialisation's stream for the same run seed. */
export function dataSeed(seed: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + 0x165667b1) >>> 0;
}

function fromCopy(b: CopyBatch): Batch {
  return { batch: b.batch, seq: b.maxLen, inputs: b.inputs, targets: b.targets, mask: b.mask };
}

/** A fixed held-out set [count, L] cut into batches of at most `batch` sequences. */
function cutHeldOut(h: { batch: number; maxLen: number; inputs: Uint32Array; targets: Uint32Array; mask: Float32Array }, batch: number): Batch[] {
  const L = h.maxLen;
  const out: Batch[] = [];
  for (let b0 = 0; b0 < h.batch; b0 += batch) {
    const n = Math.min(batch, h.batch - b0);
    out.push({
      batch: n,
      seq: L,
      inputs: h.inputs.slice(b0 * L, (b0 + n) * L),
      targets: h.targets.slice(b0 * L, (b0 + n) * L),
      mask: h.mask.slice(b0 * L, (b0 + n) * L),
    });
  }
  return out;
}

class CopyStream implements DataStream {
  private rng: Random;
  private heldOut: CopyBatch;
  readonly seq: number;

  constructor(readonly task: CopyTaskConfig, seed: number) {
    this.rng = new Random(dataSeed(seed));
    this.seq = task.maxLen;
    this.heldOut = makeCopyHeldOut(task.heldOut, this.copyCfg(), COPY_HELDOUT_SEED);
  }

  private copyCfg() {
    return { maxLen: this.task.maxLen, symbols: this.task.symbols };
  }

  next(batch: number): Batch {
    return fromCopy(makeCopyBatch(this.rng, batch, this.copyCfg()));
  }

  /** The held-out sequences (with lengths, for accuracy by sequence). */
  get heldOutSet(): CopyBatch {
    return this.heldOut;
  }

  evalBatches(batch: number): Batch[] {
    return cutHeldOut(this.heldOut, batch);
  }

  state(): StreamState {
    return { kind: 'copy', rng: [...this.rng.state()] };
  }

  restore(s: StreamState): void {
    if (s.kind !== 'copy') throw new Error(`data state is for ${s.kind}, this run trains the copy task`);
    this.rng = Random.fromState(s.rng);
  }

  describe(): string {
    return `copy task: length ${this.task.maxLen}, ${this.task.symbols} symbols, ${this.task.heldOut} held-out sequences`;
  }
}

class MqarStream implements DataStream {
  private rng: Random;
  private heldOut: MqarBatch;
  readonly seq: number;

  constructor(readonly task: MqarTaskConfig, seed: number) {
    this.rng = new Random(dataSeed(seed));
    this.seq = task.maxLen;
    this.heldOut = makeMqarHeldOut(task.heldOut, this.mqarCfg(), MQAR_HELDOUT_SEED);
  }

  private mqarCfg() {
    const { maxLen, pairs, queries, keys, values } = this.task;
    return { maxLen, pairs, queries, keys, values };
  }

  next(batch: number): Batch {
    const b = makeMqarBatch(this.rng, batch, this.mqarCfg());
    return { batch: b.batch, seq: b.maxLen, inputs: b.inputs, targets: b.targets, mask: b.mask };
  }

  evalBatches(batch: number): Batch[] {
    return cutHeldOut(this.heldOut, batch);
  }

  state(): StreamState {
    return { kind: 'mqar', rng: [...this.rng.state()] };
  }

  restore(s: StreamState): void {
    if (s.kind !== 'mqar') throw new Error(`data state is for ${s.kind}, this run trains MQAR`);
    this.rng = Random.fromState(s.rng);
  }

  describe(): string {
    const t = this.task;
    return `MQAR: length ${t.maxLen}, ${t.pairs} pairs, ${t.queries} queries, ${t.keys} keys, ${t.values} values, ${t.heldOut} held-out sequences`;
  }
}

class MnistStream implements DataStream {
  private sampler: EpochSampler;
  readonly train: ImageSet;
  readonly test: ImageSet;
  readonly seq: number;

  constructor(readonly task: MnistTaskConfig, images: ImageSet, seed: number) {
    checkImageSet(images);
    const { rows, cols } = images;
    if (rows !== cols) throw new Error(`MNIST generation needs square images; these are ${rows}x${cols}`);
    if (rows % task.resolution !== 0) {
      throw new Error(`cannot downsample ${rows}x${cols} images to ${task.resolution}x${task.resolution} (not a divisor)`);
    }
    if (images.count < 2) throw new Error(`need at least 2 images (train and test); got ${images.count}`);
    const testCount = Math.min(MNIST_TEST_COUNT, Math.max(1, Math.floor(images.count / 10)));
    const split = splitImages(images, { testCount });
    const factor = rows / task.resolution;
    let train = factor > 1 ? downsampleImages(split.train, factor) : split.train;
    const test = factor > 1 ? downsampleImages(split.test, factor) : split.test;
    if (task.subset !== null && task.subset < train.count) train = subsetImages(train, task.subset);
    this.train = train;
    this.test = task.testImages < test.count ? subsetImages(test, task.testImages) : test;
    this.seq = task.resolution * task.resolution - 1;
    this.sampler = new EpochSampler(this.train.count, dataSeed(seed));
  }

  next(batch: number): Batch {
    const s = imagesToSequences(this.train, this.sampler.next(batch));
    return { batch, seq: s.seqLen, inputs: s.inputs, targets: s.targets, mask: null };
  }

  evalBatches(batch: number): Batch[] {
    const out: Batch[] = [];
    for (let i0 = 0; i0 < this.test.count; i0 += batch) {
      const idx = Array.from({ length: Math.min(batch, this.test.count - i0) }, (_, i) => i0 + i);
      const s = imagesToSequences(this.test, idx);
      out.push({ batch: s.batch, seq: s.seqLen, inputs: s.inputs, targets: s.targets, mask: null });
    }
    return out;
  }

  state(): StreamState {
    return { kind: 'mnist', sampler: this.sampler.state() };
  }

  restore(s: StreamState): void {
    if (s.kind !== 'mnist') throw new Error(`data state is for ${s.kind}, this run trains MNIST generation`);
    if (s.sampler.size !== this.train.count) {
      throw new Error(`data state covers ${s.sampler.size} training images, this dataset has ${this.train.count} after split and subset`);
    }
    this.sampler = EpochSampler.fromState(s.sampler);
  }

  describe(): string {
    const r = this.task.resolution;
    return `MNIST generation (${this.task.source}) at ${r}x${r}: ${this.train.count} training, ${this.test.count} test images`;
  }
}

export function makeDataStream(cfg: RunConfig, data: TaskData): DataStream {
  if (cfg.task.kind === 'copy') return new CopyStream(cfg.task, cfg.seed);
  if (cfg.task.kind === 'mqar') return new MqarStream(cfg.task, cfg.seed);
  if (data.kind !== 'mnist') throw new Error('MNIST generation needs images: pass { kind: "mnist", images }');
  return new MnistStream(cfg.task, data.images, cfg.seed);
}
