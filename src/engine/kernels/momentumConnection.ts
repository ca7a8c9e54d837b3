// GPU primitives of the momentum connection across layers (MATH.md sections 5 and 6). Plain
// functions that validate, then record dispatches; the tape lives in ops/momentumConnection.ts and
// the loop reference in cpu/momentumConnection.ts. Shapes: every [R, C] tensor may carry any
// leading dims (e.g. [B, N, C]): R is their product, C the last dim.
import src from '../../../shaders/momentum_connection.wgsl?raw';
import {
  ADAPTIVE_NORM_EPS,
  checkAdaptiveOptions,
  checkFixedOptions,
  type AdaptiveConnectionOptions,
  type FixedConnectionOptions,
} from '../host/momentumConnection.ts';
import type { Gpu } from '../gpu.ts';
import { CONNECTION_ROWS, checkVariant, variantOf, type Variant } from '../variants.ts';
import { empty, type Tensor } from '../tensor.ts';

const LABEL = 'momentum_connection';
/** Threads per workgroup of the elementwise kernels. */
const ELEMENT_WG = 256;
/** Per-row coefficients (beta~, ca, cp) the backward's row pass leaves for its elementwise pass. */
const COEF = 3;

/** Row layouts of the adaptive form's reductions (src/engine/variants.ts). */
export const ROW_LAYOUTS = CONNECTION_ROWS;
export type RowVariant = Variant;

export interface AdaptiveKernelOptions extends AdaptiveConnectionOptions {
  /** Forces a row layout (tests run both); default: the one for `gpu.backend`. */
  variant?: RowVariant;
}

function describe(t: Tensor): string {
  return `${t.label} [${t.shape.join(', ')}]`;
}

function sameShape(where: string, ref: Tensor, named: Record<string, Tensor | null | undefined>): void {
  for (const [name, t] of Object.entries(named)) {
    if (!t) continue;
    if (t.dtype !== 'f32') throw new Error(`${where}: ${name} (${t.label}) must be f32, is ${t.dtype}`);
    if (t.shape.length !== ref.shape.length || t.shape.some((s, i) => s !== ref.shape[i])) {
      throw new Error(`${where}: ${name} is ${describe(t)}, expected the shape [${ref.shape.join(', ')}] of ${ref.label}`);
    }
  }
}

/** [R, C] split of a tensor of rank >= 2; throws on rank < 2. */
export function rowsCols(t: Tensor, where: string): { rows: number; cols: number } {
  if (t.shape.length < 2) throw new Error(`${where}: ${describe(t)} needs rank >= 2 (rows of C features)`);
  const cols = t.shape[t.shape.length - 1]!;
  return { rows: t.shape.slice(0, -1).reduce((a, b) => a * b, 1), cols };
}

function sizeIs(where: string, name: string, t: Tensor | null, n: number): void {
  if (t && t.size !== n) throw new Error(`${where}: ${name} is ${describe(t)} (${t.size} values), expected ${n}`);
  if (t && t.dtype !== 'f32') throw new Error(`${where}: ${name} (${t.label}) must be f32, is ${t.dtype}`);
}

/** Validates the fixed form's inputs and options (ops call it before allocating anything). */
export function checkFixedInputs(
  where: string,
  x: Tensor,
  g: Tensor,
  mPrev: Tensor | null,
  opts: FixedConnectionOptions,
): void {
  checkFixedOptions(opts, where);
  sameShape(where, x, { x, g, mPrev });
}

/** Validates the adaptive form's inputs and options; returns the [R, C] split and delta. */
export function checkAdaptiveInputs(
  where: string,
  x: Tensor,
  g: Tensor,
  gPrev: Tensor,
  mPrev: Tensor,
  opts: AdaptiveKernelOptions,
): { rows: number; cols: number; delta: number } {
  const delta = checkAdaptiveOptions(opts, where);
  checkVariant(where, opts.variant);
  sameShape(where, x, { x, g, gPrev, mPrev });
  return { ...rowsCols(x, where), delta };
}

function fixedKernel(gpu: Gpu, entry: string) {
  return gpu.kernel({ label: LABEL, code: src, entry, constants: { WG: ELEMENT_WG } });
}

function rowKernel(gpu: Gpu, entry: string, variant: RowVariant | undefined) {
  const { tx, ty } = CONNECTION_ROWS[variantOf(LABEL, gpu, variant)];
  return { kernel: gpu.kernel({ label: LABEL, code: src, entry, constants: { TX: tx, TY: ty } }), ty };
}

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
  checkFixedInputs(where, x, g, mPrev, opts);
  sameShape(where, x, { out, m });
  const params = { n: x.size, beta: opts.betaTilde, gamma: opts.gammaTilde, has_dout: 0, has_dm: 0 };
  const grid = gpu.grid(Math.ceil(x.size / ELEMENT_WG));
  if (mPrev) fixedKernel(gpu, 'fixed_forward').run({ x, g, m_prev: mPrev, out, m }, params, grid);
  else fixedKernel(gpu, 'fixed_forward_first').run({ x, g, out, m }, params, grid);
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
  checkFixedOptions(opts, where);
  const ref = dOut ?? dM;
  if (!ref) throw new Error(`${where}: needs the gradient of out or of m`);
  sameShape(where, ref, { dOut, dM, dx, dg, dmPrev });
  const params = {
    n: ref.size,
    beta: opts.betaTilde,
    gamma: opts.gammaTilde,
    has_dout: dOut ? 1 : 0,
    has_dm: dM ? 1 : 0,
  };
  // A missing gradient is never read (its flag is 0); a present one stands in for its binding.
  const grads = { d_out: dOut ?? ref, d_m: dM ?? ref };
  const grid = gpu.grid(Math.ceil(ref.size / ELEMENT_WG));
  if (dmPrev) fixedKernel(gpu, 'fixed_backward').run({ ...grads, dx, dg, dm_prev: dmPrev }, params, grid);
  else fixedKernel(gpu, 'fixed_backward_first').run({ ...grads, dx, dg }, params, grid);
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
  const { rows, cols, delta } = checkAdaptiveInputs(where, x, g, gPrev, mPrev, opts);
  sameShape(where, x, { out, m });
  sizeIs(where, 'beta', beta, rows);
  sizeIs(where, 'norms', norms, 2 * rows);
  const { kernel, ty } = rowKernel(gpu, 'adaptive_forward', opts.variant);
  kernel.run(
    { x, g, g_prev: gPrev, m_prev: mPrev, out, m, beta, norms },
    adaptiveParams(rows, cols, opts.gammaTilde, delta, null),
    gpu.grid(Math.ceil(rows / ty)),
  );
}

export interface AdaptiveSaved {
  g: Tensor;
  gPrev: Tensor;
  mPrev: Tensor;
  /** The forward's norms output [R, 2]. */
  norms: Tensor;
}

export interface AdaptiveGrads {
  dOut: Tensor | null;
  dM: Tensor | null;
  /** Gradient of the beta~ output [R] (usually null: beta~ is read as a metric). */
  dBeta: Tensor | null;
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
  const delta = checkAdaptiveOptions(opts, where);
  const { g, gPrev, mPrev, norms } = saved;
  const { dOut, dM, dBeta } = grads;
  const present = dOut ?? dM ?? dBeta;
  if (!present) throw new Error(`${where}: needs the gradient of out, m or beta`);
  sameShape(where, g, { gPrev, mPrev, dOut, dM, ...result });
  const { rows, cols } = rowsCols(g, where);
  sizeIs(where, 'norms', norms, 2 * rows);
  sizeIs(where, 'dBeta', dBeta, rows);
  const params = adaptiveParams(rows, cols, opts.gammaTilde, delta, grads);
  // Missing gradients are never read (flags 0); a present one fills their bindings.
  const d_out = dOut ?? present;
  const d_m = dM ?? present;
  const coef = empty(gpu, [rows, COEF], 'momentum_connection.coef'); // [R, 3]
  const { kernel, ty } = rowKernel(gpu, 'adaptive_backward_rows', opts.variant);
  kernel.run(
    { d_out, d_m, d_beta: dBeta ?? present, m_prev: mPrev, saved_norms: norms, coef, dx: result.dx },
    params,
    gpu.grid(Math.ceil(rows / ty)),
  );
  gpu
    .kernel({ label: LABEL, code: src, entry: 'adaptive_backward_elems', constants: { WE: ELEMENT_WG } })
    .run(
      { d_out, d_m, g, g_prev: gPrev, coef_in: coef, dg: result.dg, dg_prev: result.dgPrev, dm_prev: result.dmPrev },
      params,
      gpu.grid(Math.ceil(g.size / ELEMENT_WG)),
    );
  // Safe to pool now: whoever gets this buffer next records (or writes) after these dispatches.
  coef.dispose();
}

function adaptiveParams(rows: number, cols: number, gamma: number, delta: number, grads: AdaptiveGrads | null) {
  return {
    rows,
    cols,
    gamma,
    delta,
    eps: ADAPTIVE_NORM_EPS,
    has_dout: grads?.dOut ? 1 : 0,
    has_dm: grads?.dM ? 1 : 0,
    has_dbeta: grads?.dBeta ? 1 : 0,
  };
}
