// IDX files opened in the page (src/store/idxOpen.ts): images alone for MNIST generation, images
// and labels for classification, refused when opened with the reason: a labels count that differs
// from the images, a label outside the classes, a missing labels file, a shape no resolution fits.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openIdxFiles } from '../../src/store/idxOpen.ts';

/** An IDX file of unsigned bytes: magic 0x0000 08 <dims>, the dims big-endian, then the data. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.byteLength + data.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(data, head.byteLength);
  return out;
}

const images = (count: number, side = 28) => idx([count, side, side], new Uint8Array(count * side * side).map((_, i) => i % 251));
const labels = (values: number[]) => idx([values.length], Uint8Array.from(values));

describe('openIdxFiles', () => {
  it('reads images with their labels for classification, whatever the order and file names', async () => {
    const r = await openIdxFiles([{ name: 'y.idx', bytes: labels([0, 1, 2, 9]) }, { name: 'x.idx', bytes: images(4) }], 'images', 10);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.name).toBe('x.idx'); // the larger file holds the images
    expect(Array.from(r.set.labels!)).toEqual([0, 1, 2, 9]);
    expect(r.info).toEqual({ count: 4, rows: 28, cols: 28, classes: 10 });
    expect(r.resolutions).toEqual([28, 14, 7]);
    expect(r.note).toBe('x.idx: 4 images of 28x28 with 4 labels from y.idx (classes 0..9); resolutions 28, 14, 7');
    const gz = await openIdxFiles([{ name: 'train-images.gz', bytes: gzipSync(images(3)) }, { name: 'train-labels.gz', bytes: gzipSync(labels([1, 1, 0])) }], 'images', 2);
    expect(gz.ok && gz.info.classes).toBe(2);
  });

  it('refuses labels whose count differs from the images', async () => {
    const r = await openIdxFiles([{ name: 'imgs', bytes: images(4) }, { name: 'labels', bytes: labels([0, 1, 2]) }], 'images', 10);
    expect(r).toEqual({ ok: false, error: 'imgs with labels: IDX dataset: 4 images but 3 labels' });
  });

  it('refuses a label outside 0..classes-1, naming the image', async () => {
    const r = await openIdxFiles([{ name: 'imgs', bytes: images(3) }, { name: 'labels', bytes: labels([0, 12, 1]) }], 'images', 10);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBe('labels: image classification: label 12 of image 1 is outside the 10 classes 0..9; set Classes to cover them or open other labels');
  });

  it('refuses classification without labels, and an images file given as the labels', async () => {
    const r = await openIdxFiles([{ name: 'imgs', bytes: images(3) }], 'images', 10);
    expect(!r.ok && r.error).toMatch(/^imgs: image classification needs the labels too/);
    const two = await openIdxFiles([{ name: 'a', bytes: images(3) }, { name: 'b-labels', bytes: images(3, 7) }], 'images', 10);
    expect(!two.ok && two.error).toMatch(/^a with b-labels: IDX labels: expected 1 dimension/);
  });

  it('takes images alone for MNIST generation and refuses a shape no resolution fits', async () => {
    const r = await openIdxFiles([{ name: 'imgs', bytes: images(3) }], 'mnist', 10);
    expect(r.ok && r.info.classes).toBeNull();
    const odd = await openIdxFiles([{ name: 'odd', bytes: images(3, 9) }], 'mnist', 10);
    expect(!odd.ok && odd.error).toMatch(/^odd cannot be used: 9x9 images cannot be downsampled/);
    const three = await openIdxFiles([1, 2, 3].map((i) => ({ name: `f${i}`, bytes: images(2) })), 'mnist', 10);
    expect(!three.ok && three.error).toMatch(/got 3 files/);
  });
});
