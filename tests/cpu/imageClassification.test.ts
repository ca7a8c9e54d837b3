import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IdxFormatError, loadIdxDataset, loadIdxLabels } from '../../src/tasks/idx.ts';
import {
  checkImageLabels,
  classCount,
  imagesToClassification,
  majorityRate,
} from '../../src/tasks/imageClassification.ts';
import { downsampleImages } from '../../src/tasks/mnist.ts';

const FASHION = '/usr/share/datasets/fashion-mnist';
const read = (name: string) => new Uint8Array(readFileSync(`${FASHION}/${name}`));

describe('pixel-sequence image classification', () => {
  it('loads Debian\'s Fashion-MNIST test images with their labels (real files)', async () => {
    const set = await loadIdxDataset(read('t10k-images-idx3-ubyte.gz'), read('t10k-labels-idx1-ubyte.gz'));
    expect(set.count).toBe(10000);
    checkImageLabels(set, 10);
    expect(classCount(set)).toBe(10);
    // Fashion-MNIST's test set is balanced: 1,000 images a class
    expect(majorityRate(set.labels!)).toBeCloseTo(0.1, 12);
    const b = imagesToClassification(set, [0, 7, 9999]);
    expect(b.seq).toBe(784);
    expect(Array.from(b.labels)).toEqual([set.labels![0], set.labels![7], set.labels![9999]]);
    expect(Array.from(b.inputs.subarray(784, 2 * 784))).toEqual(Array.from(set.pixels.subarray(7 * 784, 8 * 784)));
    const small = downsampleImages(set, 4);
    expect(imagesToClassification(small, [1]).seq).toBe(49);
    expect(small.labels).toEqual(set.labels);
  });

  it('refuses a labels file whose count differs, one with the wrong magic, and labels out of range', async () => {
    await expect(
      loadIdxDataset(read('t10k-images-idx3-ubyte.gz'), read('train-labels-idx1-ubyte.gz')),
    ).rejects.toThrow(/10000 images but 60000 labels/);
    const wrong = new Uint8Array([0x00, 0x00, 0x08, 0x03, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7]);
    await expect(loadIdxLabels(wrong)).rejects.toThrow(IdxFormatError);
    await expect(loadIdxLabels(wrong)).rejects.toThrow(/labels: expected 1 dimension/);
    const garbage = new Uint8Array([0x1a, 0x2b, 0x08, 0x01, 0, 0, 0, 1, 5]);
    await expect(loadIdxLabels(garbage)).rejects.toThrow(/wrong magic 0x1a2b0801/);
    const set = { count: 3, rows: 2, cols: 2, pixels: new Uint8Array(12), labels: new Uint8Array([1, 0, 12]) };
    expect(() => checkImageLabels(set, 10)).toThrow(/label 12 of image 2 is outside the 10 classes 0..9/);
    expect(() => checkImageLabels({ ...set, labels: undefined }, 10)).toThrow(/no labels/);
    expect(() => checkImageLabels({ ...set, labels: new Uint8Array([1]) }, 10)).toThrow(/1 labels for 3 images/);
    expect(() => imagesToClassification(set, [3])).toThrow(/index 3 outside 0..2/);
  });
});
