// GPU primitives for linear attention (MATH.md eq. 7) and momentum attention (eqs. 12-14), with
// phi = elu + 1. Linear attention is the same family with the momentum work compiled out
// (`path: 'linear'`), exactly momentum attention at beta = 0, gamma = 1. The family lives in
// ./linear/: plan.ts (config -> checked plan), scan.ts and attend.ts (one encoder per pass),
// encode.ts (the forward and backward as passes), state.ts (the recurrent form), shaders.ts (the
// WGSL files of shaders/linear_attention/). This file is the primitives' entry: it checks the
// tensors against the plan, then encodes. Ops (ops/linearAttention.ts) plan and encode themselves.
import { attentionShapes, checkDistinct, checkLengths, checkTensor } from '../check.ts';
import type { Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';
import { encodeMomentumBackward, encodeMomentumForward } from './linear/encode.ts';
import {
  momentumSavedShapes,
  planMomentum,
  type AttentionDims,
  type MomentumConfig,
  type MomentumPlan,
  type MomentumSaved,
} from './linear/plan.ts';

export { checkMomentumParams } from '../check.ts';
export {
  LINEAR_ATTENTION_MAX_ROW_DIM,
  MOMENTUM_CHUNKS,
  attendStorageBytes,
  chunkCount,
  momentumChunk,
  momentumSavedShapes,
  planMomentum,
  type AttentionDims,
  type LinearAttentionVariant,
  type MomentumConfig,
  type MomentumPath,
  type MomentumPlan,
  type MomentumSaved,
} from './linear/plan.ts';
export { encodeMomentumBackward, encodeMomentumForward } from './linear/encode.ts';
export { MomentumState, type MomentumStateDims } from './linear/state.ts';

/**
 * Key-padding lengths, u32 [B]: example b's valid tokens are 0..lengths[b]-1 (values 1..N, from the
 * host that padded the batch). Padding keys are left out of S and z (eq. 14 weighs key j by
 * W(N_b - 1 - j)), padding rows are 0 and pass no gradient, so each example's result equals running
 * it alone at its own length.
 */
export interface MomentumLengths {
  lengths?: Tensor | null;
}

export interface MomentumForwardArgs extends MomentumConfig, MomentumSaved, MomentumLengths {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  out: Tensor; // [B, H, N, Dv]
  dims: AttentionDims;
}

export interface MomentumBackwardArgs extends MomentumConfig, MomentumSaved, MomentumLengths {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  /** The forward's output. */
  out: Tensor; // [B, H, N, Dv]
  dout: Tensor; // [B, H, N, Dv]
  /** Gradients (overwritten); a null one is skipped. */
  dq: Tensor | null; // [B, H, N, D]
  dk: Tensor | null; // [B, H, N, D]
  dv: Tensor | null; // [B, H, N, Dv]
  dims: AttentionDims;
}

/** Checks q, k, v (and lengths) and the config (ops call it before allocating); returns the plan. */
export function checkMomentumInputs(
  what: string,
  gpu: Gpu,
  args: { q: Tensor; k: Tensor; v: Tensor; dims: AttentionDims } & MomentumConfig & MomentumLengths,
): MomentumPlan {
  const { lengths, ...cfg } = args;
  const plan = planMomentum(what, gpu, args.dims, { ...cfg, masked: !!lengths });
  const s = attentionShapes(args.dims);
  checkTensor(what, 'q', args.q, { shape: s.qk });
  checkTensor(what, 'k', args.k, { shape: s.qk });
  checkTensor(what, 'v', args.v, { shape: s.v });
  if (lengths) checkLengths(what, lengths, args.dims.batch);
  return plan;
}

function checkSaved(what: string, plan: MomentumPlan, s: MomentumSaved): void {
  const sh = momentumSavedShapes(plan.dims, plan.chunk, plan.momentum);
  checkTensor(what, 'states', s.states, { shape: sh.states });
  checkTensor(what, 'z', s.z, { shape: sh.z });
  checkTensor(what, 'den', s.den, { shape: sh.den });
}

/**
 * out = momentum attention of q, k, v (eq. 13 causal, eq. 14 not), or linear attention on the
 * linear path; fills the saved tensors for the backward.
 */
export function momentumAttentionForward(gpu: Gpu, args: MomentumForwardArgs): void {
  const what = 'momentumAttentionForward';
  const plan = checkMomentumInputs(what, gpu, args);
  const { q, k, v, out, states, z, den } = args;
  checkTensor(what, 'out', out, { shape: attentionShapes(plan.dims).v });
  checkSaved(what, plan, args);
  const lengths = args.lengths ?? null;
  checkDistinct(what, { out, states, z, den }, { q, k, v, lengths });
  encodeMomentumForward(gpu, plan, { q, k, v, out, states, z, den, lengths });
}

/** dq, dk, dv of sum(out * dout) (overwritten, not accumulated), from the forward's saved tensors. */
export function momentumAttentionBackward(gpu: Gpu, args: MomentumBackwardArgs): void {
  const what = 'momentumAttentionBackward';
  const plan = checkMomentumInputs(what, gpu, args);
  const { q, k, v, out, dout, dq, dk, dv, states, z, den } = args;
  const s = attentionShapes(plan.dims);
  checkTensor(what, 'out', out, { shape: s.v });
  checkTensor(what, 'dout', dout, { shape: s.v });
  if (dq) checkTensor(what, 'dq', dq, { shape: s.qk });
  if (dk) checkTensor(what, 'dk', dk, { shape: s.qk });
  if (dv) checkTensor(what, 'dv', dv, { shape: s.v });
  checkSaved(what, plan, args);
  const lengths = args.lengths ?? null;
  checkDistinct(what, { dq, dk, dv }, { q, k, v, out, dout, states, z, den, lengths });
  encodeMomentumBackward(gpu, plan, { q, k, v, out, dout, dq, dk, dv, states, z, den, lengths });
}
