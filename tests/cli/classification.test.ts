// The classification tasks through the command line, as a user runs them: `train --task images`
// on Debian's Fashion-MNIST files (--data and --labels) and on the embedded digits, `train --task
// listops` with --resume, `npm run data` writing {input, label, text}, and bad input (labels that
// do not match the images, a label outside the classes, a labels file with the wrong magic, a
// ListOps length bound no expression can meet) refused with a message naming it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIR } from '../../src/tasks/dataNode.ts';
import { evaluateListOps, parseListOps } from '../../src/tasks/listops.ts';
import { cli, jsonl, tempDir } from './run.ts';

const FASHION_IMAGES = join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz');
const FASHION_LABELS = join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz');
const TINY_LISTOPS = ['--task', 'listops', '--max-length', '24', '--train-examples', '40', '--test-examples', '8', '--batch', '4'];

/** An uncompressed IDX file: magic 0x000008DD, the sizes, the bytes. */
function idx(dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('npm run train, classification', () => {
  it('trains on Fashion-MNIST images with their labels: accuracy and testLoss in metrics.jsonl, a confusion matrix', () => {
    const dir = tempDir('images');
    const r = cli('train', ['--task', 'images', '--variant', 'adaptive', '--data', FASHION_IMAGES, '--labels', FASHION_LABELS, '--resolution', '7', '--subset', '40', '--steps', '4', '--eval-every', '2', '--batch', '4', '--out', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/image classification \(.*t10k-images-idx3-ubyte\.gz\) at 7x7 \(49 tokens\), 10 classes: 40 training, 200 test images/);
    const lines = jsonl(join(dir, 'metrics.jsonl'));
    expect(lines.map((l) => l.step)).toEqual([2, 4]);
    for (const l of lines) {
      expect(l.accuracy as number).toBeGreaterThanOrEqual(0);
      expect(l.testLoss as number).toBeGreaterThan(0);
      // Measured on the first 40 training images (the subset; fewer than the 200 test images): a multiple of 1/40.
      expect(l.trainAccuracy as number).toBeGreaterThanOrEqual(0);
      expect(l.trainAccuracy as number).toBeLessThanOrEqual(1);
      expect(Math.abs((l.trainAccuracy as number) * 40 - Math.round((l.trainAccuracy as number) * 40))).toBeLessThan(1e-9);
      expect(l).not.toHaveProperty('confusion');
    }
    const confusion = JSON.parse(readFileSync(join(dir, 'confusion.json'), 'utf8'));
    expect(confusion.step).toBe(4);
    expect(confusion.matrix).toHaveLength(10);
    const total = (confusion.matrix as number[][]).flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(200); // every test image once
    const right = (confusion.matrix as number[][]).reduce((s, row, t) => s + row[t]!, 0);
    expect(right / total).toBeCloseTo(lines[1]!.accuracy as number, 12);
  });

  it('trains ListOps (right-padded batches) and --resume continues it', () => {
    const dir = tempDir('listops');
    const first = cli('train', [...TINY_LISTOPS, '--variant', 'softmax', '--steps', '4', '--eval-every', '2', '--out', dir]);
    expect(first.code, first.err).toBe(0);
    expect(jsonl(join(dir, 'metrics.jsonl')).map((l) => l.step)).toEqual([2, 4]);
    expect(existsSync(join(dir, 'last.safetensors'))).toBe(true);
    const resumed = cli('train', ['--resume', join(dir, 'last.safetensors'), '--steps', '6', '--out', dir]);
    expect(resumed.code, resumed.err).toBe(0);
    const lines = jsonl(join(dir, 'metrics.jsonl'));
    expect(lines.map((l) => l.step)).toEqual([2, 4, 6]);
    expect(typeof lines[2]!.accuracy).toBe('number');
  });

  it.each([
    [['--task', 'listops', '--variant', 'linear', '--min-length', '500', '--max-length', '2000', '--max-depth', '2', '--max-args', '3'], /no expression can reach minLength 500: with maxDepth 2 and maxArgs 3 the longest has 5 tokens/],
    [['--task', 'listops', '--variant', 'linear', '--pooling', 'max'], /--pooling must be mean or cls; got 'max'/],
    [['--task', 'copy', '--variant', 'linear', '--max-length', '30'], /--max-length apply to --task listops/],
    [['--task', 'images', '--variant', 'linear', '--data', FASHION_IMAGES], /needs --labels LABELS/],
    [['--task', 'mnist', '--variant', 'linear', '--labels', FASHION_LABELS], /--labels and --classes apply to --task images/],
  ])('refuses %j', (args, message) => {
    const r = cli('train', args);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
  });

  it('refuses labels that do not match the images, a label outside the classes and a labels file with the wrong magic', () => {
    const dir = tempDir('badlabels');
    const images = join(dir, 'images.idx');
    writeFileSync(images, idx([5, 2, 2], Array.from({ length: 20 }, (_, i) => i)));
    const cases: [string, Uint8Array, string[], RegExp][] = [
      ['four.idx', idx([4], [0, 1, 2, 3]), [], /5 images but 4 labels/],
      ['range.idx', idx([5], [0, 1, 2, 12, 3]), [], /label 12 of image 3 is outside the 10 classes 0\.\.9/],
      ['range3.idx', idx([5], [0, 1, 2, 1, 3]), ['--classes', '3'], /label 3 of image 4 is outside the 3 classes 0\.\.2/],
      ['magic.idx', idx([5, 1, 1], [0, 1, 2, 3, 4]), [], /wrong magic for a labels file; is it an images file\?/],
    ];
    for (const [name, bytes, extra, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const out = join(dir, `run-${name}`);
      const r = cli('train', ['--task', 'images', '--variant', 'linear', '--data', images, '--labels', path, '--resolution', '7', ...extra, '--out', out]);
      expect(r.code, name).not.toBe(0);
      expect(r.err, name).toMatch(message);
      expect(r.err, name).toMatch(new RegExp(`--labels .*${name}`));
      expect(existsSync(out), `${name}: nothing written`).toBe(false);
    }
  });
});

describe('npm run data, classification', () => {
  it('writes ListOps examples as {input, label, text}: one id per text token, the label the text\'s value', () => {
    const dir = tempDir('data');
    const out = join(dir, 'listops.jsonl');
    const r = cli('data', [...TINY_LISTOPS, '--count', '9', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const lines = jsonl(out) as { input: number[]; label: number; text: string }[];
    expect(lines).toHaveLength(9);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['input', 'label', 'text']);
      expect(l.text.split(' ')).toHaveLength(l.input.length);
      expect(l.input.length).toBeLessThanOrEqual(24);
      expect(parseListOps(l.text)).toEqual(parseListOps(l.input));
      expect(evaluateListOps(parseListOps(l.text))).toBe(l.label);
    }
  });

  it('writes images as {input, label}: every grey level a token', () => {
    const dir = tempDir('data');
    const out = join(dir, 'images.jsonl');
    const r = cli('data', ['--task', 'images', '--data', FASHION_IMAGES, '--labels', FASHION_LABELS, '--resolution', '14', '--count', '3', '--split', 'test', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const lines = jsonl(out) as { input: number[]; label: number }[];
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['input', 'label']);
      expect(l.input).toHaveLength(196);
      expect(l.label).toBeGreaterThanOrEqual(0);
      expect(l.label).toBeLessThan(10);
    }
  });
});
