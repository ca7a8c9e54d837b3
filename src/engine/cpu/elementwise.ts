// CPU references for shaders/elementwise.wgsl: plain loops, generic over Float32Array and
// Float64Array (outputs have the input's type), so finite differences can run in float64.
// Dropout implements the shader's Philox4x32-10 bit for bit, so masks compare exactly.

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

// ---- Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
const PHILOX_ROUNDS = 10;
const TWO_16 = 0x10000;
const TWO_32 = 0x100000000;
/** Words per Philox block. */
export const PHILOX_LANES = 4;

/** High 32 bits of a 32x32-bit product, by 16-bit halves as in the shader (exact in doubles). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = Math.floor(ll / TWO_16) + (lh % TWO_16) + (hl % TWO_16);
  return (ah * bh + Math.floor(lh / TWO_16) + Math.floor(hl / TWO_16) + Math.floor(mid / TWO_16)) >>> 0;
}

/** Philox4x32-10 of a 128-bit counter (4 words) under a 64-bit key (2 words); all words uint32. */
export function philox4x32(counter: readonly number[], key: readonly number[]): Uint32Array<ArrayBuffer> {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0) as [number, number, number, number];
  let [k0, k1] = key.map((v) => v >>> 0) as [number, number];
  for (let r = 0; r < PHILOX_ROUNDS; r++) {
    const hi0 = mulhi(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + PHILOX_W0) >>> 0;
    k1 = (k1 + PHILOX_W1) >>> 0;
  }
  return Uint32Array.of(c0, c1, c2, c3);
}

/** The uniform values that define a dropout mask; shared with the GPU primitive so both agree. */
export interface DropoutKey {
  threshold: number;
  seedLo: number;
  seedHi: number;
  blockLo: number;
  blockHi: number;
  lane0: number;
}

/** Largest integer threshold (p < 1, so floor(p * 2^32) < 2^32 always fits a u32). */
export function dropoutKey(p: number, seed: number, offset: number): DropoutKey {
  const block = Math.floor(offset / PHILOX_LANES);
  return {
    threshold: Math.floor(p * TWO_32),
    seedLo: seed % TWO_32,
    seedHi: Math.floor(seed / TWO_32),
    blockLo: block % TWO_32,
    blockHi: Math.floor(block / TWO_32),
    lane0: offset % PHILOX_LANES,
  };
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

/** The factor kept values are multiplied by, as the GPU sees it for float32 (rounded to f32). */
export function dropoutScale(p: number, f32: boolean): number {
  const s = 1 / (1 - p);
  return f32 ? Math.fround(s) : s;
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
