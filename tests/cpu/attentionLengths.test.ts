// The CPU references with key-padding lengths: each backward against float64 finite differences of
// its forward (with lengths), each example against itself run alone at its own length, the
// attention matrix times v against the attention, and bad lengths refused.
import { describe, expect, it } from 'vitest';
import { applyAttentionMatrixCpu, attentionMatrixCpu } from '../../src/engine/cpu/attentionMatrix.ts';
import { momentumClosedBackwardCpu, momentumClosedCpu } from '../../src/engine/cpu/linearAttention.ts';
import { softmaxAttentionBackwardCpu, softmaxAttentionForwardCpu } from '../../src/engine/cpu/softmaxAttention.ts';
import type { AttentionDims } from '../../src/engine/check.ts';
import { expectClose, finiteDiff, randn, toF64 } from '../helpers.ts';

type Kind = 'softmax' | 'linear' | 'momentum';
const P = { linear: { beta: 0, gamma: 1 }, momentum: { beta: 0.6, gamma: 0.9 } };

function forward(kind: Kind, causal: boolean, d: AttentionDims, q: Float64Array, k: Float64Array, v: Float64Array, lengths?: number[]) {
  if (kind === 'softmax') {
    const out = new Float64Array(v.length); // [B, H, N, Dv]
    const lse = new Float64Array(d.batch * d.heads * d.seq); // [B, H, N]
    softmaxAttentionForwardCpu({ q, k, v, out, lse, dims: d, causal, lengths });
    return { out, lse };
  }
  return { out: momentumClosedCpu({ q, k, v, dims: d, causal, lengths, ...P[kind] }), lse: null };
}

function backward(kind: Kind, causal: boolean, d: AttentionDims, x: Record<'q' | 'k' | 'v' | 'dOut', Float64Array>, lengths: number[]) {
  const { q, k, v, dOut } = x;
  if (kind === 'softmax') {
    const { out, lse } = forward(kind, causal, d, q, k, v, lengths);
    const g = { dq: new Float64Array(q.length), dk: new Float64Array(k.length), dv: new Float64Array(v.length) };
    softmaxAttentionBackwardCpu({ q, k, v, out, lse: lse!, dOut, ...g, dims: d, causal, lengths });
    return g;
  }
  return momentumClosedBackwardCpu({ q, k, v, dims: d, causal, lengths, dout: dOut, ...P[kind] });
}

const D: AttentionDims = { batch: 3, heads: 2, seq: 6, dim: 3, dimV: 4 };
const LENGTHS = [6, 1, 4];

function data(d: AttentionDims, seed: number) {
  const rows = d.batch * d.heads * d.seq;
  return {
    q: toF64(randn(rows * d.dim, seed, 0.7)),
    k: toF64(randn(rows * d.dim, seed + 1, 0.7)),
    v: toF64(randn(rows * d.dimV, seed + 2)),
    dOut: toF64(randn(rows * d.dimV, seed + 3)),
  };
}

/** Example b's first n tokens of x [B, H, N, W] as [1, H, n, W]. */
function slice(x: Float64Array, d: AttentionDims, w: number, b: number, n: number): Float64Array {
  const y = new Float64Array(d.heads * n * w);
  for (let h = 0; h < d.heads; h++) {
    const from = (b * d.heads + h) * d.seq * w;
    y.set(x.subarray(from, from + n * w), h * n * w);
  }
  return y;
}

describe('attention CPU references with key-padding lengths', () => {
  for (const kind of ['softmax', 'linear', 'momentum'] as const) {
    for (const causal of [false, true]) {
      const name = `${kind}, ${causal ? 'causal' : 'non-causal'}`;

      it(`${name}: backward matches float64 finite differences`, () => {
        const x = data(D, 5);
        const g = backward(kind, causal, D, x, LENGTHS);
        const loss = ([q, k, v]: Float64Array[]) => {
          const o = forward(kind, causal, D, q!, k!, v!, LENGTHS).out;
          let s = 0;
          for (let i = 0; i < o.length; i++) s += o[i]! * x.dOut[i]!;
          return s;
        };
        const [nq, nk, nv] = finiteDiff(loss, [x.q, x.k, x.v]);
        expectClose(g.dq, nq!, { atol: 1e-7, rtol: 1e-6, label: `${name} dq` });
        expectClose(g.dk, nk!, { atol: 1e-7, rtol: 1e-6, label: `${name} dk` });
        expectClose(g.dv, nv!, { atol: 1e-7, rtol: 1e-6, label: `${name} dv` });
      });

      it(`${name}: each example equals itself alone; padding rows are 0`, () => {
        const x = data(D, 9);
        const out = forward(kind, causal, D, x.q, x.k, x.v, LENGTHS).out;
        const g = backward(kind, causal, D, x, LENGTHS);
        for (let b = 0; b < D.batch; b++) {
          const n = LENGTHS[b]!;
          const one = { ...D, batch: 1, seq: n };
          const s = { q: slice(x.q, D, D.dim, b, n), k: slice(x.k, D, D.dim, b, n), v: slice(x.v, D, D.dimV, b, n), dOut: slice(x.dOut, D, D.dimV, b, n) };
          const alone = forward(kind, causal, one, s.q, s.k, s.v).out;
          const ga = backward(kind, causal, one, s, [n]);
          expectClose(slice(out, D, D.dimV, b, n), alone, { atol: 1e-12, rtol: 1e-12, label: `${name} out ${b}` });
          expectClose(slice(g.dq, D, D.dim, b, n), ga.dq, { atol: 1e-12, rtol: 1e-12, label: `${name} dq ${b}` });
          expectClose(slice(g.dk, D, D.dim, b, n), ga.dk, { atol: 1e-12, rtol: 1e-12, label: `${name} dk ${b}` });
          expectClose(slice(g.dv, D, D.dimV, b, n), ga.dv, { atol: 1e-12, rtol: 1e-12, label: `${name} dv ${b}` });
          // The whole row block of example b, padding included: its sum of squares is the valid part's.
          const sq = (a: Float64Array) => a.reduce((t, z) => t + z * z, 0);
          expect(sq(slice(out, D, D.dimV, b, D.seq))).toBeCloseTo(sq(alone), 12);
        }
      });

      it(`${name}: the attention matrix with lengths times v is the attention with lengths`, () => {
        const x = data(D, 13);
        const spec = kind === 'momentum' ? { kind, causal, ...P.momentum } : { kind, causal };
        const a = attentionMatrixCpu(spec, x.q, x.k, D, LENGTHS);
        const out = forward(kind, causal, D, x.q, x.k, x.v, LENGTHS).out;
        expectClose(applyAttentionMatrixCpu(a, x.v, { ...D }), out, { atol: 1e-12, rtol: 1e-10, label: `${name} A v` });
      });
    }
  }

  it('refuses lengths outside 1..N or of the wrong count', () => {
    const x = data(D, 1);
    expect(() => forward('softmax', false, D, x.q, x.k, x.v, [6, 0, 4])).toThrow(/lengths\[1\] = 0 is not in 1..6/);
    expect(() => forward('momentum', false, D, x.q, x.k, x.v, [6, 7, 4])).toThrow(/lengths\[1\] = 7 is not in 1..6/);
    expect(() => forward('linear', false, D, x.q, x.k, x.v, [6, 4])).toThrow(/lengths has 2 values; batch is 3/);
  });
});
