// Momentum attention with the authors'-code weighting (MATH.md, "A known discrepancy in the
// authors' code"), as a variant to compare with the recurrence (12)-(13) the playground implements.
// Their parallel (training) path weights key j (1-based) by w_j = gamma (1 - beta^(N-j+1))/(1 - beta)
// for every query, with the plain linear normaliser:
//   out_i = sum_{j<=i} w_j phi(q_i).phi(k_j) v_j / (phi(q_i) . sum_{j<=i} phi(k_j))   (causal)
// (all j when non-causal, where it is eq. 14 exactly). w_j does not depend on i, so this is linear
// attention applied to (q, k, w ⊙ v): one elementwise scaling of v (shaders/authors_weights.wgsl)
// composed with the linear attention op, whose chunked scan, kernel variants and backward are
// reused as they are. (A fused path would touch every kernel of the scan for one multiply per
// value; the scaling costs one pass over v each way.) beta and gamma are fixed hyper-parameters:
// no gradient flows to them, and d v = w ⊙ d(w ⊙ v).
import { attentionDimsOf, checkCausal, checkMomentumParams, checkTensor, fail } from '../check.ts';
import { encodeAuthorsScale, type AuthorsWeightsPlan } from '../kernels/authorsWeights.ts';
import { checkMomentumInputs, type LinearAttentionVariant } from '../kernels/linearAttention.ts';
import type { Tape, Tensor } from '../tensor.ts';
import { linearAttention } from './linearAttention.ts';

export interface AuthorsAttentionOptions {
  causal: boolean;
  /** Momentum in [0, 1). */
  beta: number;
  /** Step size > 0. */
  gamma: number;
  /** Tokens per chunk of the linear attention's scan; defaults to the device's choice. */
  chunk?: number;
  /** Forces the linear attention's kernel variant; by default the device's. */
  variant?: LinearAttentionVariant;
}

/** Checks v [B, H, N, Dv] and the hyper-parameters; returns the scaling's plan. */
export function planAuthorsWeights(what: string, v: Tensor, opts: { beta: number; gamma: number }): AuthorsWeightsPlan {
  if (!opts || typeof opts !== 'object') fail(what, 'options {beta, gamma} are required');
  checkMomentumParams(what, opts.beta, opts.gamma);
  checkTensor(what, 'v', v, { rank: 4 });
  const [b, h, n, e] = v.shape as [number, number, number, number];
  return { bh: b * h, seq: n, width: e, beta: opts.beta, gamma: opts.gamma };
}

/**
 * v [B, H, N, Dv] -> w ⊙ v, row t of every (batch, head) scaled by w_t = gamma W(N - 1 - t)
 * (0-based t, N = v's sequence length), differentiable in v.
 */
export function scaleByAuthorsWeights(tape: Tape, v: Tensor, opts: { beta: number; gamma: number }): Tensor {
  const what = 'scaleByAuthorsWeights';
  const plan = planAuthorsWeights(what, v, opts);
  return scale(tape, what, plan, v);
}

function scale(tape: Tape, what: string, plan: AuthorsWeightsPlan, v: Tensor): Tensor {
  const wv = tape.empty(v.shape, `${what}.wv`); // [B, H, N, Dv]
  encodeAuthorsScale(tape.gpu, plan, v, wv);
  if (tape.needsGrad(v)) {
    tape.tracks(wv);
    tape.record(what, [wv], () => {
      const dv = tape.empty(v.shape, `${what}.dv`); // [B, H, N, Dv]
      encodeAuthorsScale(tape.gpu, plan, wv.grad!, dv);
      tape.accumulate(v, dv);
    });
  }
  return wv;
}

/**
 * Momentum attention as the authors' parallel code computes it: q, k [B, H, N, D], v [B, H, N, Dv]
 * -> [B, H, N, Dv]. Equals momentumAttention at the last query of a causal sequence (and
 * everywhere when non-causal), not before it.
 */
export function authorsMomentumAttention(tape: Tape, q: Tensor, k: Tensor, v: Tensor, opts: AuthorsAttentionOptions): Tensor {
  const what = 'authorsMomentumAttention';
  if (!opts || typeof opts !== 'object') fail(what, 'options {causal, beta, gamma} are required');
  checkCausal(what, opts.causal);
  const plan = planAuthorsWeights(what, v, opts);
  // Everything the linear attention will check, checked before the scaled copy of v is allocated.
  const dims = attentionDimsOf(what, q, k, v);
  checkMomentumInputs(what, tape.gpu, { q, k, v, dims, causal: opts.causal, beta: 0, gamma: 1, chunk: opts.chunk, variant: opts.variant, path: 'linear' });
  const wv = scale(tape, what, plan, v); // [B, H, N, Dv]
  return linearAttention(tape, q, k, wv, { causal: opts.causal, chunk: opts.chunk, variant: opts.variant });
}
