// MNIST images generated pixel by pixel through the recurrent decoder.
import type { Random } from '../../util/random.ts';
import type { Transformer } from '../transformer.ts';
import { Sampler } from './decoder.ts';
import { DMOL, checkTemperature } from './rows.ts';

export interface ImageOptions {
  count: number;
  rows: number;
  cols: number;
  temperature: number;
  rng?: Random;
  /** Sequences generated at once (default: all `count`). */
  batch?: number;
  /**
   * Grey level of the first pixel, which MNIST sequences never predict (input t is pixel t, target
   * t pixel t + 1; imagesToSequences in src/tasks/mnist.ts): default 0, as in MNIST's black corners.
   */
  firstPixel?: number;
}

export interface GeneratedImages {
  kind: 'mnist';
  rows: number;
  cols: number;
  /** [count, rows, cols] grey levels 0..255 in raster order. */
  pixels: Uint8Array;
  count: number;
  seconds: number;
  imagesPerSec: number;
  /** Generated pixels per second. */
  tokensPerSec: number;
}

/**
 * Images pixel by pixel in raster order, as the model was trained (imagesToSequences): the first
 * pixel is given, the other rows * cols - 1 are generated. Needs rows * cols - 1 <= maxSeq and a
 * head over the 256 grey levels (a 256-way softmax, or the mixture of logistics).
 */
export async function generateImages(model: Transformer, opts: ImageOptions): Promise<GeneratedImages> {
  const { count, rows, cols, temperature, rng, firstPixel = 0 } = opts;
  const batch = opts.batch ?? count;
  for (const [k, v] of [
    ['count', count],
    ['rows', rows],
    ['cols', cols],
    ['batch', batch],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`generateImages: ${k} must be a positive integer; got ${String(v)}`);
  }
  const size = rows * cols;
  if (size < 2) throw new Error(`generateImages: ${rows}x${cols} images have no pixel to generate`);
  if (!Number.isInteger(firstPixel) || firstPixel < 0 || firstPixel >= DMOL.levels) {
    throw new Error(`generateImages: firstPixel must be a grey level 0..255; got ${firstPixel}`);
  }
  const o = model.cfg.output;
  if (o.kind === 'softmax' && o.classes !== DMOL.levels) {
    throw new Error(`generateImages: a softmax head over ${o.classes} classes does not predict the 256 grey levels`);
  }
  if (size - 1 > model.cfg.maxSeq) {
    throw new Error(`generateImages: ${rows}x${cols} images feed ${size - 1} pixels, over the model's maxSeq ${model.cfg.maxSeq}`);
  }
  checkTemperature(temperature);
  const pixels = new Uint8Array(count * size); // [count, rows, cols]
  const start = performance.now();
  let sampler: Sampler | null = null;
  try {
    for (let done = 0; done < count; done += batch) {
      const n = Math.min(batch, count - done);
      if (!sampler || sampler.batch !== n) {
        sampler?.dispose();
        sampler = new Sampler(model, n);
      }
      const prompt = new Uint32Array(n).fill(firstPixel); // [n, 1]
      const { tokens } = await sampler.generate({ prompt, steps: size - 1, temperature, rng });
      pixels.set(tokens, done * size);
    }
  } finally {
    sampler?.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    kind: 'mnist',
    rows,
    cols,
    pixels,
    count,
    seconds,
    imagesPerSec: seconds > 0 ? count / seconds : 0,
    tokensPerSec: seconds > 0 ? (count * (size - 1)) / seconds : 0,
  };
}
