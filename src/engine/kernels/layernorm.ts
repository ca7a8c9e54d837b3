// GPU primitives of shaders/layernorm.wgsl: LayerNorm over the last dimension, forward (saving
// mean and rstd) and backward (dx, dgain, dbias). Plain functions that validate and record.
import src from '../../../shaders/layernorm.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkDistinctTensors, checkEps, checkFloat, checkSameShape } from '../check.ts';
import { columnChunks } from './elementwise.ts';
import { LAYER_NORM, checkVariant, variantOf, type Variant } from '../variants.ts';

/**
 * How a row is spread over invocations: 'gpu' (a workgroup per row: coalesced loads and a tree
 * reduction) or 'swiftshader' (a thread per row, no barriers). Default by backend.
 */
export type LayerNormVariant = Variant;

export interface LayerNormOptions {
  variant?: LayerNormVariant;
  /** Rows per chunk in the first stage of the dgain/dbias column sums (tests force 1 or many chunks). */
  rowsPerChunk?: number;
}

/** Workgroup sizes a row may get: powers of two for the tree reduction. */
const MIN_ROW_WG = 32;
const MAX_ROW_WG = 256;
/** Rows per workgroup of the thread-per-row variant. */
const THREAD_ROW_WG = 64;
/** Workgroup width of the column-sum kernels. */
const COL_WG = 64;

/** The WGSL's prelude for rows read four values a load (C a multiple of 4) or one. */
const PRELUDE = {
  4: 'alias V = vec4f;\nconst LANES = 4u;\nfn hsum(v: V) -> f32 { return (v.x + v.y) + (v.z + v.w); }',
  1: 'alias V = f32;\nconst LANES = 1u;\nfn hsum(v: V) -> f32 { return v; }',
} as const;

function kernel(gpu: Gpu, entry: string, wg: number, lanes: 1 | 4) {
  const code = `${PRELUDE[lanes]}\n${src}`;
  return gpu.kernel({ label: lanes === 4 ? 'layernorm.vec4' : 'layernorm', code, entry, constants: { WG: wg } });
}

/** The smallest power of two >= cols, within [MIN_ROW_WG, MAX_ROW_WG]: a short row wastes fewer lanes. */
export function rowWorkgroupSize(cols: number): number {
  let wg = MIN_ROW_WG;
  while (wg < cols && wg < MAX_ROW_WG) wg *= 2;
  return wg;
}

/** Throws on an unknown variant or a bad chunk size. */
export function checkLayerNormOptions(op: string, opts: LayerNormOptions): void {
  checkVariant(op, opts.variant);
  const rpc = opts.rowsPerChunk;
  if (rpc !== undefined && !(Number.isInteger(rpc) && rpc >= 1)) {
    throw new Error(`${op}: rowsPerChunk must be a positive integer, got ${rpc}`);
  }
}

/** What the encoders need, resolved once by the op (or the primitive) after its checks. */
export interface LayerNormPlan {
  rows: number;
  cols: number;
  /** Values per load: 4 where C is a multiple of 4 (the WGSL's V is vec4f), else 1. */
  lanes: 1 | 4;
  variant: LayerNormVariant;
  /** Rows per workgroup or per row, and the grid, of the row kernels. */
  wg: number;
  grid: [number, number];
}

/** Checks x, gain (and bias) and the options; resolves the variant and the row grid. */
export function planLayerNorm(op: string, gpu: Gpu, x: Tensor, gain: Tensor, bias: Tensor | undefined, opts: LayerNormOptions): LayerNormPlan {
  const { rows, cols } = checkLayerNorm(op, x, gain, bias);
  checkLayerNormOptions(op, opts);
  const variant = variantOf(op, gpu, opts.variant);
  const lanes = cols % 4 === 0 ? 4 : 1;
  return { rows, cols, lanes, variant, ...rowGrid(gpu, rows, variant, cols / lanes) };
}

/** R and C of x [..., C] normalized over C with gain (and bias) [C]; throws on any mismatch. */
export function checkLayerNorm(op: string, x: Tensor, gain: Tensor, bias?: Tensor): { rows: number; cols: number } {
  checkFloat(op, x, gain, ...(bias ? [bias] : []));
  const C = x.shape[x.shape.length - 1];
  if (C === undefined || C === 0) throw new Error(`${op}: ${x.label} [${x.shape.join(', ')}] needs a non-empty last dimension`);
  for (const t of bias ? [gain, bias] : [gain]) {
    if (t.shape.length !== 1 || t.shape[0] !== C) {
      throw new Error(`${op}: ${t.label} has shape [${t.shape.join(', ')}], expected [${C}] (the last dimension of ${x.label})`);
    }
  }
  return { rows: x.size / C, cols: C };
}

function checkRowStats(op: string, rows: number, ...ts: Tensor[]): void {
  checkFloat(op, ...ts);
  for (const t of ts) {
    if (t.size !== rows) throw new Error(`${op}: ${t.label} has ${t.size} values, expected one per row (${rows})`);
  }
}

/** `loads`: a row's length in loads (C / lanes). */
function rowGrid(gpu: Gpu, rows: number, variant: LayerNormVariant, loads: number): { wg: number; grid: [number, number] } {
  if (LAYER_NORM[variant].workgroupPerRow) return { wg: rowWorkgroupSize(loads), grid: gpu.grid(rows) };
  return { wg: THREAD_ROW_WG, grid: gpu.grid(Math.ceil(rows / THREAD_ROW_WG)) };
}

/** y = (x - mean) * rstd * gain + bias over the last dimension; writes mean and rstd [R]. */
export function layerNormForward(
  gpu: Gpu,
  x: Tensor,
  gain: Tensor,
  bias: Tensor,
  y: Tensor,
  mean: Tensor,
  rstd: Tensor,
  eps = 1e-5,
  opts: LayerNormOptions = {},
): void {
  const op = 'layerNormForward';
  const plan = planLayerNorm(op, gpu, x, gain, bias, opts);
  checkEps(op, eps);
  checkFloat(op, y);
  checkSameShape(op, x, y);
  checkRowStats(op, plan.rows, mean, rstd);
  checkDistinctTensors(op, [y, mean, rstd], [x, gain, bias]);
  encodeLayerNormForward(gpu, plan, { x, gain, bias, y, mean, rstd }, eps);
}

/** Records the forward of a checked plan (ops call it after their own checks). */
export function encodeLayerNormForward(
  gpu: Gpu,
  plan: LayerNormPlan,
  t: { x: Tensor; gain: Tensor; bias: Tensor; y: Tensor; mean: Tensor; rstd: Tensor },
  eps: number,
): void {
  const params = { rows: plan.rows, cols: plan.cols / plan.lanes, eps, rows_per_chunk: 1, chunks: 1 };
  kernel(gpu, LAYER_NORM[plan.variant].forward, plan.wg, plan.lanes).run(t, params, plan.grid);
}

/**
 * dx (when given), dgain and dbias (when given) from dy and the forward's mean and rstd. The
 * parameter gradients are column sums over rows in two fixed-order stages (deterministic).
 */
export function layerNormBackward(
  gpu: Gpu,
  x: Tensor,
  gain: Tensor,
  mean: Tensor,
  rstd: Tensor,
  dy: Tensor,
  dx: Tensor | null,
  dgain: Tensor | null,
  dbias: Tensor | null,
  opts: LayerNormOptions = {},
): void {
  const op = 'layerNormBackward';
  const plan = planLayerNorm(op, gpu, x, gain, undefined, opts);
  const { rows } = plan;
  checkRowStats(op, rows, mean, rstd);
  checkSameShape(op, x, dy);
  if (dx) checkSameShape(op, x, dx);
  if ((dgain === null) !== (dbias === null)) throw new Error(`${op}: give both dgain and dbias, or neither`);
  if (dgain) checkSameShape(op, gain, dgain, dbias!);
  const outs = [dx, dgain, dbias].filter((t): t is Tensor => t !== null);
  checkFloat(op, dy, ...outs);
  checkDistinctTensors(op, outs, [x, gain, mean, rstd, dy]);
  encodeLayerNormBackward(gpu, plan, { x, gain, mean, rstd, dy, dx, dgain, dbias }, opts.rowsPerChunk);
}

/** Records the backward of a checked plan: dx when given, dgain and dbias when given. */
export function encodeLayerNormBackward(
  gpu: Gpu,
  plan: LayerNormPlan,
  t: { x: Tensor; gain: Tensor; mean: Tensor; rstd: Tensor; dy: Tensor; dx: Tensor | null; dgain: Tensor | null; dbias: Tensor | null },
  rowsPerChunkOpt?: number,
): void {
  const { x, gain, mean, rstd, dy, dx, dgain, dbias } = t;
  const { rows, cols, lanes } = plan;
  const { rowsPerChunk, chunks } = columnChunks(gpu, rows, rowsPerChunkOpt);
  const params = { rows, cols: cols / lanes, eps: 0, rows_per_chunk: rowsPerChunk, chunks };
  if (dx) {
    kernel(gpu, LAYER_NORM[plan.variant].backwardDx, plan.wg, lanes).run({ x, gain, saved_mean: mean, saved_rstd: rstd, dy, dx }, params, plan.grid);
  }
  if (dgain && dbias) {
    const partialGain = empty(gpu, [chunks, cols], 'layerNorm.partialGain'); // [K, C]
    const partialBias = empty(gpu, [chunks, cols], 'layerNorm.partialBias'); // [K, C]
    const colGroups = Math.ceil(cols / lanes / COL_WG);
    kernel(gpu, 'backward_params_partial', COL_WG, lanes).run(
      { x, saved_mean: mean, saved_rstd: rstd, dy, partial_gain: partialGain, partial_bias: partialBias },
      params,
      [colGroups, chunks],
    );
    kernel(gpu, 'backward_params_reduce', COL_WG, lanes).run(
      { partial_gain: partialGain, partial_bias: partialBias, dgain, dbias },
      params,
      [colGroups],
    );
    // Released now, reused only by work recorded later, which runs after these dispatches.
    partialGain.dispose();
    partialBias.dispose();
  }
}
