// CPU reference of the chunked scan (MATH.md section 9) for linear and momentum attention: the
// algorithm of shaders/linear_attention/ in float64 loops, forward and backward. The recurrent
// and closed forms it is checked against are in ./linearAttention.ts.
import {
  like,
  phiGrad,
  momentumWeight,
  checkInputs,
  phiRows,
  type Arr,
  type MomentumParams,
  type CpuInputs,
  type CpuGrads,
  type CpuChunkedForward,
} from './linearAttention.ts';
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
