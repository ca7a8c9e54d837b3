import { describe, expect, it } from 'vitest';
import {
  DMOL,
  crossEntropyBackward,
  crossEntropyForward,
  dmolBackward,
  dmolComponent,
  dmolForward,
  dmolLogProb,
  dmolPixelProbs,
  maskedMean,
  sampleDmol,
} from '../../src/engine/cpu/loss.ts';
import { expectClose, finiteDiff, randn, rng, toF64, uniform } from '../helpers.ts';

function randomTargets(n: number, classes: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(r() * classes));
}

/** Mixture parameters [R, 3K]: logits ~ N(0, 1), means in [-1, 1], log-scales in [lo, hi]. */
function mixtureParams(rows: number, K: number, seed: number, lo = -4, hi = 0.5): Float64Array {
  const logits = randn(rows * K, seed);
  const means = uniform(rows * K, seed + 1, -1, 1);
  const scales = uniform(rows * K, seed + 2, lo, hi);
  const out = new Float64Array(rows * 3 * K);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      out[r * 3 * K + k] = logits[r * K + k]!;
      out[r * 3 * K + K + k] = means[r * K + k]!;
      out[r * 3 * K + 2 * K + k] = scales[r * K + k]!;
    }
  }
  return out;
}

type MaskKind = 'none' | 'some' | 'weights' | 'all zero';

function makeMask(kind: MaskKind, rows: number, seed: number): Float64Array | null {
  if (kind === 'none') return null;
  if (kind === 'all zero') return new Float64Array(rows);
  const r = rng(seed);
  // 'some': 0/1 with about a third zero; 'weights': non-binary weights with zeros.
  return Float64Array.from({ length: rows }, () => (r() < 0.35 ? 0 : kind === 'some' ? 1 : 0.25 + r()));
}

/** The scalar loss of either output through the masked mean, and its gradient. */
function ceLoss(logits: Float64Array, targets: Uint32Array, mask: Float64Array | null, classes: number) {
  const R = targets.length;
  const nll = new Float64Array(R);
  const stats = new Float64Array(2 * R);
  const argmax = new Uint32Array(R);
  crossEntropyForward(logits, targets, nll, stats, argmax, classes);
  const loss = new Float64Array(1);
  const denom = new Float64Array(1);
  maskedMean(nll, mask, loss, denom);
  return { loss, denom, nll, stats, argmax };
}

function dmolLoss(params: Float64Array, targets: Uint32Array, mask: Float64Array | null, K: number) {
  const nll = new Float64Array(targets.length);
  dmolForward(params, targets, nll, K);
  const loss = new Float64Array(1);
  const denom = new Float64Array(1);
  maskedMean(nll, mask, loss, denom);
  return { loss, denom, nll };
}

describe('cross-entropy CPU reference', () => {
  it('gives -log softmax at the target and the first index of the max', () => {
    const logits = Float64Array.from([1, 3, 3, 0, /**/ -2, 0.5, 0.25, 0.5]);
    const { nll, argmax } = ceLoss(logits, Uint32Array.from([1, 0]), null, 4);
    const lse0 = Math.log(Math.exp(1) + 2 * Math.exp(3) + 1);
    const lse1 = Math.log(Math.exp(-2) + 2 * Math.exp(0.5) + Math.exp(0.25));
    expectClose(nll, [lse0 - 3, lse1 + 2], { atol: 1e-14 });
    expect(Array.from(argmax)).toEqual([1, 1]);
  });

  it('averages over unmasked rows only, and gives 0 when every row is masked', () => {
    const nll = Float64Array.from([1, 2, NaN, 4]);
    const loss = new Float64Array(1);
    const denom = new Float64Array(1);
    maskedMean(nll, Float64Array.from([1, 1, 0, 0.5]), loss, denom);
    expectClose([loss[0]!, denom[0]!], [(1 + 2 + 2) / 2.5, 2.5], { atol: 1e-15 });
    maskedMean(nll, new Float64Array(4), loss, denom);
    expect([loss[0], denom[0]]).toEqual([0, 1]);
  });

  const cases: { V: number; R: number; mask: MaskKind }[] = [
    { V: 11, R: 7, mask: 'some' },
    { V: 13, R: 5, mask: 'weights' },
    { V: 3, R: 1, mask: 'none' },
    { V: 5, R: 4, mask: 'all zero' },
  ];
  for (const c of cases) {
    it(`backward matches float64 finite differences: V=${c.V} R=${c.R} mask ${c.mask}`, () => {
      const logits = toF64(randn(c.R * c.V, 1, 2));
      const targets = randomTargets(c.R, c.V, 2);
      const mask = makeMask(c.mask, c.R, 3);
      const dloss = Float64Array.from([0.7]); // a random scalar dout
      const [numeric] = finiteDiff(([x]) => ceLoss(x!, targets, mask, c.V).loss[0]! * dloss[0]!, [logits]);
      const f = ceLoss(logits, targets, mask, c.V);
      const dlogits = new Float64Array(c.R * c.V);
      crossEntropyBackward(logits, targets, mask, f.stats, f.denom, dloss, dlogits, c.V);
      expectClose(dlogits, numeric!, { atol: 1e-8, label: 'dlogits' });
      if (c.mask === 'all zero') expect(dlogits.every((v) => v === 0)).toBe(true);
    });
  }

  it('stays finite and exact for logits of 1e4', () => {
    const logits = Float64Array.from([1e4, -1e4, 0, /**/ 1e4, 1e4, -1e4]);
    const targets = Uint32Array.from([1, 0]);
    const f = ceLoss(logits, targets, null, 3);
    expectClose(f.nll, [2e4, Math.LN2], { atol: 1e-9 });
    const dlogits = new Float64Array(6);
    crossEntropyBackward(logits, targets, null, f.stats, f.denom, Float64Array.from([1]), dlogits, 3);
    expect(dlogits.every(Number.isFinite)).toBe(true);
    expectClose(dlogits, [0.5, -0.5, 0, -0.25, 0.25, 0], { atol: 1e-12 });
  });

  it('gives NaN per-row loss for a target outside the classes, left out when masked', () => {
    const f = ceLoss(Float64Array.from([0, 1, 2, 3]), Uint32Array.from([2, 1]), Float64Array.from([0, 1]), 2);
    expect(Number.isNaN(f.nll[0]!)).toBe(true);
    expectClose(f.loss, [f.nll[1]!], { atol: 1e-15 });
  });
});

describe('discretized mixture of logistics CPU reference', () => {
  it('is a proper distribution over the 256 pixel values', () => {
    // Scales of 1 and more: every bin's mass is an exact cdf difference, so the sum telescopes to 1.
    for (const [lo, hi, tol] of [
      [0, 1, 1e-12],
      [-4, 0.5, 1e-5], // far tails fall back to pdf * width (PixelCNN++), a tiny approximation
      [-7, -5, 1e-4], // scales below a bin width: nearly all mass in one or two bins
    ] as const) {
      const params = mixtureParams(6, 10, 40, lo, hi);
      for (let r = 0; r < 6; r++) {
        let s = 0;
        for (let t = 0; t < DMOL.levels; t++) s += Math.exp(dmolLogProb(params, r * 30, 10, t));
        expect(Math.abs(s - 1), `row ${r}, log-scales in [${lo}, ${hi}]: sum ${s}`).toBeLessThan(tol);
      }
    }
  });

  it('follows PixelCNN++ at the edges, in the middle and in the fallback', () => {
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    const [mean, ls] = [0.1, -2];
    const inv = Math.exp(-ls);
    const x = (t: number) => (2 * t) / 255 - 1;
    expect(dmolComponent(0, mean, ls).lp).toBeCloseTo(Math.log(sigmoid(inv * (x(0) - mean + 1 / 255))), 12);
    expect(dmolComponent(255, mean, ls).lp).toBeCloseTo(Math.log(1 - sigmoid(inv * (x(255) - mean - 1 / 255))), 12);
    const mid = (t: number) => sigmoid(inv * (x(t) - mean + 1 / 255)) - sigmoid(inv * (x(t) - mean - 1 / 255));
    expect(dmolComponent(140, mean, ls).lp).toBeCloseTo(Math.log(mid(140)), 12);
    // Far from a narrow component the bin mass underflows 1e-5: log pdf(centre) - log 127.5.
    const [m2, ls2] = [0.9, -6.5];
    const c = (inv2: number) => inv2 * (x(10) - m2);
    const inv2 = Math.exp(-ls2);
    const logPdf = c(inv2) - ls2 - 2 * Math.log1p(Math.exp(c(inv2)));
    expect(dmolComponent(10, m2, ls2).lp).toBeCloseTo(logPdf - Math.log(127.5), 9);
    // Log-scales below -7 are clamped: same value, no gradient.
    expect(dmolComponent(140, mean, -9).lp).toBe(dmolComponent(140, mean, -7).lp);
    expect(dmolComponent(140, mean, -9).dLogScale).toBe(0);
  });

  const K = 10;
  // Rows chosen to pass every branch: edge pixels, the middle, and rows far from narrow
  // components (fallback); clamped log-scales below -7 (kept away from the kink at -7).
  const edgeTargets = Uint32Array.from([0, 255, 128, 7, 0, 255, 200]);
  const cases: { name: string; R: number; lo: number; hi: number; targets?: Uint32Array; mask: MaskKind }[] = [
    { name: 'random', R: 5, lo: -4, hi: 0.5, mask: 'some' },
    { name: 'edges', R: 7, lo: -3, hi: 0, targets: edgeTargets, mask: 'weights' },
    { name: 'narrow (fallback)', R: 4, lo: -6.8, hi: -5.5, mask: 'none' },
    { name: 'clamped', R: 3, lo: -9, hi: -7.5, mask: 'none' },
    { name: 'all masked', R: 2, lo: -3, hi: 0, mask: 'all zero' },
  ];
  for (const c of cases) {
    it(`backward matches float64 finite differences: ${c.name}`, () => {
      const params = mixtureParams(c.R, K, 20 + c.R, c.lo, c.hi);
      const targets = c.targets ?? randomTargets(c.R, 256, 5);
      const mask = makeMask(c.mask, c.R, 6);
      const dloss = Float64Array.from([1.3]);
      const [numeric] = finiteDiff(([p]) => dmolLoss(p!, targets, mask, K).loss[0]! * dloss[0]!, [params]);
      const f = dmolLoss(params, targets, mask, K);
      expect(f.nll.every(Number.isFinite)).toBe(true);
      const dparams = new Float64Array(params.length);
      dmolBackward(params, targets, mask, f.denom, dloss, dparams, K);
      expectClose(dparams, numeric!, { atol: 1e-7, rtol: 1e-5, label: `${c.name} dparams` });
      if (c.name === 'narrow (fallback)') {
        // At least one component of the data goes through the fallback branch.
        let fallbacks = 0;
        for (let r = 0; r < c.R; r++) {
          for (let k = 0; k < K; k++) {
            const comp = dmolComponent(targets[r]!, params[r * 30 + K + k]!, params[r * 30 + 2 * K + k]!);
            const ls = params[r * 30 + 2 * K + k]!;
            const c0 = Math.exp(-ls) * ((2 * targets[r]!) / 255 - 1 - params[r * 30 + K + k]!);
            const pdfForm = c0 - ls - 2 * Math.log1p(Math.exp(c0)) - Math.log(127.5);
            if (Math.abs(comp.lp - pdfForm) < 1e-12) fallbacks++;
          }
        }
        expect(fallbacks).toBeGreaterThan(0);
      }
    });
  }

  it('samples from the same discretised distribution it scores', () => {
    // One component of the narrowest scale e^-7 centred on pixel 77: 97% of the mass in its bin,
    // the rest in the neighbours (the bin's half-width is 4.3 scales).
    const x77 = (2 * 77) / 255 - 1;
    const narrow = Float64Array.from([0, x77, -7]);
    expect(dmolPixelProbs(narrow)[77]).toBeGreaterThan(0.97);
    const r = rng(1);
    for (let i = 0; i < 50; i++) expect(Math.abs(sampleDmol(narrow, r) - 77)).toBeLessThanOrEqual(1);
    // A wide two-component mixture: the histogram of draws follows dmolPixelProbs.
    const params = Float64Array.from([0.3, -0.4, -0.5, 0.6, -2, -1.5]);
    const probs = dmolPixelProbs(params);
    const draws = 20000;
    const counts = new Float64Array(256);
    for (let i = 0; i < draws; i++) counts[sampleDmol(params, r)]!++;
    // Every pixel's count within 5 standard deviations of its expectation.
    for (let t = 0; t < 256; t++) {
      const p = probs[t]!;
      const sd = Math.sqrt(draws * p * (1 - p));
      expect(Math.abs(counts[t]! - draws * p), `pixel ${t}`).toBeLessThan(5 * sd + 1);
    }
  });
});
