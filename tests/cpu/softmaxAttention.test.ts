import { describe, expect, it } from 'vitest';
import {
  softmaxAttentionBackwardCpu,
  softmaxAttentionForwardCpu,
  type SoftmaxAttentionDims,
} from '../../src/engine/cpu/softmaxAttention.ts';
import { expectClose, finiteDiff, randn, toF64, uniform } from '../helpers.ts';

function forward64(q: Float64Array, k: Float64Array, v: Float64Array, dims: SoftmaxAttentionDims, causal: boolean) {
  const rows = dims.batch * dims.heads * dims.seq;
  const out = new Float64Array(rows * dims.dimV); // [B, H, N, Dv]
  const lse = new Float64Array(rows); // [B, H, N]
  softmaxAttentionForwardCpu({ q, k, v, out, lse, dims, causal });
  return { out, lse };
}

function inputs(dims: SoftmaxAttentionDims, seed: number, qScale = 1) {
  const rows = dims.batch * dims.heads * dims.seq;
  return {
    q: toF64(randn(rows * dims.dim, seed, qScale)), // [B, H, N, D]
    k: toF64(randn(rows * dims.dim, seed + 1)), // [B, H, N, D]
    v: toF64(uniform(rows * dims.dimV, seed + 2)), // [B, H, N, Dv]
  };
}

const CASES: { name: string; dims: SoftmaxAttentionDims; qScale?: number }[] = [
  { name: 'B=1 H=2 N=5 D=3 Dv=4', dims: { batch: 1, heads: 2, seq: 5, dim: 3, dimV: 4 } },
  { name: 'B=2 H=1 N=4 D=5 Dv=2', dims: { batch: 2, heads: 1, seq: 4, dim: 5, dimV: 2 } },
  { name: 'N=1', dims: { batch: 1, heads: 1, seq: 1, dim: 3, dimV: 2 } },
  // Scores near +-20: the max subtraction matters and the gradients are large and peaked.
  { name: 'q scaled by 10', dims: { batch: 1, heads: 1, seq: 6, dim: 3, dimV: 3 }, qScale: 10 },
];

describe('softmax attention CPU reference', () => {
  for (const { name, dims, qScale } of CASES) {
    for (const causal of [false, true]) {
      it(`backward matches float64 finite differences (${name}, ${causal ? 'causal' : 'full'})`, () => {
        const { q, k, v } = inputs(dims, 11, qScale);
        const dOut = toF64(randn(dims.batch * dims.heads * dims.seq * dims.dimV, 99));
        const { out, lse } = forward64(q, k, v, dims, causal);
        const dq = new Float64Array(q.length);
        const dk = new Float64Array(k.length);
        const dv = new Float64Array(v.length);
        softmaxAttentionBackwardCpu({ q, k, v, out, lse, dOut, dq, dk, dv, dims, causal });
        const loss = ([qq, kk, vv]: Float64Array[]) => {
          const o = forward64(qq!, kk!, vv!, dims, causal).out;
          let s = 0;
          for (let i = 0; i < o.length; i++) s += o[i]! * dOut[i]!;
          return s;
        };
        const [nq, nk, nv] = finiteDiff(loss, [q, k, v]);
        expectClose(dq, nq!, { atol: 1e-7, rtol: 1e-6, label: 'dq' });
        expectClose(dk, nk!, { atol: 1e-7, rtol: 1e-6, label: 'dk' });
        expectClose(dv, nv!, { atol: 1e-7, rtol: 1e-6, label: 'dv' });
      });
    }
  }

  it('gives the mean of the visible values and lse = log(count) when every score is 0', () => {
    const dims = { batch: 1, heads: 1, seq: 4, dim: 2, dimV: 3 };
    const q = new Float64Array(8); // [1, 1, 4, 2]
    const k = toF64(randn(8, 3));
    const v = toF64(uniform(12, 4)); // [1, 1, 4, 3]
    for (const causal of [false, true]) {
      const { out, lse } = forward64(q, k, v, dims, causal);
      for (let i = 0; i < 4; i++) {
        const count = causal ? i + 1 : 4;
        for (let c = 0; c < 3; c++) {
          let mean = 0;
          for (let j = 0; j < count; j++) mean += v[j * 3 + c]! / count;
          expect(out[i * 3 + c]).toBeCloseTo(mean, 12);
        }
        expect(lse[i]).toBeCloseTo(Math.log(count), 12);
      }
    }
  });

  it('matches eq. (1) written out, with scores far past exp overflow', () => {
    const dims = { batch: 1, heads: 1, seq: 3, dim: 1, dimV: 1 };
    // Scores 0, 400, 800 / sqrt(1): exp(800) is Infinity, so only a max-subtracting softmax is finite.
    const q = new Float64Array([0, 20, 40]);
    const k = new Float64Array([0, 20, 20]);
    const v = new Float64Array([1, 2, 3]);
    const { out, lse } = forward64(q, k, v, dims, false);
    // Row 2: scores (0, 800, 800) -> weights (0, 1/2, 1/2).
    expect(out[2]).toBeCloseTo(2.5, 12);
    expect(lse[2]).toBeCloseTo(800 + Math.log(2), 9);
    // Row 0: all scores 0 -> the plain mean.
    expect(out[0]).toBeCloseTo(2, 12);
  });

  it('keeps causal row i independent of later keys and values', () => {
    const dims = { batch: 1, heads: 2, seq: 6, dim: 3, dimV: 2 };
    const { q, k, v } = inputs(dims, 5);
    const before = forward64(q, k, v, dims, true).out;
    // Change token 3 of head 0: rows 0..2 of head 0 and all of head 1 must not move.
    for (let c = 0; c < 3; c++) k[3 * 3 + c] += 1;
    for (let c = 0; c < 2; c++) v[3 * 2 + c] -= 2;
    const after = forward64(q, k, v, dims, true).out;
    expectClose(after.subarray(0, 3 * 2), before.subarray(0, 3 * 2), { atol: 0, rtol: 0, label: 'rows before 3' });
    expectClose(after.subarray(6 * 2), before.subarray(6 * 2), { atol: 0, rtol: 0, label: 'head 1' });
    expect(after[3 * 2]).not.toBe(before[3 * 2]);
  });

  it('writes float32 outputs for float32 inputs, close to the float64 answer', () => {
    const dims = { batch: 1, heads: 1, seq: 7, dim: 4, dimV: 3 };
    const { q, k, v } = inputs(dims, 8);
    const ref = forward64(q, k, v, dims, true);
    const out = new Float32Array(21);
    const lse = new Float32Array(7);
    softmaxAttentionForwardCpu({ q: Float32Array.from(q), k: Float32Array.from(k), v: Float32Array.from(v), out, lse, dims, causal: true });
    expectClose(out, ref.out, { atol: 1e-6, rtol: 1e-5, label: 'out f32' });
    expectClose(lse, ref.lse, { atol: 1e-6, rtol: 1e-5, label: 'lse f32' });
  });

  it('rejects arrays that do not match dims', () => {
    const dims = { batch: 1, heads: 1, seq: 3, dim: 2, dimV: 2 };
    const a = new Float64Array(6);
    expect(() =>
      softmaxAttentionForwardCpu({ q: a, k: a, v: new Float64Array(5), out: new Float64Array(6), lse: new Float64Array(3), dims, causal: false }),
    ).toThrow(/v has 5 values; dims need 6/);
    expect(() =>
      softmaxAttentionForwardCpu({ q: a, k: a, v: a, out: a.slice(), lse: new Float64Array(3), dims: { ...dims, seq: 0 }, causal: false }),
    ).toThrow(/dims.seq must be a positive integer/);
  });
});
