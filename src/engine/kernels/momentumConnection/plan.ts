// The plans of the momentum connection across layers (MATH.md sections 5 and 6): the inputs and
// options checked and resolved once, before anything is allocated (the ops and the checked
// primitives call these); encode.ts only reads the plans. Every [R, C] tensor may carry any
// leading dims (e.g. [B, N, C]): R is their product, C the last dim.
import {
  checkAdaptiveOptions,
  checkFixedOptions,
  type AdaptiveConnectionOptions,
  type FixedConnectionOptions,
} from '../../host/momentumConnection.ts';
import type { Gpu } from '../../gpu.ts';
import type { Tensor } from '../../tensor.ts';
import { CONNECTION_ROWS, checkVariant, variantOf, type Variant } from '../../variants.ts';

export type RowVariant = Variant;

export interface AdaptiveKernelOptions extends AdaptiveConnectionOptions {
  /** Forces a row layout (tests run both); default: the one for `gpu.backend`. */
  variant?: RowVariant;
}

/** The fixed form over n = R * C values. */
export interface FixedPlan {
  n: number;
  betaTilde: number;
  gammaTilde: number;
}

/** The adaptive form over R rows of C features, its row layout resolved. */
export interface AdaptivePlan {
  rows: number;
  cols: number;
  gammaTilde: number;
  delta: number;
  /** Threads per row and rows per workgroup of the row reductions (CONNECTION_ROWS). */
  tx: number;
  ty: number;
}

function describe(t: Tensor): string {
  return `${t.label} [${t.shape.join(', ')}]`;
}

/** Throws unless every named tensor (nulls skipped) is f32 of ref's shape. */
export function checkSameShape(where: string, ref: Tensor, named: Record<string, Tensor | null | undefined>): void {
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

/** Throws unless a given tensor holds n f32 values. */
export function checkSize(where: string, name: string, t: Tensor | null, n: number): void {
  if (t && t.size !== n) throw new Error(`${where}: ${name} is ${describe(t)} (${t.size} values), expected ${n}`);
  if (t && t.dtype !== 'f32') throw new Error(`${where}: ${name} (${t.label}) must be f32, is ${t.dtype}`);
}

/** Checks the fixed form's options (ref: any tensor of the call, for its size). */
export function planFixed(where: string, ref: Tensor, opts: FixedConnectionOptions): FixedPlan {
  checkFixedOptions(opts, where);
  return { n: ref.size, betaTilde: opts.betaTilde, gammaTilde: opts.gammaTilde };
}

/** Checks the fixed form's inputs and options; returns its plan. */
export function planFixedInputs(where: string, x: Tensor, g: Tensor, mPrev: Tensor | null, opts: FixedConnectionOptions): FixedPlan {
  const plan = planFixed(where, x, opts);
  checkSameShape(where, x, { x, g, mPrev });
  return plan;
}

/** Checks the adaptive form's options and [R, C] split (of ref); returns its plan. */
export function planAdaptive(gpu: Gpu, where: string, ref: Tensor, opts: AdaptiveKernelOptions): AdaptivePlan {
  const delta = checkAdaptiveOptions(opts, where);
  checkVariant(where, opts.variant);
  const { rows, cols } = rowsCols(ref, where);
  const { tx, ty } = CONNECTION_ROWS[variantOf(where, gpu, opts.variant)];
  return { rows, cols, gammaTilde: opts.gammaTilde, delta, tx, ty };
}

/** Checks the adaptive form's inputs and options; returns its plan. */
export function planAdaptiveInputs(
  gpu: Gpu,
  where: string,
  x: Tensor,
  g: Tensor,
  gPrev: Tensor,
  mPrev: Tensor,
  opts: AdaptiveKernelOptions,
): AdaptivePlan {
  const plan = planAdaptive(gpu, where, x, opts);
  checkSameShape(where, x, { x, g, gPrev, mPrev });
  return plan;
}
