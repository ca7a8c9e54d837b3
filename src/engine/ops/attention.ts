// One entry point for the three attention kinds the playground compares, with the checks that
// every caller (models, the library API, the UI's sliders) relies on.
import { checkAttentionDims as checkDims, type AttentionDims } from '../check.ts';
import type { Tape, Tensor } from '../tensor.ts';
import { linearAttention, momentumAttention } from './linearAttention.ts';
import { softmaxAttention } from './softmaxAttention.ts';

export type AttentionKind = 'softmax' | 'linear' | 'momentum';

export interface AttentionSpec {
  kind: AttentionKind;
  causal: boolean;
  /** Momentum in [0, 1); momentum attention only (default 0.1, the paper's copy-task value). */
  beta?: number;
  /** Step size > 0; momentum attention only (default 1). */
  gamma?: number;
}

export type { AttentionDims } from '../check.ts';

const KINDS: readonly AttentionKind[] = ['softmax', 'linear', 'momentum'];

/** Throws an error naming what is wrong with a spec; returns it with defaults filled in. */
export function checkAttentionSpec(spec: AttentionSpec): Required<AttentionSpec> {
  if (!spec || typeof spec !== 'object') throw new Error('attention spec must be an object');
  if (!KINDS.includes(spec.kind)) {
    throw new Error(`attention kind must be one of ${KINDS.join(', ')}; got ${JSON.stringify(spec.kind)}`);
  }
  if (typeof spec.causal !== 'boolean') throw new Error(`attention 'causal' must be true or false; got ${String(spec.causal)}`);
  const beta = spec.beta ?? (spec.kind === 'momentum' ? 0.1 : 0);
  const gamma = spec.gamma ?? 1;
  if (spec.kind !== 'momentum' && (spec.beta !== undefined || spec.gamma !== undefined)) {
    throw new Error(`beta and gamma apply to momentum attention only, not '${spec.kind}'`);
  }
  if (!Number.isFinite(beta) || beta < 0 || beta >= 1) {
    throw new Error(`momentum beta must be in [0, 1) (beta >= 1 diverges); got ${beta}`);
  }
  if (!Number.isFinite(gamma) || gamma <= 0) throw new Error(`momentum gamma (step size) must be > 0; got ${gamma}`);
  return { kind: spec.kind, causal: spec.causal, beta, gamma };
}

/** Throws unless every size is a positive integer (check.ts's checkAttentionDims); returns dims. */
export function checkAttentionDims(dims: AttentionDims): AttentionDims {
  checkDims('attention', dims);
  return dims;
}

/**
 * q, k [B, H, N, D], v [B, H, N, Dv] -> [B, H, N, Dv], differentiable. `lengths`, u32 [B]: key
 * padding of a right-padded batch (example b's valid tokens are 0..lengths[b]-1, 1..N): padding
 * keys get no weight (eq. 14 uses N_b = lengths[b]), padding rows are 0 and pass no gradient, so
 * each example's result is that of running it alone at its own length.
 */
export function attention(tape: Tape, spec: AttentionSpec, q: Tensor, k: Tensor, v: Tensor, lengths?: Tensor): Tensor {
  const s = checkAttentionSpec(spec);
  switch (s.kind) {
    case 'softmax':
      return softmaxAttention(tape, q, k, v, { causal: s.causal, lengths });
    case 'linear':
      return linearAttention(tape, q, k, v, { causal: s.causal, lengths });
    case 'momentum':
      return momentumAttention(tape, q, k, v, { causal: s.causal, beta: s.beta, gamma: s.gamma, lengths });
  }
}
