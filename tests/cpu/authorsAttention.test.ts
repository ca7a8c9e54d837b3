// CPU reference of momentum attention under the authors'-code weighting (MATH.md, "A known
// discrepancy in the authors' code"): its backward against float64 finite differences, and what
// the formula must equal: eq. (14) when non-causal, eq. (13) at the last query of a causal
// sequence only, gamma * linear attention at beta = 0; the scaling is the row weights w_t.
import { describe, expect, it } from 'vitest';
import {
  authorsAttentionBackwardCpu,
  authorsAttentionCpu,
  authorsWeightsCpu,
  scaleByAuthorsWeightsCpu,
} from '../../src/engine/cpu/authorsAttention.ts';
import { momentumClosedCpu } from '../../src/engine/cpu/linearAttention.ts';
import type { AttentionDims } from '../../src/engine/kernels/linearAttention.ts';
import { dot, expectClose, finiteDiff, randn, toF64 } from '../helpers.ts';

function inputs(dims: AttentionDims, seed: number) {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = dims;
  return {
    dims,
    q: toF64(randn(b * h * n * d, seed, 0.7)),
    k: toF64(randn(b * h * n * d, seed + 1, 0.7)),
    v: toF64(randn(b * h * n * e, seed + 2)),
    dout: toF64(randn(b * h * n * e, seed + 3)),
  };
}

const small: AttentionDims = { batch: 1, heads: 2, seq: 7, dim: 3, dimV: 4 };

describe("authors'-code momentum attention, CPU reference", () => {
  for (const causal of [true, false]) {
    for (const [beta, gamma] of [
      [0.6, 0.9],
      [0.99, 1.7],
    ] as const) {
      it(`backward vs finite differences (${causal ? 'causal' : 'non-causal'}, beta ${beta}, gamma ${gamma})`, () => {
        const x = inputs(small, 10);
        const p = { dims: small, causal, beta, gamma };
        const g = authorsAttentionBackwardCpu({ ...p, q: x.q, k: x.k, v: x.v, dout: x.dout });
        const [fq, fk, fv] = finiteDiff(
          ([q, k, v]) => dot(authorsAttentionCpu({ ...p, q: q!, k: k!, v: v! }), x.dout),
          [Float64Array.from(x.q), Float64Array.from(x.k), Float64Array.from(x.v)],
        );
        const tol = { atol: 1e-6, rtol: 1e-5 };
        expectClose(g.dq, fq!, { ...tol, label: 'dq' });
        expectClose(g.dk, fk!, { ...tol, label: 'dk' });
        expectClose(g.dv, fv!, { ...tol, label: 'dv' });
      });
    }
  }

  it('non-causal it is eq. (14) exactly; causal it agrees with eq. (13) at the last query only', () => {
    const dims: AttentionDims = { batch: 2, heads: 1, seq: 9, dim: 3, dimV: 2 };
    const x = inputs(dims, 20);
    const p = { dims, beta: 0.6, gamma: 0.9, q: x.q, k: x.k, v: x.v };
    expectClose(authorsAttentionCpu({ ...p, causal: false }), momentumClosedCpu({ ...p, causal: false }), { atol: 1e-12, rtol: 1e-12 });
    const authors = authorsAttentionCpu({ ...p, causal: true });
    const recurrence = momentumClosedCpu({ ...p, causal: true });
    const n = dims.seq;
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < n; i++) {
        for (let e = 0; e < 2; e++) {
          const o = (b * n + i) * 2 + e;
          if (i === n - 1) expect(Math.abs(authors[o]! - recurrence[o]!)).toBeLessThan(1e-12);
          else expect(Math.abs(authors[o]! - recurrence[o]!)).toBeGreaterThan(1e-6);
        }
      }
    }
  });

  it('beta = 0 is gamma times linear attention', () => {
    const x = inputs(small, 30);
    const p = { dims: small, causal: true, q: x.q, k: x.k, v: x.v };
    const linear = momentumClosedCpu({ ...p, beta: 0, gamma: 1 });
    expectClose(authorsAttentionCpu({ ...p, beta: 0, gamma: 2.5 }), linear.map((y) => 2.5 * y), { atol: 1e-12, rtol: 1e-12 });
  });

  it('the weights: gamma W(N - 1 - t), so the last row weighs gamma and the first gamma (1 - beta^N) / (1 - beta)', () => {
    const w = authorsWeightsCpu(0.5, 2, 4);
    expectClose(w, [2 * 1.875, 2 * 1.75, 2 * 1.5, 2], { atol: 1e-15 });
    const x = toF64(randn(2 * 4 * 3, 40));
    const y = scaleByAuthorsWeightsCpu(x, { bh: 2, seq: 4, width: 3, beta: 0.5, gamma: 2 });
    for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(w[Math.floor(i / 3) % 4]! * x[i]!, 14);
  });
});
