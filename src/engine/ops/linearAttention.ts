// Differentiable linear attention (MATH.md eq. 7) and momentum attention (eqs. 12-14), phi = elu + 1.
// The forward keeps the chunk states, normaliser prefixes and per-token normalisers for its backward.
import {
  checkMomentumInputs,
  momentumAttentionBackward,
  momentumAttentionForward,
  momentumSavedShapes,
  type AttentionDims,
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
}

function dimsOf(what: string, q: Tensor, k: Tensor, v: Tensor): AttentionDims {
  const named: [string, Tensor][] = [['q', q], ['k', k], ['v', v]];
  for (const [name, t] of named) {
    if (!t || t.shape.length !== 4) {
      throw new Error(`${what}: ${name} must have shape [batch, heads, seq, dim]; got [${t?.shape.join(', ') ?? ''}]`);
    }
  }
  const [batch, heads, seq, dim] = q.shape as [number, number, number, number];
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(k.shape, q.shape)) throw new Error(`${what}: k has shape [${k.shape.join(', ')}]; q has [${q.shape.join(', ')}]`);
  if (!same(v.shape.slice(0, 3), q.shape.slice(0, 3))) {
    throw new Error(`${what}: v has shape [${v.shape.join(', ')}]; its first three sizes must match q's [${q.shape.join(', ')}]`);
  }
  return { batch, heads, seq, dim, dimV: v.shape[3]! };
}

function attentionOp(what: string, tape: Tape, q: Tensor, k: Tensor, v: Tensor, opts: MomentumAttentionOptions): Tensor {
  if (!opts || typeof opts !== 'object') throw new Error(`${what}: options {causal, ...} are required`);
  const dims = dimsOf(what, q, k, v);
  const cfg: MomentumConfig = {
    causal: opts.causal,
    beta: opts.beta,
    gamma: opts.gamma,
    chunk: opts.chunk,
    path: opts.path,
    variant: opts.variant,
  };
  const r = checkMomentumInputs(what, tape.gpu, { q, k, v, dims, ...cfg });
  const { batch: b, heads: h, seq: n, dimV: e } = dims;
  const shapes = momentumSavedShapes(dims, r.chunk, r.momentum);
  const out = tape.empty([b, h, n, e], `${what}.out`); // [B, H, N, Dv]
  const saved: MomentumSaved = {
    states: tape.empty(shapes.states, `${what}.states`), // [B, H, NC+1, D, Dv, P]
    z: tape.empty(shapes.z, `${what}.z`), // [B, H, NC+1, D]
    den: tape.empty(shapes.den, `${what}.den`), // [B, H, N]
  };
  const chunked = { ...cfg, chunk: r.chunk };
  momentumAttentionForward(tape.gpu, { q, k, v, out, ...saved, dims, ...chunked });
  if (tape.needsGrad(q, k, v)) {
    tape.tracks(out);
    tape.record(what, [out], () => {
      const grad = (t: Tensor, name: string) => (tape.needsGrad(t) ? tape.empty(t.shape, `${what}.${name}`) : null);
      const dq = grad(q, 'dq'); // [B, H, N, D]
      const dk = grad(k, 'dk'); // [B, H, N, D]
      const dv = grad(v, 'dv'); // [B, H, N, Dv]
      momentumAttentionBackward(tape.gpu, { q, k, v, out, dout: out.grad!, dq, dk, dv, ...saved, dims, ...chunked });
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
  opts: { causal: boolean; chunk?: number; variant?: MomentumConfig['variant'] },
): Tensor {
  if (!opts || typeof opts !== 'object') throw new Error('linearAttention: options {causal} are required');
  const { causal, chunk, variant } = opts;
  return attentionOp('linearAttention', tape, q, k, v, { causal, beta: 0, gamma: 1, chunk, variant, path: 'linear' });
}
