// IDX parsing on real files nobody here wrote (Debian's Fashion-MNIST), and on truncated and
// corrupted copies of them: each defect must give its own error, naming the sizes involved.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadIdxDataset, loadIdxImages, loadIdxLabels, parseIdx } from '../../src/tasks/idx.ts';
import { FASHION_MNIST_DIR, loadFashionMnist } from '../../src/tasks/dataNode.ts';

const IMAGES = 't10k-images-idx3-ubyte.gz';
const LABELS = 't10k-labels-idx1-ubyte.gz';
const TRAIN_LABELS = 'train-labels-idx1-ubyte.gz';
const TEST_COUNT = 10_000;
const SIDE = 28;
const CLASSES = 10;
const IMAGE_HEADER = 16; // magic + 3 dims
// The published Fashion-MNIST test labels begin: ankle boot, pullover, trouser, trouser, shirt, ...
const FIRST_TEST_LABELS = [9, 2, 1, 1, 6, 1, 4, 6, 5, 7];

/** Never skips: a machine without the data fails with what to install. */
function readFashion(name: string): Uint8Array {
  const path = `${FASHION_MNIST_DIR}/${name}`;
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`apt-get install dataset-fashion-mnist\` (or \`node scripts/setup.mjs\` as root)`);
  }
  return new Uint8Array(readFileSync(path));
}

function edited(bytes: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  edit(copy);
  return copy;
}

const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, false);

describe('IDX on Fashion-MNIST (t10k)', () => {
  let imagesGz: Uint8Array;
  let labelsGz: Uint8Array;
  let imagesRaw: Uint8Array; // inflated by node:zlib, an implementation independent of ours
  let labelsRaw: Uint8Array;

  beforeAll(() => {
    imagesGz = readFashion(IMAGES);
    labelsGz = readFashion(LABELS);
    imagesRaw = new Uint8Array(gunzipSync(imagesGz));
    labelsRaw = new Uint8Array(gunzipSync(labelsGz));
  });

  it('reads the gzipped images: 10,000 of 28x28, the bytes zlib finds after the header, values 0..255', async () => {
    const set = await loadIdxImages(imagesGz);
    expect([set.count, set.rows, set.cols]).toEqual([TEST_COUNT, SIDE, SIDE]);
    expect(set.pixels.length).toBe(TEST_COUNT * SIDE * SIDE);
    expect(Buffer.from(set.pixels).equals(Buffer.from(imagesRaw.subarray(IMAGE_HEADER)))).toBe(true);
    let min = 255;
    let max = 0;
    for (const p of set.pixels) {
      min = Math.min(min, p);
      max = Math.max(max, p);
    }
    expect([min, max]).toEqual([0, 255]);
  });

  it('reads the labels: 1,000 of each class, in the published order', async () => {
    const labels = await loadIdxLabels(labelsGz);
    expect(labels.length).toBe(TEST_COUNT);
    expect(Array.from(labels.subarray(0, FIRST_TEST_LABELS.length))).toEqual(FIRST_TEST_LABELS);
    const counts = new Array(CLASSES).fill(0);
    for (const l of labels) counts[l]++;
    expect(counts).toEqual(new Array(CLASSES).fill(TEST_COUNT / CLASSES));
  });

  it('parses the uncompressed file identically, with the header fields', async () => {
    const plain = await parseIdx(imagesRaw);
    const gz = await parseIdx(imagesGz);
    expect(plain.type).toBe('u8');
    expect(plain.dims).toEqual([TEST_COUNT, SIDE, SIDE]);
    expect(gz.dims).toEqual(plain.dims);
    expect(Buffer.from(gz.data).equals(Buffer.from(plain.data))).toBe(true);
    plain.data[0] = 77; // a copy: the caller's bytes are not shared
    expect(imagesRaw[IMAGE_HEADER]).not.toBe(77);
  });

  it('pairs images with labels (and the Node loader does the same from disk)', async () => {
    const set = await loadIdxDataset(imagesGz, labelsGz);
    expect(set.labels!.length).toBe(set.count);
    const fromDisk = await loadFashionMnist('t10k');
    expect(fromDisk.count).toBe(TEST_COUNT);
    expect(Array.from(fromDisk.labels!.subarray(0, 10))).toEqual(FIRST_TEST_LABELS);
  });

  it('refuses images and labels of different counts', async () => {
    await expect(loadIdxDataset(imagesGz, readFashion(TRAIN_LABELS))).rejects.toThrow(/10000 images but 60000 labels/);
  });

  // Each row: a defect made from the real files, and the error it must produce.
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['gzip stream cut in half', () => imagesGz.subarray(0, imagesGz.length >> 1), /corrupt or truncated: inflating 2211039 compressed bytes failed/],
    ['gzip stream missing its last byte', () => labelsGz.subarray(0, labelsGz.length - 1), /corrupt or truncated: inflating 5124 compressed bytes/],
    ['gzip payload with a flipped byte', () => edited(labelsGz, (b) => (b[2000] ^= 0xff)), /IDX file \(gzip\) is corrupt or truncated/],
    ['images missing one byte', () => imagesRaw.subarray(0, imagesRaw.length - 1), /data is 7839999 bytes but dims \[10000, 28, 28\] need 7840000 \(1 bytes missing: truncated\?\)/],
    ['labels with 3 trailing bytes', () => new Uint8Array([...labelsRaw, 1, 2, 3]), /data is 10003 bytes but dims \[10000\] need 10000 \(3 bytes too many\)/],
    ['wrong magic', () => edited(imagesRaw, (b) => (b[0] = 0x1f)), /wrong magic 0x1f000803: an IDX file starts with two zero bytes/],
    ['float32 type code', () => edited(labelsRaw, (b) => (b[2] = 0x0d)), /type code 0x0d \(float32\) is valid IDX but unsupported/],
    ['unknown type code', () => edited(labelsRaw, (b) => (b[2] = 0x42)), /unknown type code 0x42 in magic 0x00004201/],
    ['header cut inside the dims', () => imagesRaw.subarray(0, 10), /header too short: 10 bytes, but magic 0x00000803 announces 3 dimensions, which need a 16-byte header/],
    ['shorter than a magic number', () => imagesRaw.subarray(0, 3), /header too short: 3 bytes, the magic number alone needs 4/],
    ['zero dimensions announced', () => edited(labelsRaw, (b) => (b[3] = 0)), /magic 0x00000800 announces 0 dimensions/],
    ['a zero dimension', () => edited(imagesRaw, (b) => setU32(b, 8, 0)), /dimension 1 of \[10000, 0, 28\] is 0/],
    ['count larger than the data', () => edited(labelsRaw, (b) => setU32(b, 4, 10_001)), /data is 10000 bytes but dims \[10001\] need 10001/],
  ];

  it.each(cases)('rejects %s', async (_, make, msg) => {
    await expect(parseIdx(make())).rejects.toThrow(msg);
  });

  it('says which loader got the wrong rank', async () => {
    await expect(loadIdxImages(labelsGz)).rejects.toThrow(/IDX images: expected 3 dimensions \[count, rows, cols\], got \[10000\]/);
    await expect(loadIdxLabels(imagesGz)).rejects.toThrow(/IDX labels: expected 1 dimension \[count\], got \[10000, 28, 28\]/);
  });

  it('reports gzip errors with the original sizes (a gzip member header and nothing else)', async () => {
    const GZIP_MEMBER_HEADER = 10;
    const headerOnly = imagesGz.subarray(0, GZIP_MEMBER_HEADER);
    await expect(parseIdx(headerOnly)).rejects.toThrow(/inflating 10 compressed bytes failed after 0 output bytes/);
  });
});
