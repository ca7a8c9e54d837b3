// GPU primitives of the momentum connection across layers (MATH.md sections 5 and 6). The family
// lives in ./momentumConnection/: plan.ts (checks and plans), encode.ts (dispatches only),
// shaders.ts (the WGSL files of shaders/momentum_connection/). The ops (ops/momentumConnection.ts)
// plan once and encode; this file is the checked entry for direct callers (tests): each primitive
// checks its tensors against the plan, then calls the same encoders. The loop reference is
// cpu/momentumConnection.ts. Every [R, C] tensor may carry any leading dims: R is their product.
import type { FixedConnectionOptions } from '../host/momentumConnection.ts';
import type { Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';
import { CONNECTION_ROWS } from '../variants.ts';
import {
  encodeAdaptiveBackward,
  encodeAdaptiveForward,
  encodeFixedBackward,
  encodeFixedForward,
  type AdaptiveGrads,
  type AdaptiveSaved,
} from './momentumConnection/encode.ts';
import {
  checkSameShape,
  checkSize,
  planAdaptive,
  planAdaptiveInputs,
  planFixed,
  planFixedInputs,
  type AdaptiveKernelOptions,
} from './momentumConnection/plan.ts';

export {
  encodeAdaptiveBackward,
  encodeAdaptiveForward,
  encodeFixedBackward,
  encodeFixedForward,
  type AdaptiveGrads,
  type AdaptiveSaved,
  type ConnectionGrads,
} from './momentumConnection/encode.ts';
export {
  planAdaptiveInputs,
  planFixedInputs,
  rowsCols,
  type AdaptiveKernelOptions,
  type AdaptivePlan,
  type FixedPlan,
  type RowVariant,
} from './momentumConnection/plan.ts';

/** Row layouts of the adaptive form's reductions (src/engine/variants.ts). */
export const ROW_LAYOUTS = CONNECTION_ROWS;

/**
 * Fixed form forward: m = beta~ mPrev + g, out = x + gamma~ m. mPrev null is layer 1 (m_0 = 0:
 * m = g, beta~ unused). All tensors have one shape.
 */
export function momentumConnectionForward(
  gpu: Gpu,
  x: Tensor,
  g: Tensor,
  mPrev: Tensor | null,
  out: Tensor,
  m: Tensor,
  opts: FixedConnectionOptions,
): void {
  const where = 'momentumConnectionForward';
  const plan = planFixedInputs(where, x, g, mPrev, opts);
  checkSameShape(where, x, { out, m });
  encodeFixedForward(gpu, plan, x, g, mPrev, out, m);
}

/**
 * Fixed form backward: dm = dM + gamma~ dOut; dx = dOut, dg = dm, dmPrev = beta~ dm. dOut or dM
 * may be null (not both); dmPrev is null exactly when the forward had no mPrev.
 */
export function momentumConnectionBackward(
  gpu: Gpu,
  dOut: Tensor | null,
  dM: Tensor | null,
  dx: Tensor,
  dg: Tensor,
  dmPrev: Tensor | null,
  opts: FixedConnectionOptions,
): void {
  const where = 'momentumConnectionBackward';
  const ref = dOut ?? dM;
  const plan = planFixed(where, ref ?? dx, opts);
  if (!ref) throw new Error(`${where}: needs the gradient of out or of m`);
  checkSameShape(where, ref, { dOut, dM, dx, dg, dmPrev });
  encodeFixedBackward(gpu, plan, { dOut, dM }, dx, dg, dmPrev);
}

/**
 * Adaptive form forward (eq. 18), one fused dispatch: per row the norms ||g - gPrev||, ||gPrev||,
 * beta~ = proj_[0, 1-delta]((1 - sqrt(ratio))^2), then m = beta~ mPrev + g and out = x + gamma~ m.
 * Writes beta [R] (for metrics) and norms [R, 2] (kept for the backward).
 */
export function adaptiveConnectionForward(
  gpu: Gpu,
  x: Tensor,
  g: Tensor,
  gPrev: Tensor,
  mPrev: Tensor,
  out: Tensor,
  m: Tensor,
  beta: Tensor,
  norms: Tensor,
  opts: AdaptiveKernelOptions,
): void {
  const where = 'adaptiveConnectionForward';
  const plan = planAdaptiveInputs(gpu, where, x, g, gPrev, mPrev, opts);
  checkSameShape(where, x, { out, m });
  checkSize(where, 'beta', beta, plan.rows);
  checkSize(where, 'norms', norms, 2 * plan.rows);
  encodeAdaptiveForward(gpu, plan, { x, g, gPrev, mPrev, out, m, beta, norms });
}

/**
 * Adaptive form backward, two dispatches: a row pass (dx = dOut; d beta~ = sum_c dm mPrev, a
 * deterministic tree per row, turned into per-row coefficients) and an elementwise pass (dg, dgPrev,
 * dmPrev). Conventions at the clamps and for ||gPrev|| < eps: see cpu/momentumConnection.ts.
 */
export function adaptiveConnectionBackward(
  gpu: Gpu,
  saved: AdaptiveSaved,
  grads: AdaptiveGrads,
  result: { dx: Tensor; dg: Tensor; dgPrev: Tensor; dmPrev: Tensor },
  opts: AdaptiveKernelOptions,
): void {
  const where = 'adaptiveConnectionBackward';
  const { g, gPrev, mPrev, norms } = saved;
  const { dOut, dM, dBeta } = grads;
  const plan = planAdaptive(gpu, where, g, opts);
  if (!(dOut ?? dM ?? dBeta)) throw new Error(`${where}: needs the gradient of out, m or beta`);
  checkSameShape(where, g, { gPrev, mPrev, dOut, dM, ...result });
  checkSize(where, 'norms', norms, 2 * plan.rows);
  checkSize(where, 'dBeta', dBeta, plan.rows);
  encodeAdaptiveBackward(gpu, plan, saved, grads, result);
}
