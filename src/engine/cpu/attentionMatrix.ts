// CPU reference for shaders/attention_matrix.wgsl (MATH.md section 11): the effective weight A_ij
// that query i puts on value j, with out_i = sum_j A_ij v_j. Plain loops over [B, H, N, D]
// row-major arrays, doubles for arithmetic, the output in the input's type (Float32Array or
// Float64Array). Written from the formulas, independently of the attention kernels' references.

import { rowLengths } from './lengths.ts';

export type Arr = Float32Array | Float64Array;

export interface AttentionMatrixCpuSpec {
  kind: 'softmax' | 'linear' | 'momentum';
  causal: boolean;
  /** Momentum only; default 0 (linear). */
  beta?: number;
  /** Momentum only; default 1. */
  gamma?: number;
}

export interface AttentionMatrixCpuDims {
  batch: number;
  heads: number;
  seq: number;
  dim: number;
}

const phi = (x: number) => (x > 0 ? x + 1 : Math.exp(x));

/** (1 - beta^e) / (1 - beta) = sum_{s<e} beta^s: the momentum weight of a key e - 1 tokens back. */
function weightOf(beta: number, e: number): number {
  return beta === 0 ? 1 : (1 - Math.pow(beta, e)) / (1 - beta);
}

/**
 * A [B, H, N, N]; entries above the diagonal are 0 when causal. With key-padding lengths (1..N per
 * example) example b's rows and columns past lengths[b] are 0 and eq. 14 uses N_b = lengths[b].
 */
export function attentionMatrixCpu<T extends Arr>(
  spec: AttentionMatrixCpuSpec,
  q: T,
  k: T,
  dims: AttentionMatrixCpuDims,
  lengths?: ArrayLike<number>,
): T {
  const { batch, heads, seq: n, dim: d } = dims;
  const bh = batch * heads;
  if (q.length !== bh * n * d || k.length !== bh * n * d) {
    throw new Error(`attentionMatrixCpu: q and k need ${bh * n * d} values; got ${q.length} and ${k.length}`);
  }
  const beta = spec.beta ?? 0;
  const gamma = spec.gamma ?? 1;
  const out = new (q.constructor as new (len: number) => T)(bh * n * n);
  const s = new Float64Array(n);
  const len = rowLengths('attentionMatrixCpu', dims, lengths);
  for (let h = 0; h < bh; h++) {
    const nb = len(h);
    for (let i = 0; i < nb; i++) {
      const jEnd = spec.causal ? i + 1 : nb;
      const qo = (h * n + i) * d;
      for (let j = 0; j < jEnd; j++) {
        const ko = (h * n + j) * d;
        let dot = 0;
        for (let c = 0; c < d; c++) {
          dot += spec.kind === 'softmax' ? q[qo + c]! * k[ko + c]! : phi(q[qo + c]!) * phi(k[ko + c]!);
        }
        s[j] = spec.kind === 'softmax' ? dot / Math.sqrt(d) : dot;
      }
      const row = (h * n + i) * n;
      if (spec.kind === 'softmax') {
        let m = -Infinity;
        for (let j = 0; j < jEnd; j++) m = Math.max(m, s[j]!);
        let l = 0;
        for (let j = 0; j < jEnd; j++) l += Math.exp(s[j]! - m);
        for (let j = 0; j < jEnd; j++) out[row + j] = Math.exp(s[j]! - m) / l;
        continue;
      }
      // phi(q_i) . z_i with z_i the sum of phi(k_j) over the visible keys.
      let den = 0;
      for (let j = 0; j < jEnd; j++) den += s[j]!;
      for (let j = 0; j < jEnd; j++) {
        const w = spec.kind === 'linear' ? 1 : gamma * weightOf(beta, spec.causal ? i - j + 1 : nb - j);
        out[row + j] = (w * s[j]!) / den;
      }
    }
  }
  return out;
}

/** out [B, H, N, Dv] = A v, per (batch, head): what attention's output must equal. */
export function applyAttentionMatrixCpu<T extends Arr>(a: T, v: T, dims: AttentionMatrixCpuDims & { dimV: number }): T {
  const { batch, heads, seq: n, dimV: e } = dims;
  const bh = batch * heads;
  const out = new (v.constructor as new (len: number) => T)(bh * n * e);
  for (let h = 0; h < bh; h++) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < e; c++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += a[(h * n + i) * n + j]! * v[(h * n + j) * e + c]!;
        out[(h * n + i) * e + c] = acc;
      }
    }
  }
  return out;
}
