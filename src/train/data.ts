// The training and evaluation data of a run, as host arrays ready for upload. A stream's whole
// state is plain numbers (checkpoint metadata), so a resumed run draws exactly the batches the
// uninterrupted run would have drawn.
import { COPY_HELDOUT_SEED, makeCopyBatch, makeCopyHeldOut, type CopyBatch } from '../tasks/copyTask.ts';
import type { ImageSet } from '../tasks/idx.ts';
import { checkImageLabels, imagesToClassification } from '../tasks/imageClassification.ts';
import { checkListOpsConfig, listOpsSplits, packListOps, type ListOpsConfig, type ListOpsExample } from '../tasks/listops.ts';
import { MQAR_HELDOUT_SEED, makeMqarBatch, makeMqarHeldOut, type MqarBatch } from '../tasks/mqar.ts';
import { MNIST_TEST_COUNT, checkImageSet, downsampleImages, imagesToSequences, splitImages, subsetImages } from '../tasks/mnist.ts';
import { EpochSampler, Random, type SamplerState } from '../util/random.ts';
import type { CopyTaskConfig, ImagesTaskConfig, ListOpsTaskConfig, MnistTaskConfig, MqarTaskConfig, RunConfig, TaskConfig } from './types.ts';

/**
 * What a run trains on: the copy task, MQAR and ListOps need nothing; MNIST generation and image
 * classification need images (any IDX set; classification needs their labels too).
 */
export type TaskData = { kind: 'copy' } | { kind: 'mqar' } | { kind: 'listops' } | { kind: 'mnist'; images: ImageSet };

export interface Batch {
  batch: number;
  seq: number;
  inputs: Uint32Array; // [B, N]
  /** Next-token tasks: [B * N], one target per position; classification: [B], one class per sequence. */
  targets: Uint32Array;
  /** [B * N] loss weights, or null: every position counts (always null for classification). */
  mask: Float32Array | null;
  /** Classification: [B] real tokens per row before the right padding; null or absent: every row is full. */
  lengths?: Uint32Array | null;
}

export type StreamState =
  | { kind: 'copy'; rng: number[] }
  | { kind: 'mqar'; rng: number[] }
  | { kind: 'mnist'; sampler: SamplerState }
  | { kind: 'listops'; sampler: SamplerState }
  | { kind: 'images'; sampler: SamplerState };

export interface DataStream {
  readonly task: TaskConfig;
  /** Positions per sequence. */
  readonly seq: number;
  next(batch: number): Batch;
  /** The evaluation set, cut into batches of at most `batch` sequences (always the same). */
  evalBatches(batch: number): Batch[];
  /**
   * Classifiers: a fixed sample of training sequences (the split's first, as many as the test set)
   * in batches of at most `batch`, for the training accuracy; the stream's state does not move.
   */
  trainEvalBatches?(batch: number): Batch[];
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

/** The generator's configuration of a ListOps task (checked: an unreachable length bound throws). */
export function listOpsConfigOf(task: ListOpsTaskConfig): ListOpsConfig {
  const { minLength, maxLength, maxDepth, minArgs, maxArgs } = task;
  return checkListOpsConfig({ minLength, maxLength, maxDepth, minArgs, maxArgs });
}

/** Splits are costly at LRA's lengths; runs of one config (a comparison's variants) share them. */
const listOpsCache = new Map<string, { train: ListOpsExample[]; test: ListOpsExample[] }>();
const LISTOPS_CACHE_ENTRIES = 4;

function listOpsData(task: ListOpsTaskConfig): { train: ListOpsExample[]; test: ListOpsExample[] } {
  const key = JSON.stringify(task);
  const hit = listOpsCache.get(key);
  if (hit) return hit;
  if (!Number.isInteger(task.trainExamples) || task.trainExamples < 1) throw new Error(`ListOps: trainExamples must be a positive integer; got ${task.trainExamples}`);
  if (!Number.isInteger(task.testExamples) || task.testExamples < 1) throw new Error(`ListOps: testExamples must be a positive integer; got ${task.testExamples}`);
  const s = listOpsSplits(listOpsConfigOf(task), { train: task.trainExamples, validation: 0, test: task.testExamples });
  const data = { train: s.train, test: s.test };
  if (listOpsCache.size >= LISTOPS_CACHE_ENTRIES) listOpsCache.delete(listOpsCache.keys().next().value!);
  listOpsCache.set(key, data);
  return data;
}

/** Classification batches from packed examples: targets are the labels, one per sequence. */
function classBatch(b: { batch: number; seq: number; inputs: Uint32Array; labels: Uint32Array; lengths?: Uint32Array }): Batch {
  return { batch: b.batch, seq: b.seq, inputs: b.inputs, targets: b.labels, mask: null, lengths: b.lengths ?? null };
}

/** 0..n-1 cut into runs of at most `batch`. */
function indexBatches(n: number, batch: number): number[][] {
  const out: number[][] = [];
  for (let i0 = 0; i0 < n; i0 += batch) out.push(Array.from({ length: Math.min(batch, n - i0) }, (_, i) => i0 + i));
  return out;
}

class ListOpsStream implements DataStream {
  private sampler: EpochSampler;
  readonly train: ListOpsExample[];
  readonly test: ListOpsExample[];
  /** The longest a batch can be: the length bound (batches are padded to their own longest). */
  readonly seq: number;

  constructor(readonly task: ListOpsTaskConfig, seed: number) {
    ({ train: this.train, test: this.test } = listOpsData(task));
    this.seq = task.maxLength;
    this.sampler = new EpochSampler(this.train.length, dataSeed(seed));
  }

  next(batch: number): Batch {
    return classBatch(packListOps(Array.from(this.sampler.next(batch), (i) => this.train[i]!)));
  }

  evalBatches(batch: number): Batch[] {
    return indexBatches(this.test.length, batch).map((idx) => classBatch(packListOps(idx.map((i) => this.test[i]!))));
  }

  trainEvalBatches(batch: number): Batch[] {
    const n = Math.min(this.test.length, this.train.length);
    return indexBatches(n, batch).map((idx) => classBatch(packListOps(idx.map((i) => this.train[i]!))));
  }

  state(): StreamState {
    return { kind: 'listops', sampler: this.sampler.state() };
  }

  restore(s: StreamState): void {
    if (s.kind !== 'listops') throw new Error(`data state is for ${s.kind}, this run trains ListOps`);
    if (s.sampler.size !== this.train.length) throw new Error(`data state covers ${s.sampler.size} training expressions, this split has ${this.train.length}`);
    this.sampler = EpochSampler.fromState(s.sampler);
  }

  describe(): string {
    const t = this.task;
    return `ListOps: ${t.minLength}-${t.maxLength} tokens, depth ${t.maxDepth}, ${t.minArgs}-${t.maxArgs} arguments; ${this.train.length} training, ${this.test.length} test expressions`;
  }
}

class ImagesStream implements DataStream {
  private sampler: EpochSampler;
  readonly train: ImageSet & { labels: Uint8Array };
  readonly test: ImageSet & { labels: Uint8Array };
  readonly seq: number;

  constructor(readonly task: ImagesTaskConfig, images: ImageSet, seed: number) {
    checkImageLabels(images, task.classes);
    const { rows, cols } = images;
    if (rows !== cols) throw new Error(`image classification needs square images; these are ${rows}x${cols}`);
    if (rows % task.resolution !== 0) throw new Error(`cannot downsample ${rows}x${cols} images to ${task.resolution}x${task.resolution} (not a divisor)`);
    if (images.count < 2) throw new Error(`need at least 2 images (train and test); got ${images.count}`);
    const testCount = Math.min(MNIST_TEST_COUNT, Math.max(1, Math.floor(images.count / 10)));
    const split = splitImages(images, { testCount });
    const factor = rows / task.resolution;
    let train = factor > 1 ? downsampleImages(split.train, factor) : split.train;
    const test = factor > 1 ? downsampleImages(split.test, factor) : split.test;
    if (task.subset !== null && task.subset < train.count) train = subsetImages(train, task.subset);
    this.train = train as ImageSet & { labels: Uint8Array };
    this.test = (task.testImages < test.count ? subsetImages(test, task.testImages) : test) as ImageSet & { labels: Uint8Array };
    this.seq = task.resolution * task.resolution;
    this.sampler = new EpochSampler(this.train.count, dataSeed(seed));
  }

  next(batch: number): Batch {
    return classBatch(imagesToClassification(this.train, this.sampler.next(batch)));
  }

  evalBatches(batch: number): Batch[] {
    return indexBatches(this.test.count, batch).map((idx) => classBatch(imagesToClassification(this.test, idx)));
  }

  trainEvalBatches(batch: number): Batch[] {
    const n = Math.min(this.test.count, this.train.count);
    return indexBatches(n, batch).map((idx) => classBatch(imagesToClassification(this.train, idx)));
  }

  state(): StreamState {
    return { kind: 'images', sampler: this.sampler.state() };
  }

  restore(s: StreamState): void {
    if (s.kind !== 'images') throw new Error(`data state is for ${s.kind}, this run trains image classification`);
    if (s.sampler.size !== this.train.count) {
      throw new Error(`data state covers ${s.sampler.size} training images, this dataset has ${this.train.count} after split and subset`);
    }
    this.sampler = EpochSampler.fromState(s.sampler);
  }

  describe(): string {
    const r = this.task.resolution;
    return `image classification (${this.task.source}) at ${r}x${r} (${r * r} tokens), ${this.task.classes} classes: ${this.train.count} training, ${this.test.count} test images`;
  }
}

export function makeDataStream(cfg: RunConfig, data: TaskData): DataStream {
  const t = cfg.task;
  if (t.kind === 'copy') return new CopyStream(t, cfg.seed);
  if (t.kind === 'mqar') return new MqarStream(t, cfg.seed);
  if (t.kind === 'listops') return new ListOpsStream(t, cfg.seed);
  if (data.kind !== 'mnist') throw new Error(`${t.kind === 'images' ? 'image classification' : 'MNIST generation'} needs images: pass { kind: "mnist", images }`);
  return t.kind === 'images' ? new ImagesStream(t, data.images, cfg.seed) : new MnistStream(t, data.images, cfg.seed);
}
