/**
 * Pixel-sequence image classification, the Long Range Arena's "Image" task on the images that ship
 * here: each image's grey levels in raster order (784 tokens at 28 x 28, 196 at 14 x 14, 49 at 7 x 7;
 * downsample with `downsampleImages`), one label per image. Any `ImageSet` with labels works: the
 * embedded MNIST digits, or an IDX images + labels pair (Fashion-MNIST, MNIST, EMNIST).
 */
import type { ImageSet } from './idx.ts';
import { checkImageSet, PIXEL_VOCAB } from './mnist.ts';

export { PIXEL_VOCAB };

export interface ImageClassBatch {
  batch: number;
  /** rows * cols: every pixel is an input token. */
  seq: number;
  inputs: Uint32Array; // [B, N] grey levels 0..255
  labels: Uint32Array; // [B]
}

/**
 * Checks that every image has a label in 0..classes-1; throws naming the first image that has
 * none or a label outside the range, so a wrong labels file is refused before training.
 */
export function checkImageLabels(set: ImageSet, classes: number): asserts set is ImageSet & { labels: Uint8Array } {
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`image classification: classes must be an integer >= 2; got ${String(classes)}`);
  if (!set.labels) throw new Error('image classification: the images have no labels (give an IDX labels file with them)');
  checkImageSet(set); // also: one label per image
  const bad = set.labels.findIndex((l) => l >= classes);
  if (bad >= 0) {
    throw new Error(`image classification: label ${set.labels[bad]} of image ${bad} is outside the ${classes} classes 0..${classes - 1}`);
  }
}

/** The classes a labelled set uses: one more than its largest label (at least 2). */
export function classCount(set: ImageSet): number {
  if (!set.labels || set.labels.length === 0) throw new Error('image classification: the images have no labels');
  let most = 0;
  for (const l of set.labels) if (l > most) most = l;
  return Math.max(2, most + 1);
}

/** One batch of whole images as token sequences with their labels; `indices` picks the images. */
export function imagesToClassification(set: ImageSet, indices?: ArrayLike<number>): ImageClassBatch {
  if (!set.labels) throw new Error('image classification: the images have no labels');
  const seq = set.rows * set.cols;
  const pick = indices ?? Array.from({ length: set.count }, (_, i) => i);
  const batch = pick.length;
  const inputs = new Uint32Array(batch * seq); // [B, N]
  const labels = new Uint32Array(batch); // [B]
  for (let b = 0; b < batch; b++) {
    const j = pick[b]!;
    if (!Number.isInteger(j) || j < 0 || j >= set.count) throw new Error(`image classification: index ${j} outside 0..${set.count - 1}`);
    inputs.set(set.pixels.subarray(j * seq, (j + 1) * seq), b * seq);
    labels[b] = set.labels[j]!;
  }
  return { batch, seq, inputs, labels };
}

/** The share of the most frequent class: the accuracy a classifier must beat to have learnt anything. */
export function majorityRate(labels: ArrayLike<number>): number {
  if (labels.length === 0) return NaN;
  const counts = new Map<number, number>();
  let best = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = (counts.get(labels[i]!) ?? 0) + 1;
    counts.set(labels[i]!, c);
    if (c > best) best = c;
  }
  return best / labels.length;
}
