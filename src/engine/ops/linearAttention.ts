// Differentiable linear attention (MATH.md eq. 7) and momentum attention (eqs. 12-14), phi = elu + 1.
// The forward keeps the chunk states, normaliser prefixes and per-token normalisers for its backward.
import { attentionDimsOf } from '../check.ts';
import {
  checkMomentumInputs,
  encodeMomentumBackward,
  encodeMomentumForward,
  momentumSavedShapes,
  type MomentumConfig,
  type MomentumSaved,
} from '../kernels/linearAttention.ts';
import type { Tape, Tensor } from '../tensor.ts';

export interface MomentumAttentionOptions {
  causal: boolean;
  /** Momentum in [0, 1). */
  beta: number;
  /** Step size > 0. */
  gamma: number;
  /** Tokens per chunk; defaults to the device's choice (tests force each). */
  chunk?: number;
  /** Forces the kernels' path; by default 'linear' exactly at beta = 0, gamma = 1. */
  path?: MomentumConfig['path'];
  /** Forces the kernel variant; by default the device's (`gpu.backend`). */
  variant?: MomentumConfig['variant'];
  /** The row kernels' body ('swiftshader' variant): 'pairs' (the default) or 'quads'. */
  rows?: MomentumConfig['rows'];
  /**
   * Key-padding lengths, u32 [B] (each example's valid tokens, 1..N; right padding after them):
   * padding keys are left out of S and z (eq. 14 weighs with N_b = lengths[b]), padding rows are 0
   * and pass no gradient.
   */
  lengths?: Tensor;
}

function attentionOp(what: string, tape: Tape, q: Tensor, k: Tensor, v: Tensor, opts: MomentumAttentionOptions): Tensor {
  if (!opts || typeof opts !== 'object') throw new Error(`${what}: options {causal, ...} are required`);
  const dims = attentionDimsOf(what, q, k, v);
  const cfg: MomentumConfig = {
    causal: opts.causal,
    beta: opts.beta,
    gamma: opts.gamma,
    chunk: opts.chunk,
    path: opts.path,
    variant: opts.variant,
    rows: opts.rows,
  };
  // The one check of this call: the plan is resolved before anything is allocated.
  const lengths = opts.lengths ?? null;
  const plan = checkMomentumInputs(what, tape.gpu, { q, k, v, dims, ...cfg, lengths });
  const { batch: b, heads: h, seq: n, dimV: e } = dims;
  const shapes = momentumSavedShapes(dims, plan.chunk, plan.momentum);
  const out = tape.empty([b, h, n, e], `${what}.out`); // [B, H, N, Dv]
  const saved: MomentumSaved = {
    states: tape.empty(shapes.states, `${what}.states`), // [B, H, NC+1, D, Dv, P]
    z: tape.empty(shapes.z, `${what}.z`), // [B, H, NC+1, D]
    den: tape.empty(shapes.den, `${what}.den`), // [B, H, N]
  };
  encodeMomentumForward(tape.gpu, plan, { q, k, v, out, ...saved, lengths });
  if (tape.needsGrad(q, k, v)) {
    tape.tracks(out);
    tape.record(what, [out], () => {
      const grad = (t: Tensor, name: string) => (tape.needsGrad(t) ? tape.empty(t.shape, `${what}.${name}`) : null);
      const dq = grad(q, 'dq'); // [B, H, N, D]
      const dk = grad(k, 'dk'); // [B, H, N, D]
      const dv = grad(v, 'dv'); // [B, H, N, Dv]
      encodeMomentumBackward(tape.gpu, plan, { q, k, v, out, dout: out.grad!, dq, dk, dv, ...saved, lengths });
      if (dq) tape.accumulate(q, dq);
      if (dk) tape.accumulate(k, dk);
      if (dv) tape.accumulate(v, dv);
    });
  }
  return out;
}

/**
 * Momentum attention: q, k [B, H, N, D], v [B, H, N, Dv] -> [B, H, N, Dv]. Causal follows the
 * recurrence (12) (closed form 13); non-causal is (14). beta in [0, 1), gamma > 0.
 */
export function momentumAttention(tape: Tape, q: Tensor, k: Tensor, v: Tensor, opts: MomentumAttentionOptions): Tensor {
  return attentionOp('momentumAttention', tape, q, k, v, opts);
}

/** Linear attention (7) with phi = elu + 1: momentum attention at beta = 0, gamma = 1, on its own path. */
export function linearAttention(
  tape: Tape,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { causal: boolean; chunk?: number; variant?: MomentumConfig['variant']; rows?: MomentumConfig['rows']; lengths?: Tensor },
): Tensor {
  if (!opts || typeof opts !== 'object') throw new Error('linearAttention: options {causal} are required');
  const { causal, chunk, variant, rows, lengths } = opts;
  return attentionOp('linearAttention', tape, q, k, v, { causal, beta: 0, gamma: 1, chunk, variant, rows, path: 'linear', lengths });
}
