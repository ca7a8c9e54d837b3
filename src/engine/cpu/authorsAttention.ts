// CPU reference for momentum attention with the authors'-code weighting (ops/authorsAttention.ts,
// shaders/authors_weights.wgsl; MATH.md, "A known discrepancy in the authors' code"): key j
// (0-based) weighs w_j = gamma W(N - 1 - j) for every query, W(d) = sum_{s<=d} beta^s, and the
// normaliser is linear attention's:
//   out_i = sum_{j in J_i} w_j s_ij v_j / sum_{j in J_i} s_ij,  s_ij = phi(q_i) . phi(k_j),
// J_i = {j <= i} causal, all j non-causal. Written from this formula in plain loops with its own
// backward (not as a composition with linear attention, which is what the GPU op does), so the test
// checks the composition. Generic over Float32Array | Float64Array (doubles inside).
import { checkInputs, like, momentumWeight, phi, phiGrad, type Arr, type CpuGrads, type CpuInputs, type MomentumParams } from './linearAttention.ts';

/** w_t = gamma W(N - 1 - t) for t = 0..N-1, in doubles. */
export function authorsWeightsCpu(beta: number, gamma: number, n: number): Float64Array {
  const w = new Float64Array(n);
  for (let t = 0; t < n; t++) w[t] = gamma * momentumWeight(beta, n - 1 - t);
  return w;
}

/** x [BH, N, E] with row t of every (batch, head) scaled by w_t: the kernel's scale_rows. */
export function scaleByAuthorsWeightsCpu<T extends Arr>(x: T, p: MomentumParams & { bh: number; seq: number; width: number }): T {
  const w = authorsWeightsCpu(p.beta, p.gamma, p.seq);
  const y = like(x, x.length);
  for (let r = 0; r < p.bh * p.seq; r++) {
    for (let e = 0; e < p.width; e++) y[r * p.width + e] = w[r % p.seq]! * x[r * p.width + e]!;
  }
  return y;
}

type Args<T extends Arr> = CpuInputs<T> & MomentumParams & { causal: boolean };

/** The authors' parallel momentum attention, q, k [B, H, N, D], v [B, H, N, Dv] -> [B, H, N, Dv]. */
export function authorsAttentionCpu<T extends Arr>(a: Args<T>): T {
  checkInputs('authorsAttentionCpu', a, a);
  const { batch: B, heads: H, seq: N, dimV: E } = a.dims;
  const w = authorsWeightsCpu(a.beta, a.gamma, N);
  const out = like(a.v, B * H * N * E);
  for (let bh = 0; bh < B * H; bh++) {
    for (let i = 0; i < N; i++) {
      const last = a.causal ? i : N - 1;
      const num = new Float64Array(E);
      let den = 0;
      for (let j = 0; j <= last; j++) {
        const s = score(a, bh, i, j);
        den += s;
        for (let e = 0; e < E; e++) num[e]! += w[j]! * s * a.v[(bh * N + j) * E + e]!;
      }
      for (let e = 0; e < E; e++) out[(bh * N + i) * E + e] = num[e]! / den;
    }
  }
  return out;
}

function score(a: CpuInputs<Arr>, bh: number, i: number, j: number): number {
  const { seq: N, dim: D } = a.dims;
  let s = 0;
  for (let d = 0; d < D; d++) s += phi(a.q[(bh * N + i) * D + d]!) * phi(a.k[(bh * N + j) * D + d]!);
  return s;
}

/**
 * Backward of authorsAttentionCpu for sum(out * dout). With den_i = sum_j s_ij, g_i = dout_i / den_i
 * and r_i = -(dout_i . out_i) / den_i, each visible (i, j) contributes c_ij = w_j (g_i . v_j) + r_i
 * to d s_ij, so dphi(q_i) += c_ij phi(k_j), dphi(k_j) += c_ij phi(q_i), and dv_j += w_j s_ij g_i.
 */
export function authorsAttentionBackwardCpu<T extends Arr>(a: Args<T> & { dout: T }): CpuGrads<T> {
  checkInputs('authorsAttentionBackwardCpu', a, a);
  const { batch: B, heads: H, seq: N, dim: D, dimV: E } = a.dims;
  const w = authorsWeightsCpu(a.beta, a.gamma, N);
  const out = authorsAttentionCpu({ ...a, q: Float64Array.from(a.q), k: Float64Array.from(a.k), v: Float64Array.from(a.v) });
  const dq = like(a.q, B * H * N * D);
  const dk = like(a.k, B * H * N * D);
  const dv = like(a.v, B * H * N * E);
  for (let bh = 0; bh < B * H; bh++) {
    const dfq = new Float64Array(N * D);
    const dfk = new Float64Array(N * D);
    const dvs = new Float64Array(N * E);
    for (let i = 0; i < N; i++) {
      const last = a.causal ? i : N - 1;
      let den = 0;
      for (let j = 0; j <= last; j++) den += score(a, bh, i, j);
      let r = 0;
      for (let e = 0; e < E; e++) r -= (a.dout[(bh * N + i) * E + e]! * out[(bh * N + i) * E + e]!) / den;
      for (let j = 0; j <= last; j++) {
        let gv = 0;
        for (let e = 0; e < E; e++) gv += (a.dout[(bh * N + i) * E + e]! / den) * a.v[(bh * N + j) * E + e]!;
        const c = w[j]! * gv + r;
        const s = score(a, bh, i, j);
        for (let d = 0; d < D; d++) {
          dfq[i * D + d]! += c * phi(a.k[(bh * N + j) * D + d]!);
          dfk[j * D + d]! += c * phi(a.q[(bh * N + i) * D + d]!);
        }
        for (let e = 0; e < E; e++) dvs[j * E + e]! += (w[j]! * s * a.dout[(bh * N + i) * E + e]!) / den;
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
