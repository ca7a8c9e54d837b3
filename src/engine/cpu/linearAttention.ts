// CPU references for linear and momentum attention (MATH.md sections 2-4 and 9), phi = elu + 1.
// Three independent forms of the same function, each with its backward in plain loops:
//   - the RNN form (12), literally, token by token (causal only);
//   - the closed form (13) / (14) with explicit weights, O(N^2);
//   - the chunked scan that mirrors shaders/linear_attention.wgsl, with the same saved tensors.
// Generic over Float32Array | Float64Array: arithmetic is in doubles, outputs have the input's type,
// so finite differences can run in float64. Layout: q, k [B, H, N, D], v, out [B, H, N, Dv].
import type { AttentionDims } from '../kernels/linearAttention.ts';

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

function like<T extends Arr>(x: T, n: number): T {
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

function checkInputs(what: string, a: CpuInputs<Arr>, p: MomentumParams): void {
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
function phiRows(x: Arr, base: number, count: number): Float64Array {
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
export function momentumClosedCpu<T extends Arr>(a: CpuInputs<T> & MomentumParams & { causal: boolean }): T {
  checkInputs('momentumClosedCpu', a, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
  const out = like(a.v, B * H * N * E);
  const num = new Float64Array(E);
  for (let bh = 0; bh < B * H; bh++) {
    const fq = phiRows(a.q, bh * N * D, N * D);
    const fk = phiRows(a.k, bh * N * D, N * D);
    for (let i = 0; i < N; i++) {
      num.fill(0);
      let den = 0;
      const last = a.causal ? i : N - 1;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += fq[i * D + d]! * fk[j * D + d]!;
        den += s;
        const w = a.gamma * closedWeight(a.causal, a.beta, N, i, j) * s;
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
  a: CpuInputs<T> & MomentumParams & { causal: boolean; dout: T },
): CpuGrads<T> {
  checkInputs('momentumClosedBackwardCpu', a, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
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
    for (let i = 0; i < N; i++) {
      let den = 0;
      const last = a.causal ? i : N - 1;
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
        const w = a.gamma * closedWeight(a.causal, a.beta, N, i, j);
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

// ------------------------------------------------------------------------------------------------
// Chunked scan, mirroring the kernels

/** W(d) by Horner and beta^d for d < chunk, as the kernels tabulate them. */
function tables(beta: number, chunk: number): { w: Float64Array; pw: Float64Array } {
  const w = new Float64Array(chunk);
  const pw = new Float64Array(chunk + 1);
  let acc = 1;
  let pow = 1;
  for (let d = 0; d < chunk; d++) {
    w[d] = acc;
    pw[d] = pow;
    acc = 1 + beta * acc;
    pow *= beta;
  }
  pw[chunk] = pow;
  return { w, pw };
}

/**
 * The scan over chunks of one (batch, head): with a = phi(keys) rows and b rows, slot c of the
 * returned (S, m, z) is the state carried into chunk c in scan order (reverse: from the chunks
 * after it), slot NC the state after all of them. zw weights the z sums (null: 1).
 */
function scanChunks(
  fa: Float64Array,
  bRows: (t: number, e: number) => number,
  zw: Float64Array | null,
  n: number,
  D: number,
  E: number,
  chunk: number,
  p: MomentumParams,
  reverse: boolean,
): { S: Float64Array; M: Float64Array; Z: Float64Array } {
  const nc = Math.ceil(n / chunk);
  const { w, pw } = tables(p.beta, chunk);
  const S = new Float64Array((nc + 1) * D * E);
  const M = new Float64Array((nc + 1) * D * E);
  const Z = new Float64Array((nc + 1) * D);
  const cs = new Float64Array(D * E);
  const cm = new Float64Array(D * E);
  const cz = new Float64Array(D);
  for (let k = 0; k < nc; k++) {
    const c = reverse ? nc - 1 - k : k;
    S.set(cs, c * D * E);
    M.set(cm, c * D * E);
    Z.set(cz, c * D);
    const L = Math.min(chunk, n - c * chunk);
    const h = new Float64Array(D * E);
    const g = new Float64Array(D * E);
    for (let tau = 0; tau < L; tau++) {
      const t = c * chunk + tau;
      const lag = reverse ? tau : L - 1 - tau;
      for (let d = 0; d < D; d++) {
        const av = fa[t * D + d]!;
        cz[d]! += (zw ? zw[t]! : 1) * av;
        for (let e = 0; e < E; e++) {
          const u = av * bRows(t, e);
          h[d * E + e]! += w[lag]! * u;
          g[d * E + e]! += pw[lag]! * u;
        }
      }
    }
    const aL = p.beta * w[L - 1]!;
    for (let x = 0; x < D * E; x++) {
      const ns = cs[x]! - p.gamma * aL * cm[x]! + p.gamma * h[x]!;
      cm[x] = pw[L]! * cm[x]! - g[x]!;
      cs[x] = ns;
    }
  }
  S.set(cs, nc * D * E);
  M.set(cm, nc * D * E);
  Z.set(cz, nc * D);
  return { S, M, Z };
}

export interface ChunkedOptions extends MomentumParams {
  causal: boolean;
  chunk: number;
  /** 'linear' (requires beta = 0, gamma = 1) returns no momenta, like the GPU's linear path. */
  path?: 'momentum' | 'linear';
}

function checkChunk(what: string, o: ChunkedOptions): boolean {
  if (!Number.isInteger(o.chunk) || o.chunk < 1) throw new Error(`${what}: chunk must be a positive integer; got ${o.chunk}`);
  const path = o.path ?? (o.beta === 0 && o.gamma === 1 ? 'linear' : 'momentum');
  if (path === 'linear' && !(o.beta === 0 && o.gamma === 1)) {
    throw new Error(`${what}: the linear path needs beta = 0, gamma = 1; got beta ${o.beta}, gamma ${o.gamma}`);
  }
  return path === 'momentum';
}

/** The chunked scan of the kernels, with the tensors the GPU forward saves. */
export function momentumChunkedCpu<T extends Arr>(a: CpuInputs<T> & ChunkedOptions): CpuChunkedForward<T> {
  const what = 'momentumChunkedCpu';
  checkInputs(what, a, a);
  const withMomenta = checkChunk(what, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
  const C = a.chunk;
  const nc = Math.ceil(N / C);
  const { beta, gamma } = a;
  const { w } = tables(beta, C);
  const out = like(a.v, B * H * N * E);
  const P = withMomenta ? 2 : 1;
  const states = like(a.v, B * H * (nc + 1) * D * E * P);
  const zOut = like(a.v, B * H * (nc + 1) * D);
  const denOut = like(a.v, B * H * N);
  for (let bh = 0; bh < B * H; bh++) {
    const fq = phiRows(a.q, bh * N * D, N * D);
    const fk = phiRows(a.k, bh * N * D, N * D);
    const v = (t: number, e: number) => a.v[(bh * N + t) * E + e]!;
    const { S, M, Z } = scanChunks(fk, v, null, N, D, E, C, a, false);
    for (let x = 0; x < (nc + 1) * D * E; x++) {
      const at = (bh * (nc + 1) * D * E + x) * P;
      states[at] = S[x]!;
      if (P === 2) states[at + 1] = M[x]!;
    }
    zOut.set(Z, bh * (nc + 1) * D);
    for (let c = 0; c < nc; c++) {
      const slot = a.causal ? c : nc;
      const L = Math.min(C, N - c * C);
      for (let t = 0; t < L; t++) {
        const i = c * C + t;
        let den = 0;
        for (let d = 0; d < D; d++) den += fq[i * D + d]! * Z[slot * D + d]!;
        const coef = a.causal ? gamma * beta * w[t]! : 0;
        const num = new Float64Array(E);
        for (let e = 0; e < E; e++) {
          let acc = 0;
          for (let d = 0; d < D; d++) {
            const at = (slot * D + d) * E + e;
            acc += fq[i * D + d]! * (S[at]! - coef * M[at]!);
          }
          num[e] = acc;
        }
        if (a.causal) {
          for (let tau = 0; tau <= t; tau++) {
            const j = c * C + tau;
            let s = 0;
            for (let d = 0; d < D; d++) s += fq[i * D + d]! * fk[j * D + d]!;
            den += s;
            const ws = gamma * w[t - tau]! * s;
            for (let e = 0; e < E; e++) num[e]! += ws * v(j, e);
          }
        }
        denOut[bh * N + i] = den;
        for (let e = 0; e < E; e++) out[(bh * N + i) * E + e] = num[e]! / den;
      }
    }
  }
  return { out, states, z: zOut, den: denOut };
}

/**
 * Backward of the chunked scan, as the kernels do it: g and r per token; dq from the forward's
 * states; a reverse momentum scan of phi(q_i) g_i^T (causal) or plain totals (non-causal) for dk, dv.
 */
export function momentumChunkedBackwardCpu<T extends Arr>(
  a: CpuInputs<T> & ChunkedOptions & { out: T; dout: T; states: T; z: T; den: T },
): CpuGrads<T> {
  const what = 'momentumChunkedBackwardCpu';
  checkInputs(what, a, a);
  const withMomenta = checkChunk(what, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
  const C = a.chunk;
  const nc = Math.ceil(N / C);
  const { beta, gamma } = a;
  const { w } = tables(beta, C);
  const dq = like(a.q, B * H * N * D);
  const dk = like(a.k, B * H * N * D);
  const dv = like(a.v, B * H * N * E);
  for (let bh = 0; bh < B * H; bh++) {
    const fq = phiRows(a.q, bh * N * D, N * D);
    const fk = phiRows(a.k, bh * N * D, N * D);
    const v = (t: number, e: number) => a.v[(bh * N + t) * E + e]!;
    const g = new Float64Array(N * E);
    const r = new Float64Array(N);
    for (let t = 0; t < N; t++) {
      const den = a.den[bh * N + t]!;
      let dot = 0;
      for (let e = 0; e < E; e++) {
        const dy = a.dout[(bh * N + t) * E + e]!;
        g[t * E + e] = dy / den;
        dot += dy * a.out[(bh * N + t) * E + e]!;
      }
      r[t] = -dot / den;
    }
    const sBase = bh * (nc + 1) * D * E;
    const P = withMomenta ? 2 : 1;
    const S = (slot: number, d: number, e: number) => a.states[(sBase + (slot * D + d) * E + e) * P]!;
    const M = (slot: number, d: number, e: number) => (P === 2 ? a.states[(sBase + (slot * D + d) * E + e) * 2 + 1]! : 0);
    const Z = (slot: number, d: number) => a.z[bh * (nc + 1) * D + slot * D + d]!;
    // The reverse scan (causal) or the plain totals (non-causal: beta = 0, gamma = 1 gives sums).
    const rev = scanChunks(fq, (t, e) => g[t * E + e]!, r, N, D, E, C, a.causal ? a : { beta: 0, gamma: 1 }, a.causal);
    for (let c = 0; c < nc; c++) {
      const slot = a.causal ? c : nc;
      const L = Math.min(C, N - c * C);
      for (let t = 0; t < L; t++) {
        const i = c * C + t;
        // dq: the forward state seen by token i, the in-chunk keys, and the normaliser.
        const coef = a.causal ? gamma * beta * w[t]! : 0;
        for (let d = 0; d < D; d++) {
          let acc = r[i]! * Z(slot, d);
          for (let e = 0; e < E; e++) acc += (S(slot, d, e) - coef * M(slot, d, e)) * g[i * E + e]!;
          if (a.causal) {
            for (let tau = 0; tau <= t; tau++) {
              const j = c * C + tau;
              let gv = 0;
              for (let e = 0; e < E; e++) gv += g[i * E + e]! * v(j, e);
              acc += (gamma * w[t - tau]! * gv + r[i]!) * fk[j * D + d]!;
            }
          }
          dq[(bh * N + i) * D + d] = acc * phiGrad(a.q[(bh * N + i) * D + d]!);
        }
        // dk, dv of token i as a key: the reverse state carried into its chunk, and the in-chunk queries.
        const rcoef = a.causal ? gamma * beta * w[L - 1 - t]! : 0;
        const scale = a.causal ? 1 : gamma * momentumWeight(beta, N - 1 - i);
        const RS = (d: number, e: number) => {
          const at = (slot * D + d) * E + e;
          return rev.S[at]! - rcoef * rev.M[at]!;
        };
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let e = 0; e < E; e++) acc += RS(d, e) * v(i, e);
          acc = acc * scale + rev.Z[slot * D + d]!;
          if (a.causal) {
            for (let tq = t; tq < L; tq++) {
              const j = c * C + tq;
              let gv = 0;
              for (let e = 0; e < E; e++) gv += g[j * E + e]! * v(i, e);
              acc += (gamma * w[tq - t]! * gv + r[j]!) * fq[j * D + d]!;
            }
          }
          dk[(bh * N + i) * D + d] = acc * phiGrad(a.k[(bh * N + i) * D + d]!);
        }
        for (let e = 0; e < E; e++) {
          let acc = 0;
          for (let d = 0; d < D; d++) acc += RS(d, e) * fk[i * D + d]!;
          acc *= scale;
          if (a.causal) {
            for (let tq = t; tq < L; tq++) {
              const j = c * C + tq;
              let s = 0;
              for (let d = 0; d < D; d++) s += fq[j * D + d]! * fk[i * D + d]!;
              acc += gamma * w[tq - t]! * s * g[j * E + e]!;
            }
          }
          dv[(bh * N + i) * E + e] = acc;
        }
      }
    }
  }
  return { dq, dk, dv };
}
