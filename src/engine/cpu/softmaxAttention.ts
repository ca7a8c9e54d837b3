// CPU reference for multi-head softmax attention (shaders/softmax_attention.wgsl), MATH.md eq. (1):
// plain loops over [B, H, N, D] row-major arrays, in the input's precision for storage and float64
// (JS numbers) for arithmetic, so float64 inputs give the reference that finite differences check.
// Same argument shape as the GPU primitives: outputs are passed in and overwritten. With key-padding
// `lengths` (per example, 1..N) example b attends over its first lengths[b] tokens only; its
// padding rows are 0 (lse 0) and receive no gradient.

import { rowLengths } from './lengths.ts';

export type Arr = Float32Array | Float64Array;

export interface SoftmaxAttentionDims {
  batch: number;
  heads: number;
  seq: number;
  dim: number;
  dimV: number;
}

function check(what: string, dims: SoftmaxAttentionDims, arrays: Record<string, [Arr, number]>): void {
  for (const name of ['batch', 'heads', 'seq', 'dim', 'dimV'] as const) {
    const n = dims[name];
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: dims.${name} must be a positive integer; got ${String(n)}`);
  }
  for (const [name, [a, width]] of Object.entries(arrays)) {
    const want = dims.batch * dims.heads * dims.seq * width;
    if (a.length !== want) throw new Error(`${what}: ${name} has ${a.length} values; dims need ${want}`);
  }
}

/** Scaled scores of query row i of head bh against keys 0..jend-1, into s. */
function scores(q: Arr, k: Arr, bh: number, i: number, jend: number, dims: SoftmaxAttentionDims, s: Float64Array): void {
  const { seq: n, dim: d } = dims;
  const scale = 1 / Math.sqrt(d);
  const qo = (bh * n + i) * d;
  for (let j = 0; j < jend; j++) {
    const ko = (bh * n + j) * d;
    let dot = 0;
    for (let c = 0; c < d; c++) dot += q[qo + c]! * k[ko + c]!;
    s[j] = dot * scale;
  }
}

/** out = softmax(q k^T / sqrt(D)) v; lse[i] = log sum_j exp(s_ij), saved for the backward. */
export function softmaxAttentionForwardCpu<T extends Arr>(args: {
  q: T; // [B, H, N, D]
  k: T; // [B, H, N, D]
  v: T; // [B, H, N, Dv]
  out: T; // [B, H, N, Dv]
  lse: T; // [B, H, N]
  dims: SoftmaxAttentionDims;
  causal: boolean;
  lengths?: ArrayLike<number>;
}): void {
  const { q, k, v, out, lse, dims, causal } = args;
  const { seq: n, dim: d, dimV: dv } = dims;
  check('softmaxAttentionForwardCpu', dims, { q: [q, d], k: [k, d], v: [v, dv], out: [out, dv], lse: [lse, 1] });
  const s = new Float64Array(n);
  const acc = new Float64Array(dv);
  const len = rowLengths('softmaxAttentionForwardCpu', dims, args.lengths);
  for (let bh = 0; bh < dims.batch * dims.heads; bh++) {
    const nb = len(bh);
    for (let i = 0; i < n; i++) {
      if (i >= nb) {
        out.fill(0, (bh * n + i) * dv, (bh * n + i + 1) * dv);
        lse[bh * n + i] = 0;
        continue;
      }
      const jend = causal ? i + 1 : nb;
      scores(q, k, bh, i, jend, dims, s);
      let m = -Infinity;
      for (let j = 0; j < jend; j++) m = Math.max(m, s[j]!);
      let l = 0;
      acc.fill(0);
      for (let j = 0; j < jend; j++) {
        const e = Math.exp(s[j]! - m);
        l += e;
        const vo = (bh * n + j) * dv;
        for (let c = 0; c < dv; c++) acc[c] += e * v[vo + c]!;
      }
      const oo = (bh * n + i) * dv;
      for (let c = 0; c < dv; c++) out[oo + c] = acc[c]! / l;
      lse[bh * n + i] = m + Math.log(l);
    }
  }
}

/**
 * Gradients of sum(out * dOut): with P_ij = exp(s_ij - lse_i), dP_ij = dO_i . v_j,
 * delta_i = dO_i . out_i and dS_ij = P_ij (dP_ij - delta_i):
 * dv_j = sum_i P_ij dO_i, dq_i = sum_j dS_ij k_j / sqrt(D), dk_j = sum_i dS_ij q_i / sqrt(D).
 */
export function softmaxAttentionBackwardCpu<T extends Arr>(args: {
  q: T; // [B, H, N, D]
  k: T; // [B, H, N, D]
  v: T; // [B, H, N, Dv]
  out: T; // [B, H, N, Dv], the forward's
  lse: T; // [B, H, N], the forward's
  dOut: T; // [B, H, N, Dv]
  dq: T; // [B, H, N, D]
  dk: T; // [B, H, N, D]
  dv: T; // [B, H, N, Dv]
  dims: SoftmaxAttentionDims;
  causal: boolean;
  lengths?: ArrayLike<number>;
}): void {
  const { q, k, v, out, lse, dOut, dq, dk, dv, dims, causal } = args;
  const { seq: n, dim: d, dimV: dvw } = dims;
  check('softmaxAttentionBackwardCpu', dims, {
    q: [q, d], k: [k, d], v: [v, dvw], out: [out, dvw], lse: [lse, 1], dOut: [dOut, dvw],
    dq: [dq, d], dk: [dk, d], dv: [dv, dvw],
  });
  const scale = 1 / Math.sqrt(d);
  const s = new Float64Array(n);
  // Accumulate in float64 whatever T is, then store.
  const gq = new Float64Array(dq.length);
  const gk = new Float64Array(dk.length);
  const gv = new Float64Array(dv.length);
  const len = rowLengths('softmaxAttentionBackwardCpu', dims, args.lengths);
  for (let bh = 0; bh < dims.batch * dims.heads; bh++) {
    const nb = len(bh);
    for (let i = 0; i < nb; i++) {
      const jend = causal ? i + 1 : nb;
      scores(q, k, bh, i, jend, dims, s);
      const ri = bh * n + i;
      let delta = 0;
      for (let c = 0; c < dvw; c++) delta += dOut[ri * dvw + c]! * out[ri * dvw + c]!;
      for (let j = 0; j < jend; j++) {
        const rj = bh * n + j;
        const pr = Math.exp(s[j]! - lse[ri]!);
        let dp = 0;
        for (let c = 0; c < dvw; c++) dp += dOut[ri * dvw + c]! * v[rj * dvw + c]!;
        const ds = pr * (dp - delta) * scale;
        for (let c = 0; c < dvw; c++) gv[rj * dvw + c] += pr * dOut[ri * dvw + c]!;
        for (let c = 0; c < d; c++) {
          gq[ri * d + c] += ds * k[rj * d + c]!;
          gk[rj * d + c] += ds * q[ri * d + c]!;
        }
      }
    }
  }
  dq.set(gq);
  dk.set(gk);
  dv.set(gv);
}
