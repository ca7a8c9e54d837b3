// The encoders of the momentum connection (shaders/momentum_connection/): they record the
// dispatches of a plan (plan.ts) and validate nothing.
import { ADAPTIVE_NORM_EPS } from '../../host/momentumConnection.ts';
import type { Gpu } from '../../gpu.ts';
import { empty, type Tensor } from '../../tensor.ts';
import type { AdaptivePlan, FixedPlan } from './plan.ts';
import { CONNECTION_KERNELS, type ConnectionKernel } from './shaders.ts';

/** Threads per workgroup of the elementwise kernels. */
const ELEMENT_WG = 256;
/** Per-row coefficients (beta~, ca, cp) the backward's row pass leaves for its elementwise pass. */
const COEF = 3;

export interface ConnectionGrads {
  dOut: Tensor | null;
  dM: Tensor | null;
}

export interface AdaptiveGrads extends ConnectionGrads {
  /** Gradient of the beta~ output [R] (usually null: beta~ is read as a metric). */
  dBeta: Tensor | null;
}

export interface AdaptiveSaved {
  g: Tensor;
  gPrev: Tensor;
  mPrev: Tensor;
  /** The forward's norms output [R, 2]. */
  norms: Tensor;
}

function elementKernel(gpu: Gpu, spec: ConnectionKernel) {
  return gpu.kernel({ ...spec, constants: { WG: ELEMENT_WG } });
}

function fixedParams(plan: FixedPlan, grads: ConnectionGrads | null) {
  return { n: plan.n, beta: plan.betaTilde, gamma: plan.gammaTilde, has_dout: grads?.dOut ? 1 : 0, has_dm: grads?.dM ? 1 : 0 };
}

function adaptiveParams(plan: AdaptivePlan, grads: AdaptiveGrads | null) {
  return {
    rows: plan.rows,
    cols: plan.cols,
    gamma: plan.gammaTilde,
    delta: plan.delta,
    eps: ADAPTIVE_NORM_EPS,
    has_dout: grads?.dOut ? 1 : 0,
    has_dm: grads?.dM ? 1 : 0,
    has_dbeta: grads?.dBeta ? 1 : 0,
  };
}

/** m = beta~ mPrev + g, out = x + gamma~ m; mPrev null is layer 1 (m = g). */
export function encodeFixedForward(gpu: Gpu, plan: FixedPlan, x: Tensor, g: Tensor, mPrev: Tensor | null, out: Tensor, m: Tensor): void {
  const grid = gpu.grid(Math.ceil(plan.n / ELEMENT_WG));
  if (mPrev) elementKernel(gpu, CONNECTION_KERNELS.fixedForward).run({ x, g, m_prev: mPrev, out, m }, fixedParams(plan, null), grid);
  else elementKernel(gpu, CONNECTION_KERNELS.fixedForwardFirst).run({ x, g, out, m }, fixedParams(plan, null), grid);
}

/** dm = dM + gamma~ dOut; dx = dOut, dg = dm, dmPrev = beta~ dm (dmPrev null: layer 1). One of dOut, dM at least. */
export function encodeFixedBackward(
  gpu: Gpu,
  plan: FixedPlan,
  grads: ConnectionGrads,
  dx: Tensor,
  dg: Tensor,
  dmPrev: Tensor | null,
): void {
  const present = (grads.dOut ?? grads.dM)!;
  // A missing gradient is never read (its flag is 0); a present one stands in for its binding.
  const d = { d_out: grads.dOut ?? present, d_m: grads.dM ?? present };
  const grid = gpu.grid(Math.ceil(plan.n / ELEMENT_WG));
  const params = fixedParams(plan, grads);
  if (dmPrev) elementKernel(gpu, CONNECTION_KERNELS.fixedBackward).run({ ...d, dx, dg, dm_prev: dmPrev }, params, grid);
  else elementKernel(gpu, CONNECTION_KERNELS.fixedBackwardFirst).run({ ...d, dx, dg }, params, grid);
}

/**
 * Adaptive form forward (eq. 18), one fused dispatch: per row the norms ||g - gPrev||, ||gPrev||,
 * beta~ = proj_[0, 1-delta]((1 - sqrt(ratio))^2), then m = beta~ mPrev + g and out = x + gamma~ m.
 * Writes beta [R] (for metrics) and norms [R, 2] (kept for the backward).
 */
export function encodeAdaptiveForward(
  gpu: Gpu,
  plan: AdaptivePlan,
  t: { x: Tensor; g: Tensor; gPrev: Tensor; mPrev: Tensor; out: Tensor; m: Tensor; beta: Tensor; norms: Tensor },
): void {
  gpu
    .kernel({ ...CONNECTION_KERNELS.adaptiveForward, constants: { TX: plan.tx, TY: plan.ty } })
    .run(
      { x: t.x, g: t.g, g_prev: t.gPrev, m_prev: t.mPrev, out: t.out, m: t.m, beta: t.beta, norms: t.norms },
      adaptiveParams(plan, null),
      gpu.grid(Math.ceil(plan.rows / plan.ty)),
    );
}

/**
 * Adaptive form backward, two dispatches: a row pass (dx = dOut; d beta~ = sum_c dm mPrev, a
 * deterministic tree per row, turned into per-row coefficients) and an elementwise pass (dg, dgPrev,
 * dmPrev). One of the gradients at least is given.
 */
export function encodeAdaptiveBackward(
  gpu: Gpu,
  plan: AdaptivePlan,
  saved: AdaptiveSaved,
  grads: AdaptiveGrads,
  result: { dx: Tensor; dg: Tensor; dgPrev: Tensor; dmPrev: Tensor },
): void {
  const { g, gPrev, mPrev, norms } = saved;
  const { dOut, dM, dBeta } = grads;
  const present = (dOut ?? dM ?? dBeta)!;
  const params = adaptiveParams(plan, grads);
  // Missing gradients are never read (flags 0); a present one fills their bindings.
  const d_out = dOut ?? present;
  const d_m = dM ?? present;
  const coef = empty(gpu, [plan.rows, COEF], 'momentum_connection.coef'); // [R, 3]
  gpu
    .kernel({ ...CONNECTION_KERNELS.adaptiveBackwardRows, constants: { TX: plan.tx, TY: plan.ty } })
    .run(
      { d_out, d_m, d_beta: dBeta ?? present, m_prev: mPrev, saved_norms: norms, coef, dx: result.dx },
      params,
      gpu.grid(Math.ceil(plan.rows / plan.ty)),
    );
  gpu
    .kernel({ ...CONNECTION_KERNELS.adaptiveBackwardElems, constants: { WE: ELEMENT_WG } })
    .run(
      { d_out, d_m, g, g_prev: gPrev, coef_in: coef, dg: result.dg, dg_prev: result.dgPrev, dm_prev: result.dmPrev },
      params,
      gpu.grid(Math.ceil(g.size / ELEMENT_WG)),
    );
  // Safe to pool now: whoever gets this buffer next records (or writes) after these dispatches.
  coef.dispose();
}
