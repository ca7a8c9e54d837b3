// Dropout's counter-based random bits on the host: Philox4x32-10 and the key that places a
// dropout of n elements at (seed, offset) in its stream. The GPU primitive
// (src/engine/kernels/elementwise.ts) passes the key as uniforms; the CPU reference draws its mask.

// ---- Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
export const PHILOX_M0 = 0xd2511f53;

export const PHILOX_M1 = 0xcd9e8d57;

export const PHILOX_W0 = 0x9e3779b9;

export const PHILOX_W1 = 0xbb67ae85;

export const PHILOX_ROUNDS = 10;

export const TWO_16 = 0x10000;

export const TWO_32 = 0x100000000;

/** Words per Philox block. */
export const PHILOX_LANES = 4;

/** High 32 bits of a 32x32-bit product, by 16-bit halves as in the shader (exact in doubles). */
export function mulhi(a: number, b: number): number {
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

/** The factor kept values are multiplied by, as the GPU sees it for float32 (rounded to f32). */
export function dropoutScale(p: number, f32: boolean): number {
  const s = 1 / (1 - p);
  return f32 ? Math.fround(s) : s;
}
