// Shared test helpers: a real WebGPU device (or a loud failure), seeded data, comparisons that say
// where and by how much two arrays differ, and gradient checks by finite differences.
import { afterAll, beforeAll } from 'vitest';
import { Gpu } from '../src/engine/gpu.ts';

export type Arr = Float32Array | Float64Array;

/** The device the GPU test files of one worker process share (vite.config.ts's 'gpu' project). */
const shared = globalThis as { sharedTestGpu?: Gpu };

/**
 * A device for a test file. Never skips: with no adapter the whole file fails with what to
 * install. Where SHARE_TEST_GPU is set (the 'gpu' project, whose files run one after another in a
 * worker without isolation) the files of a worker share one device, so a kernel compiled by one
 * file is not compiled again by the next (SwiftShader's compiles are much of the suite's time); a
 * device left failed by an earlier file is replaced, and the process's exit releases the last.
 * Elsewhere each file opens its own and destroys it afterwards.
 */
export function useGpu(): () => Gpu {
  const share = process.env.SHARE_TEST_GPU === '1';
  let gpu: Gpu | null = null;
  beforeAll(async () => {
    if (!share) {
      gpu = await Gpu.open();
      return;
    }
    const prev = shared.sharedTestGpu;
    if (prev && !prev.error) {
      gpu = prev;
      return;
    }
    prev?.destroy();
    gpu = shared.sharedTestGpu = await Gpu.open();
  });
  afterAll(() => {
    if (!share) gpu?.destroy();
  });
  return () => {
    if (!gpu) throw new Error('GPU not opened (beforeAll failed?)');
    return gpu;
  };
}

/** Mulberry32: small, seeded, reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** n standard-normal values (Box-Muller), scaled. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u)) * scale;
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

export function toF64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

export interface CloseOptions {
  atol?: number;
  rtol?: number;
  label?: string;
}

/**
 * Throws unless |actual - expected| <= atol + rtol * |expected| everywhere. The message gives the
 * largest difference, where it is, and the first values that differ.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): number {
  const { atol = 1e-5, rtol = 1e-4, label = 'values' } = opts;
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  }
  let maxDiff = 0;
  let maxAt = -1;
  const bad: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const d = Math.abs(a - e);
    const ok = d <= atol + rtol * Math.abs(e);
    if (!(d <= maxDiff) || Number.isNaN(d)) {
      maxDiff = Number.isNaN(d) ? Infinity : d;
      maxAt = i;
    }
    if ((!ok || Number.isNaN(a) !== Number.isNaN(e)) && bad.length < 6) bad.push(`  [${i}] got ${a}, expected ${e}`);
  }
  if (bad.length > 0) {
    throw new Error(
      `${label}: max |diff| ${maxDiff.toExponential(3)} at [${maxAt}] (atol ${atol}, rtol ${rtol}); first differing:\n${bad.join('\n')}`,
    );
  }
  return maxDiff;
}

/** Largest |a - b| / max(|b|, floor), for precision checks against a float64 reference. */
export function maxRelError(actual: ArrayLike<number>, reference: ArrayLike<number>, floor = 1e-6): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const r = Math.abs(actual[i]! - reference[i]!) / Math.max(Math.abs(reference[i]!), floor);
    worst = Math.max(worst, Number.isNaN(r) ? Infinity : r);
  }
  return worst;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Central finite differences of a scalar function of several float64 inputs, for every element.
 * Use it with llm.c's trick: f = sum(forward(inputs) * dout) for a fixed random dout.
 */
export function finiteDiff(f: (inputs: Float64Array[]) => number, inputs: Float64Array[], eps = 1e-6): Float64Array[] {
  return inputs.map((x) => {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i]!;
      x[i] = keep + eps;
      const up = f(inputs);
      x[i] = keep - eps;
      const down = f(inputs);
      x[i] = keep;
      g[i] = (up - down) / (2 * eps);
    }
    return g;
  });
}

/**
 * Checks a GPU backward against the GPU forward along random directions: for
 * L(x) = sum(forward(x) * dout), (L(x + h u) - L(x - h u)) / 2h must match <grad, u>.
 * Works in float32, so h is fairly large and the tolerance is relative to the derivative's size.
 */
export async function checkDirectional(opts: {
  forward: (inputs: Float32Array[]) => Promise<Float32Array>;
  inputs: Float32Array[];
  grads: Float32Array[];
  dout: Float32Array;
  seed?: number;
  h?: number;
  directions?: number;
  rtol?: number;
  label?: string;
}): Promise<void> {
  const { forward, inputs, grads, dout, seed = 7, h = 1e-2, directions = 3, rtol = 2e-2, label = 'grad' } = opts;
  const loss = async (xs: Float32Array[]) => {
    const out = await forward(xs);
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i]! * dout[i]!;
    return s;
  };
  for (let d = 0; d < directions; d++) {
    const us = inputs.map((x, k) => randn(x.length, seed * 1000 + d * 17 + k));
    const plus = inputs.map((x, k) => x.map((v, i) => v + h * us[k]![i]!));
    const minus = inputs.map((x, k) => x.map((v, i) => v - h * us[k]![i]!));
    const numeric = ((await loss(plus)) - (await loss(minus))) / (2 * h);
    let analytic = 0;
    let scale = 0;
    grads.forEach((g, k) => {
      for (let i = 0; i < g.length; i++) {
        analytic += g[i]! * us[k]![i]!;
        scale += Math.abs(g[i]! * us[k]![i]!);
      }
    });
    const err = Math.abs(numeric - analytic);
    if (!(err <= rtol * Math.max(scale, 1e-3))) {
      throw new Error(
        `${label}: directional derivative ${d}: finite difference ${numeric}, backward ${analytic} ` +
          `(|diff| ${err.toExponential(3)}, allowed ${(rtol * Math.max(scale, 1e-3)).toExponential(3)})`,
      );
    }
  }
}
