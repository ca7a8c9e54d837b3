/**
 * Seeded randomness (data order, initialisation, sampling): xoshiro128** (Blackman and Vigna,
 * v1.1) over four u32 words, seeded by splitmix32. The whole state is four numbers, so a
 * checkpoint can store it and a resumed run draws exactly the batches the uninterrupted run would
 * have drawn. Runs the same in Node and in browsers (only 32-bit integer arithmetic, no platform
 * randomness).
 */

const STATE_WORDS = 4;
const TWO_POW_32 = 4294967296;
const GOLDEN_GAMMA = 0x9e3779b9; // splitmix32's increment: 2^32 / golden ratio
const MIX_A = 0x85ebca6b; // MurmurHash3 fmix32 multipliers
const MIX_B = 0xc2b2ae35;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`seed must be a non-negative safe integer, got ${seed}`);
  }
}

export class Random {
  private s: Uint32Array; // [4] xoshiro128** state, never all zero

  /** A generator seeded from a non-negative integer (all 53 bits count). */
  constructor(seed: number) {
    checkSeed(seed);
    // splitmix32 over both halves of the seed spreads nearby seeds over unrelated states.
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32), GOLDEN_GAMMA);
    this.s = new Uint32Array(STATE_WORDS);
    for (let i = 0; i < STATE_WORDS; i++) {
      x = (x + GOLDEN_GAMMA) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), MIX_A);
      z = Math.imul(z ^ (z >>> 13), MIX_B);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    // splitmix32 is a bijection of its counter, so four outputs are never all zero together;
    // the guard only documents xoshiro's one forbidden state.
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** Restores a generator from `state()`: it continues exactly where that one stood. */
  static fromState(state: ArrayLike<number>): Random {
    if (state.length !== STATE_WORDS) {
      throw new Error(`Random state must have ${STATE_WORDS} words, got ${state.length}`);
    }
    let allZero = true;
    for (let i = 0; i < STATE_WORDS; i++) {
      const w = state[i]!;
      if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) {
        throw new Error(`Random state word ${i} must be a u32, got ${w}`);
      }
      if (w !== 0) allZero = false;
    }
    if (allZero) throw new Error('Random state is all zero, which xoshiro128** can never leave');
    const rng = new Random(0);
    rng.s.set(Array.from({ length: STATE_WORDS }, (_, i) => state[i]!));
    return rng;
  }

  /** A copy of the four state words, e.g. to store in a checkpoint. */
  state(): Uint32Array {
    return this.s.slice();
  }

  /** The next raw 32-bit output (the reference xoshiro128** sequence). */
  nextU32(): number {
    const s = this.s;
    const s0 = s[0]!;
    const s1 = s[1]!;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const s2 = s[2]! ^ s0;
    const s3 = s[3]! ^ s1;
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ ((s1 << 9) >>> 0);
    s[3] = rotl(s3 >>> 0, 11);
    return result;
  }

  /** Uniform in [0, 1), a multiple of 2^-32. */
  uniform(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /**
   * Standard normal by Box-Muller. Uses one pair of draws per value and discards the second
   * variate, so the generator's state stays the four words (no cached spare to checkpoint).
   */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1], so the log is finite
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Uniform integer in [a, b], both inclusive, without modulo bias (draws that fall in the last
   * incomplete block of 2^32 are rejected).
   */
  int(a: number, b: number): number {
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a > b) {
      throw new Error(`int(a, b) needs integers with a <= b, got a = ${a}, b = ${b}`);
    }
    const range = b - a + 1;
    if (range > TWO_POW_32) throw new Error(`int(a, b) range ${range} exceeds 2^32`);
    const limit = TWO_POW_32 - (TWO_POW_32 % range); // largest multiple of range <= 2^32
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return a + (x % range);
  }

  /** Fisher-Yates shuffle in place (Durstenfeld's order: from the end). Returns `items`. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const keep = items[i];
      items[i] = items[j];
      items[j] = keep;
    }
    return items;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    if (!Number.isInteger(n) || n < 0 || n >= TWO_POW_32) throw new Error(`permutation size must be a u32, got ${n}`);
    const out = new Uint32Array(n); // [n]
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}

/** What `EpochSampler.state()` returns: plain numbers, so it survives JSON (checkpoint metadata). */
export interface SamplerState {
  size: number;
  epoch: number;
  cursor: number;
  /** Generator state at the start of the current epoch, before its shuffle. */
  epochRng: number[];
}

/**
 * Visits 0..size-1 in a fresh random order each epoch and hands out batches of indices; a batch
 * that crosses the end of an epoch continues into the next one. Its state is the generator as it
 * stood before the current epoch's shuffle plus a cursor, so resuming rebuilds the same order.
 */
export class EpochSampler {
  private rng: Random;
  private epochRng: Uint32Array; // [4]
  private order: Uint32Array; // [size]
  private cursorAt = 0;
  private epochAt = 0;

  constructor(
    readonly size: number,
    seed: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`EpochSampler size must be a positive integer, got ${size}`);
    this.rng = new Random(seed);
    this.epochRng = this.rng.state();
    this.order = this.rng.permutation(size);
  }

  static fromState(state: SamplerState): EpochSampler {
    const { size, epoch, cursor, epochRng } = state;
    const sampler = new EpochSampler(size, 0);
    if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`sampler state: epoch must be >= 0, got ${epoch}`);
    if (!Number.isInteger(cursor) || cursor < 0 || cursor >= size) {
      throw new Error(`sampler state: cursor ${cursor} outside 0..${size - 1}`);
    }
    sampler.rng = Random.fromState(epochRng);
    sampler.epochRng = sampler.rng.state();
    sampler.order = sampler.rng.permutation(size);
    sampler.epochAt = epoch;
    sampler.cursorAt = cursor;
    return sampler;
  }

  get epoch(): number {
    return this.epochAt;
  }

  /** The next `count` indices in the current order (may span epochs; repeats only across epochs). */
  next(count: number): Uint32Array {
    if (!Number.isInteger(count) || count < 1) throw new Error(`batch size must be a positive integer, got ${count}`);
    const out = new Uint32Array(count); // [count]
    for (let i = 0; i < count; i++) {
      out[i] = this.order[this.cursorAt++]!;
      if (this.cursorAt === this.size) {
        this.epochAt++;
        this.cursorAt = 0;
        this.epochRng = this.rng.state();
        this.order = this.rng.permutation(this.size);
      }
    }
    return out;
  }

  state(): SamplerState {
    return { size: this.size, epoch: this.epochAt, cursor: this.cursorAt, epochRng: Array.from(this.epochRng) };
  }
}
