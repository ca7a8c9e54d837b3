// CPU references of linear and momentum attention: every backward against float64 finite
// differences of sum(out * dout), and the three forms (RNN (12), closed (13)/(14), chunked scan)
// against each other.
import { describe, expect, it } from 'vitest';
import {
  momentumChunkedBackwardCpu,
  momentumChunkedCpu,
  momentumClosedBackwardCpu,
  momentumClosedCpu,
  momentumRecurrentBackwardCpu,
  momentumRecurrentCpu,
  momentumWeight,
} from '../../src/engine/cpu/linearAttention.ts';
import type { AttentionDims } from '../../src/engine/kernels/linearAttention.ts';
import { dot, expectClose, finiteDiff, maxRelError, randn, toF64 } from '../helpers.ts';

interface Inputs {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  dout: Float64Array;
  dims: AttentionDims;
}

function inputs(dims: AttentionDims, seed: number, vLo = 0): Inputs {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = dims;
  const v = toF64(randn(b * h * n * e, seed + 2));
  // vLo > 0 keeps values (and so outputs) positive, where relative errors mean something.
  if (vLo > 0) for (let i = 0; i < v.length; i++) v[i] = vLo + Math.abs(v[i]!);
  return {
    q: toF64(randn(b * h * n * d, seed, 0.7)),
    k: toF64(randn(b * h * n * d, seed + 1, 0.7)),
    v,
    dout: toF64(randn(b * h * n * e, seed + 3)),
    dims,
  };
}

type Grads = { dq: Float64Array; dk: Float64Array; dv: Float64Array };

/** The analytic gradients of sum(forward * dout) against central differences in float64. */
function checkBackward(
  label: string,
  x: Inputs,
  forward: (q: Float64Array, k: Float64Array, v: Float64Array) => Float64Array,
  grads: Grads,
): void {
  const [fq, fk, fv] = finiteDiff(
    ([q, k, v]) => dot(forward(q!, k!, v!), x.dout),
    [Float64Array.from(x.q), Float64Array.from(x.k), Float64Array.from(x.v)],
  );
  const tol = { atol: 1e-6, rtol: 1e-5 };
  expectClose(grads.dq, fq!, { ...tol, label: `${label} dq` });
  expectClose(grads.dk, fk!, { ...tol, label: `${label} dk` });
  expectClose(grads.dv, fv!, { ...tol, label: `${label} dv` });
}

const small: AttentionDims = { batch: 1, heads: 2, seq: 7, dim: 3, dimV: 4 };

describe('momentum attention CPU backward vs finite differences (float64)', () => {
  const betas = [0, 0.1, 0.6, 0.99];

  for (const beta of betas) {
    const gamma = beta === 0 ? 1 : 0.8;
    it(`RNN form (12), beta ${beta}`, () => {
      const x = inputs(small, 10);
      const p = { dims: x.dims, beta, gamma };
      const g = momentumRecurrentBackwardCpu({ ...p, q: x.q, k: x.k, v: x.v, dout: x.dout });
      checkBackward(`rnn beta ${beta}`, x, (q, k, v) => momentumRecurrentCpu({ ...p, q, k, v }), g);
    });

    for (const causal of [true, false]) {
      it(`closed form (${causal ? '13' : '14'}), beta ${beta}`, () => {
        const x = inputs(small, 20);
        const p = { dims: x.dims, causal, beta, gamma };
        const g = momentumClosedBackwardCpu({ ...p, q: x.q, k: x.k, v: x.v, dout: x.dout });
        checkBackward(`closed causal ${causal} beta ${beta}`, x, (q, k, v) => momentumClosedCpu({ ...p, q, k, v }), g);
      });

      it(`chunked scan, ${causal ? 'causal' : 'non-causal'}, beta ${beta}, chunks of 3 (the last one short)`, () => {
        const x = inputs(small, 30);
        const p = { dims: x.dims, causal, beta, gamma, chunk: 3 };
        const fwd = momentumChunkedCpu({ ...p, q: x.q, k: x.k, v: x.v });
        const g = momentumChunkedBackwardCpu({ ...p, ...fwd, q: x.q, k: x.k, v: x.v, dout: x.dout });
        checkBackward(`chunked causal ${causal} beta ${beta}`, x, (q, k, v) => momentumChunkedCpu({ ...p, q, k, v }).out, g);
      });
    }
  }

  it('the linear path (S without m saved) has the same backward', () => {
    const x = inputs(small, 40);
    const p = { dims: x.dims, causal: true, beta: 0, gamma: 1, chunk: 4 };
    const fwd = momentumChunkedCpu({ ...p, q: x.q, k: x.k, v: x.v, path: 'linear' });
    // S alone per state entry: [B, H, NC+1, D, Dv] with NC = 2.
    expect(fwd.states.length).toBe(2 * 3 * 3 * 4);
    const g = momentumChunkedBackwardCpu({ ...p, ...fwd, q: x.q, k: x.k, v: x.v, dout: x.dout, path: 'linear' });
    checkBackward('linear path', x, (q, k, v) => momentumChunkedCpu({ ...p, q, k, v }).out, g);
  });
});

describe('momentum attention CPU forms agree (float64)', () => {
  const long: AttentionDims = { batch: 1, heads: 1, seq: 1000, dim: 3, dimV: 2 };

  for (const beta of [0.1, 0.9, 0.99]) {
    it(`RNN (12) = closed (13) = chunked scan at N = 1000, beta ${beta}`, () => {
      const x = inputs(long, 50, 0.5);
      const p = { dims: x.dims, beta, gamma: 0.7 };
      const closed = momentumClosedCpu({ ...p, causal: true, q: x.q, k: x.k, v: x.v });
      const rnn = momentumRecurrentCpu({ ...p, q: x.q, k: x.k, v: x.v });
      expect(maxRelError(rnn, closed)).toBeLessThan(1e-11);
      for (const chunk of [16, 37, 64]) {
        const chunked = momentumChunkedCpu({ ...p, causal: true, chunk, q: x.q, k: x.k, v: x.v });
        expect(maxRelError(chunked.out, closed), `chunk ${chunk}`).toBeLessThan(1e-11);
      }
    });
  }

  it('non-causal (14): chunked scan = closed form', () => {
    const x = inputs({ batch: 2, heads: 1, seq: 300, dim: 4, dimV: 3 }, 60, 0.5);
    for (const beta of [0, 0.6, 0.99]) {
      const p = { dims: x.dims, causal: false, beta, gamma: 1.3 };
      const closed = momentumClosedCpu({ ...p, q: x.q, k: x.k, v: x.v });
      const chunked = momentumChunkedCpu({ ...p, chunk: 32, q: x.q, k: x.k, v: x.v });
      expect(maxRelError(chunked.out, closed), `beta ${beta}`).toBeLessThan(1e-11);
    }
  });

  it('beta = 0 is gamma times linear attention; the saved states are those of the RNN', () => {
    const x = inputs({ batch: 1, heads: 2, seq: 50, dim: 3, dimV: 2 }, 70, 0.5);
    const linear = momentumChunkedCpu({ dims: x.dims, causal: true, beta: 0, gamma: 1, chunk: 16, q: x.q, k: x.k, v: x.v });
    const scaled = momentumChunkedCpu({ dims: x.dims, causal: true, beta: 0, gamma: 2.5, chunk: 16, q: x.q, k: x.k, v: x.v });
    expect(maxRelError(scaled.out, linear.out.map((y) => 2.5 * y))).toBeLessThan(1e-13);
    // Slot c of z is the sum of phi(k) over the c * 16 tokens before chunk c (head 0, D = 3).
    const phi = (t: number) => (t > 0 ? t + 1 : Math.exp(t));
    for (const slot of [0, 1, 3]) {
      for (let d = 0; d < 3; d++) {
        let sum = 0;
        for (let t = 0; t < Math.min(slot * 16, 50); t++) sum += phi(x.k[t * 3 + d]!);
        expect(linear.z[slot * 3 + d]).toBeCloseTo(sum, 12);
      }
    }
  });

  it('the weights W(d) = sum beta^s: exactly 1 at beta = 0, and 1/(1 - beta) in the limit', () => {
    expect(momentumWeight(0, 0)).toBe(1);
    expect(momentumWeight(0, 500)).toBe(1);
    expect(momentumWeight(0.5, 2)).toBeCloseTo(1.75, 15);
    expect(momentumWeight(0.9, 10_000)).toBeCloseTo(10, 12);
  });
});

describe('momentum attention CPU references reject bad input', () => {
  const x = inputs(small, 80);
  const base = { dims: x.dims, q: x.q, k: x.k, v: x.v, causal: true, gamma: 1 };
  const cases: [string, () => unknown, RegExp][] = [
    ['beta = 1', () => momentumClosedCpu({ ...base, beta: 1 }), /beta must be in \[0, 1\)/],
    ['beta < 0', () => momentumRecurrentCpu({ ...base, beta: -0.1 }), /beta must be in \[0, 1\)/],
    ['NaN beta', () => momentumChunkedCpu({ ...base, beta: NaN, chunk: 4 }), /beta must be in \[0, 1\)/],
    ['gamma = 0', () => momentumClosedCpu({ ...base, beta: 0.1, gamma: 0 }), /gamma must be > 0/],
    ['short v', () => momentumClosedCpu({ ...base, beta: 0.1, v: x.v.subarray(1) }), /v has 55 values; \[B, H, N, Dv\] needs 56/],
    ['bad chunk', () => momentumChunkedCpu({ ...base, beta: 0.1, chunk: 0 }), /chunk must be a positive integer/],
    ['linear path with beta', () => momentumChunkedCpu({ ...base, beta: 0.1, chunk: 4, path: 'linear' }), /linear path needs beta = 0/],
  ];
  for (const [name, fn, msg] of cases) {
    it(name, () => {
      expect(fn).toThrow(msg);
    });
  }
});
