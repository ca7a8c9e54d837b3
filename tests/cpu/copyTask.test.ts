// The seeded generator (against the reference xoshiro128** outputs) and the copy task: layout, the
// exact loss mask, length and symbol ranges, reproducibility, config errors, accuracy metrics.
import { describe, expect, it } from 'vitest';
import { EpochSampler, Random } from '../../src/util/random.ts';
import {
  COPY_DEFAULTS,
  argmaxRows,
  checkCopyConfig,
  copyAccuracy,
  copyLengthRange,
  copyVocab,
  makeCopyBatch,
  makeCopyHeldOut,
  type CopyBatch,
  type CopyConfig,
} from '../../src/tasks/copyTask.ts';

// Blackman and Vigna's xoshiro128starstar.c from state {1, 2, 3, 4}, as quoted by Rust's
// rand_xoshiro test `reference`; and the state after those ten steps, from a harness that compiled
// the same C file (both found in public code, not computed here).
const REFERENCE_OUTPUTS = [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804];
const REFERENCE_STATE_AFTER_10 = [939045227, 1864939416, 1451579149, 2199351389];

const draws = (r: Random, n: number) => Array.from({ length: n }, () => r.nextU32());

describe('Random (xoshiro128**)', () => {
  it('reproduces the reference C implementation', () => {
    const r = Random.fromState([1, 2, 3, 4]);
    expect(draws(r, 10)).toEqual(REFERENCE_OUTPUTS);
    expect(Array.from(r.state())).toEqual(REFERENCE_STATE_AFTER_10);
  });

  it('is reproducible from a seed, distinct across seeds (all 53 bits count), and resumable from state()', () => {
    expect(draws(new Random(42), 8)).toEqual(draws(new Random(42), 8));
    const firsts = [0, 1, 2, 2 ** 32, 2 ** 40 + 1].map((s) => new Random(s).nextU32());
    expect(new Set(firsts).size).toBe(firsts.length);

    const a = new Random(7);
    draws(a, 5);
    const saved = a.state();
    const b = Random.fromState(Array.from(saved)); // as it would come back from JSON
    expect(draws(b, 50)).toEqual(draws(a, 50));
    saved[0] ^= 1; // state() is a copy
    expect(a.state()[0]).not.toBe(saved[0]);
  });

  it.each([
    ['three words', [1, 2, 3], /must have 4 words, got 3/],
    ['all zero', [0, 0, 0, 0], /all zero/],
    ['negative word', [1, -1, 0, 0], /word 1 must be a u32, got -1/],
    ['too large word', [1, 2 ** 32, 0, 0], /word 1 must be a u32/],
    ['fraction', [1.5, 0, 0, 0], /word 0 must be a u32/],
  ])('fromState rejects a bad state: %s', (_, state, msg) => {
    expect(() => Random.fromState(state)).toThrow(msg);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53])('rejects seed %s', (seed) => {
    expect(() => new Random(seed)).toThrow(/seed must be a non-negative safe integer/);
  });

  it('int(a, b) covers both ends, nothing outside, and is close to uniform', () => {
    const r = new Random(3);
    const counts = new Map<number, number>();
    const trials = 70_000;
    for (let i = 0; i < trials; i++) {
      const v = r.int(-3, 3);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((x, y) => x - y)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c - trials / 7)).toBeLessThan(0.05 * (trials / 7));
    expect(r.int(5, 5)).toBe(5);
    const big = r.int(0, 2 ** 32 - 1);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(2 ** 32);
  });

  it.each([
    [3, 2],
    [0.5, 2],
    [0, 2 ** 32],
  ])('int(%s, %s) is an error', (a, b) => {
    expect(() => new Random(1).int(a, b)).toThrow(/int\(a, b\)/);
  });

  it('uniform() lies in [0, 1) with mean 1/2; normal() has mean 0 and variance 1', () => {
    const r = new Random(11);
    const n = 50_000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      su += u;
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(Math.abs(su / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sn / n)).toBeLessThan(0.02);
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(0.03);
  });

  it('shuffle gives every permutation of 3 items equally often (a biased shuffle would not)', () => {
    const r = new Random(5);
    const counts = new Map<string, number>();
    const trials = 60_000;
    for (let i = 0; i < trials; i++) {
      const key = r.shuffle(['a', 'b', 'c']).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - trials / 6)).toBeLessThan(0.05 * (trials / 6));
    const p = r.permutation(1000);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('EpochSampler', () => {
  it('visits every index once per epoch, in a new order each epoch, across batch boundaries', () => {
    const s = new EpochSampler(10, 1);
    const seen = [...s.next(7), ...s.next(7)]; // the second batch crosses into epoch 1
    expect(s.epoch).toBe(1);
    seen.push(...s.next(6));
    expect(s.epoch).toBe(2);
    const first = seen.slice(0, 10);
    const second = seen.slice(10);
    const all = Array.from({ length: 10 }, (_, i) => i);
    expect([...first].sort((a, b) => a - b)).toEqual(all);
    expect([...second].sort((a, b) => a - b)).toEqual(all);
    expect(second).not.toEqual(first);
  });

  it('resumes from a JSON round trip of its state, mid-epoch, with the same continuation', () => {
    const a = new EpochSampler(37, 9);
    a.next(50);
    const restored = EpochSampler.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(restored.epoch).toBe(a.epoch);
    for (let i = 0; i < 5; i++) expect(Array.from(restored.next(16))).toEqual(Array.from(a.next(16)));
  });

  it.each([
    ['cursor past the end', { size: 4, epoch: 0, cursor: 4, epochRng: [1, 2, 3, 4] }, /cursor 4 outside 0..3/],
    ['negative epoch', { size: 4, epoch: -1, cursor: 0, epochRng: [1, 2, 3, 4] }, /epoch must be >= 0/],
    ['bad generator', { size: 4, epoch: 0, cursor: 0, epochRng: [0, 0, 0, 0] }, /all zero/],
    ['empty', { size: 0, epoch: 0, cursor: 0, epochRng: [1, 2, 3, 4] }, /size must be a positive integer/],
  ])('rejects a bad state: %s', (_, state, msg) => {
    expect(() => EpochSampler.fromState(state)).toThrow(msg);
  });
});

/** A stand-in generator that returns scripted int() values, to write expected sequences by hand. */
function scripted(values: number[]): Random {
  const queue = [...values];
  return {
    int: (a: number, b: number) => {
      const v = queue.shift();
      if (v === undefined || v < a || v > b) throw new Error(`scripted int(${a}, ${b}): next value ${v}`);
      return v;
    },
  } as unknown as Random;
}

function row(batch: CopyBatch, b: number) {
  const L = batch.maxLen;
  const slice = <T extends Uint32Array | Float32Array>(a: T) => Array.from(a.subarray(b * L, (b + 1) * L));
  return { x: slice(batch.inputs), y: slice(batch.targets), m: slice(batch.mask), n: batch.lengths[b]! };
}

describe('copy task', () => {
  it('builds x = w, 0, w, 0... with targets shifted left and the mask on the copied half (hand-written)', () => {
    // L = 8: n in [2, 3]; the script draws n = 3 then w = 2, 1, 3.
    const cfg = { maxLen: 8, symbols: 3 };
    const batch = makeCopyBatch(scripted([3, 2, 1, 3]), 1, cfg);
    expect(row(batch, 0)).toEqual({
      x: [2, 1, 3, 0, 2, 1, 3, 0],
      y: [1, 3, 0, 2, 1, 3, 0, 0],
      m: [0, 0, 0, 1, 1, 1, 0, 0], // targets w[0], w[1], w[2] of the second copy
      n: 3,
    });
    const paper = makeCopyBatch(scripted([3, 2, 1, 3]), 1, { ...cfg, maskSeparator: true });
    expect(row(paper, 0).m).toEqual([0, 0, 1, 1, 1, 1, 0, 0]); // also the separator, as mask[n-1:2n]
  });

  it.each<[string, Partial<CopyConfig>]>([
    ['paper defaults', {}],
    ['odd length', { maxLen: 9, symbols: 2 }],
    ['shortest', { maxLen: 4, symbols: 1 }],
    ['large alphabet', { maxLen: 33, symbols: 300 }],
  ])('layout and mask hold on every sequence: %s', (_, cfg) => {
    const { maxLen: L, symbols } = checkCopyConfig(cfg);
    const { min, max } = copyLengthRange(cfg);
    const batch = makeCopyBatch(new Random(123), 200, cfg);
    for (let b = 0; b < batch.batch; b++) {
      const { x, y, m, n } = row(batch, b);
      expect(n).toBeGreaterThanOrEqual(min);
      expect(n).toBeLessThanOrEqual(max);
      const w = x.slice(0, n);
      expect(w.every((s) => s >= 1 && s <= symbols)).toBe(true);
      expect(x).toEqual([...w, 0, ...w, ...new Array(L - 2 * n - 1).fill(0)]);
      expect(y).toEqual([...x.slice(1), 0]);
      // Masked exactly where the target is a symbol of the second copy: t in [n, 2n-1].
      const expectedMask = x.map((_, t) => (t >= n && t <= 2 * n - 1 ? 1 : 0));
      expect(m).toEqual(expectedMask);
      for (let t = n; t < 2 * n; t++) expect(y[t]).toBe(w[t - n]);
    }
  });

  it('draws n over exactly [L/4, (L-1)/2] and symbols over exactly 1..symbols', () => {
    for (const [L, lo, hi] of [
      [128, 32, 63],
      [9, 2, 4],
      [4, 1, 1],
    ] as const) {
      expect(copyLengthRange({ maxLen: L })).toEqual({ min: lo, max: hi });
      const batch = makeCopyBatch(new Random(L), 3000, { maxLen: L });
      expect(Math.min(...batch.lengths)).toBe(lo);
      expect(Math.max(...batch.lengths)).toBe(hi);
    }
    const batch = makeCopyBatch(new Random(8), 64);
    const used = new Set(Array.from(batch.inputs).filter((v) => v !== 0));
    expect([...used].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('has the paper defaults: L = 128, vocabulary 11', () => {
    expect(COPY_DEFAULTS).toMatchObject({ maxLen: 128, symbols: 10 });
    expect(copyVocab()).toBe(11);
    const batch = makeCopyBatch(new Random(1), 2);
    expect(batch.inputs.length).toBe(2 * 128);
    expect(Math.max(...batch.inputs)).toBeLessThan(11);
  });

  it('is reproducible from a seed, continues the generator, and keeps a fixed held-out set', () => {
    const a = makeCopyBatch(new Random(99), 8);
    const b = makeCopyBatch(new Random(99), 8);
    expect(b).toEqual(a);
    const r = new Random(99);
    makeCopyBatch(r, 8);
    expect(makeCopyBatch(r, 8).inputs).not.toEqual(a.inputs);

    const held = makeCopyHeldOut(16);
    expect(makeCopyHeldOut(16)).toEqual(held);
    expect(makeCopyHeldOut(16, {}, 1).inputs).not.toEqual(held.inputs);
    expect(makeCopyBatch(new Random(99), 16).inputs).not.toEqual(held.inputs);
  });

  it.each<[string, Partial<CopyConfig>, RegExp]>([
    ['too short', { maxLen: 3 }, /maxLen must be an integer >= 4/],
    ['fractional length', { maxLen: 12.5 }, /maxLen must be an integer >= 4.*got 12.5/],
    ['no symbols', { symbols: 0 }, /symbols must be an integer >= 1, got 0/],
    ['vocabulary too large', { symbols: 2 ** 24 }, /vocabulary symbols \+ 1 = 16777217 exceeds 16777216/],
    ['mask flag not boolean', { maskSeparator: 'yes' as unknown as boolean }, /maskSeparator must be a boolean/],
  ])('rejects a bad configuration: %s', (_, cfg, msg) => {
    expect(() => makeCopyBatch(new Random(1), 1, cfg)).toThrow(msg);
  });

  it('rejects a bad batch size', () => {
    expect(() => makeCopyBatch(new Random(1), 0)).toThrow(/batch must be a positive integer, got 0/);
  });
});

describe('copy accuracy', () => {
  const batch = makeCopyBatch(new Random(4), 5, { maxLen: 16, symbols: 4 });
  const B = batch.batch;
  const L = batch.maxLen;
  const masked = Array.from(batch.mask.keys()).filter((i) => batch.mask[i]! > 0);

  const wrongAt = (positions: number[]) => {
    const p = batch.targets.slice();
    for (const i of positions) p[i] = (p[i]! + 1) % 5;
    return p;
  };
  const unmasked = Array.from(batch.mask.keys()).filter((i) => batch.mask[i] === 0);

  it.each<[string, Uint32Array, number, number]>([
    ['all right', batch.targets.slice(), 1, 1],
    ['wrong only outside the mask', wrongAt(unmasked), 1, 1],
    ['one masked token wrong', wrongAt([masked[0]!]), (masked.length - 1) / masked.length, (B - 1) / B],
    ['all wrong', wrongAt(masked), 0, 0],
  ])('%s', (_, predictions, token, sequence) => {
    const acc = copyAccuracy(predictions, batch.targets, batch.mask, B, L);
    expect(acc.tokenAccuracy).toBeCloseTo(token, 12);
    expect(acc.sequenceAccuracy).toBeCloseTo(sequence, 12);
  });

  it('weighs tokens, not sequences: two wrong tokens in one sequence cost one sequence', () => {
    const first = masked.filter((i) => i < L).slice(0, 2);
    const acc = copyAccuracy(wrongAt(first), batch.targets, batch.mask, B, L);
    expect(acc.tokenAccuracy).toBeCloseTo((masked.length - 2) / masked.length, 12);
    expect(acc.sequenceAccuracy).toBeCloseTo((B - 1) / B, 12);
  });

  it('says what is wrong with its inputs', () => {
    expect(() => copyAccuracy(new Uint32Array(3), batch.targets, batch.mask, B, L)).toThrow(/predictions has 3 entries, expected B\*L = 5\*16 = 80/);
    expect(() => copyAccuracy(batch.targets, batch.targets, new Float32Array(B * L), B, L)).toThrow(/mask selects no position/);
  });

  it('argmaxRows picks the first maximum of each row', () => {
    const logits = new Float32Array([0.1, 2, -1, /**/ 5, 5, 1, /**/ -3, -2, -1]);
    expect(Array.from(argmaxRows(logits, 3, 3))).toEqual([1, 0, 2]);
    expect(() => argmaxRows(logits, 2, 3)).toThrow(/9 logits, expected 2 x 3/);
  });
});
