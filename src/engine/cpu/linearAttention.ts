// CPU references for linear and momentum attention (MATH.md sections 2-4 and 9), phi = elu + 1.
// Three independent forms of the same function, each with its backward in plain loops:
//   - the RNN form (12), literally, token by token (causal only);
//   - the closed form (13) / (14) with explicit weights, O(N^2);
//   - the chunked scan that mirrors shaders/linear_attention.wgsl, with the same saved tensors.
// Generic over Float32Array | Float64Array: arithmetic is in doubles, outputs have the input's type,
// so finite differences can run in float64. Layout: q, k [B, H, N, D], v, out [B, H, N, Dv].
import type { AttentionDims } from '../check.ts';
import { rowLengths } from './lengths.ts';

export type Arr = Float32Array | Float64Array;

export interface MomentumParams {
  beta: number;
  gamma: number;
}

export interface CpuInputs<T extends Arr> {
  q: T; // [B, H, N, D]
  k: T; // [B, H, N, D]
  v: T; // [B, H, N, Dv]
  dims: AttentionDims;
}

export interface CpuGrads<T extends Arr> {
  dq: T; // [B, H, N, D]
  dk: T; // [B, H, N, D]
  dv: T; // [B, H, N, Dv]
}

/** The chunked forward's outputs, laid out as the GPU primitive's saved tensors. */
export interface CpuChunkedForward<T extends Arr> {
  out: T; // [B, H, N, Dv]
  /** (S, m) interleaved per entry on the momentum path (P = 2); S alone on the linear path (P = 1). */
  states: T; // [B, H, NC+1, D, Dv, P]
  z: T; // [B, H, NC+1, D]
  den: T; // [B, H, N]
}

export function like<T extends Arr>(x: T, n: number): T {
  return new (x.constructor as new (n: number) => T)(n);
}

export function phi(x: number): number {
  return x > 0 ? x + 1 : Math.exp(x);
}

export function phiGrad(x: number): number {
  return x > 0 ? 1 : Math.exp(x);
}

/** W(d) = sum_{s=0}^{d} beta^s = (1 - beta^(d+1)) / (1 - beta): the weight of a key d tokens back. */
export function momentumWeight(beta: number, d: number): number {
  if (beta === 0) return 1;
  return (1 - Math.pow(beta, d + 1)) / (1 - beta);
}

export function checkInputs(what: string, a: CpuInputs<Arr>, p: MomentumParams): void {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = a.dims;
  for (const [name, x] of [['batch', b], ['heads', h], ['seq', n], ['dim', d], ['dimV', e]] as const) {
    if (!Number.isInteger(x) || x < 1) throw new Error(`${what}: dims.${name} must be a positive integer; got ${String(x)}`);
  }
  if (a.q.length !== b * h * n * d) throw new Error(`${what}: q has ${a.q.length} values; [B, H, N, D] needs ${b * h * n * d}`);
  if (a.k.length !== b * h * n * d) throw new Error(`${what}: k has ${a.k.length} values; [B, H, N, D] needs ${b * h * n * d}`);
  if (a.v.length !== b * h * n * e) throw new Error(`${what}: v has ${a.v.length} values; [B, H, N, Dv] needs ${b * h * n * e}`);
  if (!Number.isFinite(p.beta) || p.beta < 0 || p.beta >= 1) throw new Error(`${what}: beta must be in [0, 1); got ${p.beta}`);
  if (!Number.isFinite(p.gamma) || p.gamma <= 0) throw new Error(`${what}: gamma must be > 0; got ${p.gamma}`);
}

/** phi of every row of one (batch, head) slice, as doubles. */
export function phiRows(x: Arr, base: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = phi(x[base + i]!);
  return out;
}

// ------------------------------------------------------------------------------------------------
// RNN form (12)

/** Causal momentum attention by the recurrence (12), one token at a time. */
export function momentumRecurrentCpu<T extends Arr>(a: CpuInputs<T> & MomentumParams): T {
  checkInputs('momentumRecurrentCpu', a, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
  const { beta, gamma } = a;
  const out = like(a.v, B * H * N * E);
  for (let bh = 0; bh < B * H; bh++) {
    const fq = phiRows(a.q, bh * N * D, N * D);
    const fk = phiRows(a.k, bh * N * D, N * D);
    const S = new Float64Array(D * E);
    const m = new Float64Array(D * E);
    const z = new Float64Array(D);
    for (let i = 0; i < N; i++) {
      for (let d = 0; d < D; d++) {
        z[d]! += fk[i * D + d]!;
        for (let e = 0; e < E; e++) {
          const u = fk[i * D + d]! * a.v[(bh * N + i) * E + e]!;
          m[d * E + e] = beta * m[d * E + e]! - u;
          S[d * E + e]! -= gamma * m[d * E + e]!;
        }
      }
      let den = 0;
      for (let d = 0; d < D; d++) den += fq[i * D + d]! * z[d]!;
      for (let e = 0; e < E; e++) {
        let num = 0;
        for (let d = 0; d < D; d++) num += fq[i * D + d]! * S[d * E + e]!;
        out[(bh * N + i) * E + e] = num / den;
      }
    }
  }
  return out;
}

/** Backpropagation through the recurrence (12): adjoints of (S, m, z) carried from the last token. */
export function momentumRecurrentBackwardCpu<T extends Arr>(a: CpuInputs<T> & MomentumParams & { dout: T }): CpuGrads<T> {
  checkInputs('momentumRecurrentBackwardCpu', a, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
  const { beta, gamma } = a;
  const dq = like(a.q, B * H * N * D);
  const dk = like(a.k, B * H * N * D);
  const dv = like(a.v, B * H * N * E);
  for (let bh = 0; bh < B * H; bh++) {
    const fq = phiRows(a.q, bh * N * D, N * D);
    const fk = phiRows(a.k, bh * N * D, N * D);
    const v = (i: number, e: number) => a.v[(bh * N + i) * E + e]!;
    // Forward, keeping S_i and z_i of every token.
    const Ss = new Float64Array(N * D * E);
    const zs = new Float64Array(N * D);
    const S = new Float64Array(D * E);
    const m = new Float64Array(D * E);
    const z = new Float64Array(D);
    for (let i = 0; i < N; i++) {
      for (let d = 0; d < D; d++) {
        z[d]! += fk[i * D + d]!;
        for (let e = 0; e < E; e++) {
          m[d * E + e] = beta * m[d * E + e]! - fk[i * D + d]! * v(i, e);
          S[d * E + e]! -= gamma * m[d * E + e]!;
        }
      }
      Ss.set(S, i * D * E);
      zs.set(z, i * D);
    }
    const dS = new Float64Array(D * E);
    const dm = new Float64Array(D * E);
    const dz = new Float64Array(D);
    const g = new Float64Array(E);
    for (let i = N - 1; i >= 0; i--) {
      let den = 0;
      for (let d = 0; d < D; d++) den += fq[i * D + d]! * zs[i * D + d]!;
      let r = 0;
      for (let e = 0; e < E; e++) {
        let num = 0;
        for (let d = 0; d < D; d++) num += fq[i * D + d]! * Ss[(i * D + d) * E + e]!;
        const dy = a.dout[(bh * N + i) * E + e]!;
        g[e] = dy / den;
        r -= (dy * (num / den)) / den;
      }
      for (let d = 0; d < D; d++) {
        let acc = r * zs[i * D + d]!;
        for (let e = 0; e < E; e++) acc += Ss[(i * D + d) * E + e]! * g[e]!;
        dq[(bh * N + i) * D + d] = acc * phiGrad(a.q[(bh * N + i) * D + d]!);
      }
      // Adjoints: dS_i = dS_{i+1 carried} + phi(q_i) g^T, dz likewise; S_i = S_{i-1} - gamma m_i
      // gives dm_i; m_i = beta m_{i-1} - u_i gives du_i = -dm_i.
      const dphik = new Float64Array(D);
      for (let d = 0; d < D; d++) {
        dz[d]! += r * fq[i * D + d]!;
        dphik[d] = dz[d]!;
      }
      for (let e = 0; e < E; e++) {
        let acc = 0;
        for (let d = 0; d < D; d++) {
          const at = d * E + e;
          dS[at]! += fq[i * D + d]! * g[e]!;
          const dmi = dm[at]! - gamma * dS[at]!;
          const du = -dmi;
          dm[at] = beta * dmi;
          dphik[d]! += du * v(i, e);
          acc += du * fk[i * D + d]!;
        }
        dv[(bh * N + i) * E + e] = acc;
      }
      for (let d = 0; d < D; d++) dk[(bh * N + i) * D + d] = dphik[d]! * phiGrad(a.k[(bh * N + i) * D + d]!);
    }
  }
  return { dq, dk, dv };
}

// ------------------------------------------------------------------------------------------------
// Closed forms (13) and (14)

/** Key j's weight for query i: W(i - j) causal (13), W(N - 1 - j) non-causal (14); 0-based. */
function closedWeight(causal: boolean, beta: number, n: number, i: number, j: number): number {
  return momentumWeight(beta, causal ? i - j : n - 1 - j);
}

/** Momentum attention by the closed form with explicit weights: (13) causal, (14) non-causal. */
/**
 * With key-padding `lengths` (per example, 1..N), example b is the same attention over its first
 * lengths[b] tokens (N_b = lengths[b] in the weights of (14)); its padding rows are 0 and receive no
 * gradient.
 */
export interface CpuLengths {
  lengths?: ArrayLike<number>;
}

export function momentumClosedCpu<T extends Arr>(a: CpuInputs<T> & MomentumParams & CpuLengths & { causal: boolean }): T {
  checkInputs('momentumClosedCpu', a, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
  const len = rowLengths('momentumClosedCpu', a.dims, a.lengths);
  const out = like(a.v, B * H * N * E);
  const num = new Float64Array(E);
  for (let bh = 0; bh < B * H; bh++) {
    const fq = phiRows(a.q, bh * N * D, N * D);
    const fk = phiRows(a.k, bh * N * D, N * D);
    const nb = len(bh);
    for (let i = 0; i < nb; i++) {
      num.fill(0);
      let den = 0;
      const last = a.causal ? i : nb - 1;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += fq[i * D + d]! * fk[j * D + d]!;
        den += s;
        const w = a.gamma * closedWeight(a.causal, a.beta, nb, i, j) * s;
        for (let e = 0; e < E; e++) num[e]! += w * a.v[(bh * N + j) * E + e]!;
      }
      for (let e = 0; e < E; e++) out[(bh * N + i) * E + e] = num[e]! / den;
    }
  }
  return out;
}

/**
 * Backward of the closed form. With g_i = dout_i / den_i and r_i = -(dout_i . out_i) / den_i:
 *   dphi(q_i) = sum_j [gamma w_ij (g_i . v_j) + r_i] phi(k_j)
 *   dphi(k_j) = sum_i [gamma w_ij (g_i . v_j) + r_i] phi(q_i)
 *   dv_j      = sum_i gamma w_ij (phi(q_i) . phi(k_j)) g_i
 */
export function momentumClosedBackwardCpu<T extends Arr>(
  a: CpuInputs<T> & MomentumParams & CpuLengths & { causal: boolean; dout: T },
): CpuGrads<T> {
  checkInputs('momentumClosedBackwardCpu', a, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
  const len = rowLengths('momentumClosedBackwardCpu', a.dims, a.lengths);
  const out = momentumClosedCpu({ ...a, q: toF64(a.q), k: toF64(a.k), v: toF64(a.v) });
  const dq = like(a.q, B * H * N * D);
  const dk = like(a.k, B * H * N * D);
  const dv = like(a.v, B * H * N * E);
  for (let bh = 0; bh < B * H; bh++) {
    const fq = phiRows(a.q, bh * N * D, N * D);
    const fk = phiRows(a.k, bh * N * D, N * D);
    const dfq = new Float64Array(N * D);
    const dfk = new Float64Array(N * D);
    const dvs = new Float64Array(N * E);
    const nb = len(bh);
    for (let i = 0; i < nb; i++) {
      let den = 0;
      const last = a.causal ? i : nb - 1;
      for (let j = 0; j <= last; j++) {
        for (let d = 0; d < D; d++) den += fq[i * D + d]! * fk[j * D + d]!;
      }
      let r = 0;
      const g = new Float64Array(E);
      for (let e = 0; e < E; e++) {
        const dy = a.dout[(bh * N + i) * E + e]!;
        g[e] = dy / den;
        r -= (dy * out[(bh * N + i) * E + e]!) / den;
      }
      for (let j = 0; j <= last; j++) {
        const w = a.gamma * closedWeight(a.causal, a.beta, nb, i, j);
        let gv = 0;
        for (let e = 0; e < E; e++) gv += g[e]! * a.v[(bh * N + j) * E + e]!;
        let s = 0;
        for (let d = 0; d < D; d++) s += fq[i * D + d]! * fk[j * D + d]!;
        const c = w * gv + r;
        for (let d = 0; d < D; d++) {
          dfq[i * D + d]! += c * fk[j * D + d]!;
          dfk[j * D + d]! += c * fq[i * D + d]!;
        }
        for (let e = 0; e < E; e++) dvs[j * E + e]! += w * s * g[e]!;
      }
    }
    for (let t = 0; t < N * D; t++) {
      dq[bh * N * D + t] = dfq[t]! * phiGrad(a.q[bh * N * D + t]!);
      dk[bh * N * D + t] = dfk[t]! * phiGrad(a.k[bh * N * D + t]!);
    }
    for (let t = 0; t < N * E; t++) dv[bh * N * E + t] = dvs[t]!;
  }
  return { dq, dk, dv };
}

function toF64(x: Arr): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

export {
  momentumChunkedBackwardCpu,
  momentumChunkedCpu,
  type ChunkedOptions,
} from './linearAttentionChunked.ts';
