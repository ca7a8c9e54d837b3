// CPU references for shaders/elementwise.wgsl: plain loops, generic over Float32Array and
// Float64Array (outputs have the input's type), so finite differences can run in float64.
// Dropout implements the shader's Philox4x32-10 bit for bit, so masks compare exactly.
import { PHILOX_LANES, TWO_32, dropoutKey, dropoutScale, philox4x32 } from '../host/dropout.ts';
export { PHILOX_LANES, dropoutKey, dropoutScale, philox4x32, type DropoutKey } from '../host/dropout.ts';

export type Arr = Float32Array | Float64Array;

/** A zeroed array of x's type. */
export function like<T extends Arr>(x: T, n = x.length): T {
  return new (x.constructor as new (n: number) => T)(n);
}

// GELU, tanh approximation as in GPT-2: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

export function geluForward<T extends Arr>(x: T): T {
  const y = like(x);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = 0.5 * v * (1 + Math.tanh(GELU_K * (v + GELU_C * v * v * v)));
  }
  return y;
}

export function geluBackward<T extends Arr>(x: T, dy: T): T {
  const dx = like(x);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const t = Math.tanh(GELU_K * (v + GELU_C * v * v * v));
    const du = GELU_K * (1 + 3 * GELU_C * v * v);
    dx[i] = dy[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
  }
  return dx;
}

export function reluForward<T extends Arr>(x: T): T {
  const y = like(x);
  for (let i = 0; i < x.length; i++) y[i] = Math.max(x[i]!, 0);
  return y;
}

export function reluBackward<T extends Arr>(x: T, dy: T): T {
  const dx = like(x);
  for (let i = 0; i < x.length; i++) dx[i] = x[i]! > 0 ? dy[i]! : 0;
  return dx;
}

export function addForward<T extends Arr>(a: T, b: T): T {
  const y = like(a);
  for (let i = 0; i < a.length; i++) y[i] = a[i]! + b[i]!;
  return y;
}

/** Both inputs receive dy (as separate arrays, like the GPU primitive). */
export function addBackward<T extends Arr>(dy: T): { da: T; db: T } {
  return { da: dy.slice() as T, db: dy.slice() as T };
}

export function scaleForward<T extends Arr>(x: T, s: number): T {
  const y = like(x);
  for (let i = 0; i < x.length; i++) y[i] = s * x[i]!;
  return y;
}

export function scaleBackward<T extends Arr>(dy: T, s: number): T {
  return scaleForward(dy, s);
}

/** y[r, c] = x[r, c] + row[c] for x of R = x.length / C rows. */
export function addBroadcastForward<T extends Arr>(x: T, row: T): T {
  const C = row.length;
  const y = like(x);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! + row[i % C]!;
  return y;
}

export function addBroadcastBackward<T extends Arr>(dy: T, cols: number): { dx: T; drow: T } {
  const drow = like(dy, cols);
  for (let i = 0; i < dy.length; i++) drow[i % cols]! += dy[i]!;
  return { dx: dy.slice() as T, drow };
}

/**
 * Which of n elements starting at `offset` dropout keeps (1) or drops (0) for (p, seed): element
 * e = offset + i is kept when word e % 4 of Philox at counter floor(e / 4) is >= floor(p * 2^32).
 */
export function dropoutMask(n: number, p: number, seed: number, offset: number): Uint8Array {
  const k = dropoutKey(p, seed, offset);
  const mask = new Uint8Array(n);
  let words = new Uint32Array(PHILOX_LANES);
  for (let i = 0; i < n; i++) {
    const e = k.lane0 + i; // relative to the first block's word 0
    const j = Math.floor(e / PHILOX_LANES);
    const lane = e % PHILOX_LANES;
    if (i === 0 || lane === 0) {
      const lo = k.blockLo + j;
      words = philox4x32([lo % TWO_32, k.blockHi + Math.floor(lo / TWO_32), 0, 0], [k.seedLo, k.seedHi]);
    }
    mask[i] = words[lane]! >= k.threshold ? 1 : 0;
  }
  return mask;
}

/** y = x * mask / (1 - p); the same map is the backward (dy -> dx). */
export function dropoutForward<T extends Arr>(x: T, p: number, seed: number, offset: number): T {
  const mask = dropoutMask(x.length, p, seed, offset);
  const s = dropoutScale(p, x instanceof Float32Array);
  const y = like(x);
  for (let i = 0; i < x.length; i++) y[i] = mask[i] ? x[i]! * s : 0;
  return y;
}

export function dropoutBackward<T extends Arr>(dy: T, p: number, seed: number, offset: number): T {
  return dropoutForward(dy, p, seed, offset);
}
