// GPU primitives of shaders/layernorm.wgsl: LayerNorm over the last dimension, forward (saving
// mean and rstd) and backward (dx, dgain, dbias). Plain functions that validate and record.
import src from '../../../shaders/layernorm.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkDistinct, checkFloat, checkSameShape, columnChunks } from './elementwise.ts';

/**
 * How a row is spread over invocations: 'workgroup-per-row' (coalesced loads and a workgroup tree
 * reduction, for real GPUs) or 'thread-per-row' (no barriers, for SwiftShader). Default by backend.
 */
export type LayerNormVariant = 'workgroup-per-row' | 'thread-per-row';

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

function kernel(gpu: Gpu, entry: string, wg: number) {
  return gpu.kernel({ label: 'layernorm', code: src, entry, constants: { WG: wg } });
}

/** The smallest power of two >= cols, within [MIN_ROW_WG, MAX_ROW_WG]: a short row wastes fewer lanes. */
export function rowWorkgroupSize(cols: number): number {
  let wg = MIN_ROW_WG;
  while (wg < cols && wg < MAX_ROW_WG) wg *= 2;
  return wg;
}

/** Throws on an unknown variant or a bad chunk size. */
export function checkLayerNormOptions(op: string, opts: LayerNormOptions): void {
  const v = opts.variant;
  if (v !== undefined && v !== 'workgroup-per-row' && v !== 'thread-per-row') {
    throw new Error(`${op}: unknown variant '${String(v)}' (expected 'workgroup-per-row' or 'thread-per-row')`);
  }
  const rpc = opts.rowsPerChunk;
  if (rpc !== undefined && !(Number.isInteger(rpc) && rpc >= 1)) {
    throw new Error(`${op}: rowsPerChunk must be a positive integer, got ${rpc}`);
  }
}

function pickVariant(gpu: Gpu, v?: LayerNormVariant): LayerNormVariant {
  return v ?? (gpu.backend === 'gpu' ? 'workgroup-per-row' : 'thread-per-row');
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

function checkEps(op: string, eps: number): void {
  if (!(Number.isFinite(eps) && eps > 0)) throw new Error(`${op}: eps must be a positive number, got ${eps}`);
}

function checkRowStats(op: string, rows: number, ...ts: Tensor[]): void {
  checkFloat(op, ...ts);
  for (const t of ts) {
    if (t.size !== rows) throw new Error(`${op}: ${t.label} has ${t.size} values, expected one per row (${rows})`);
  }
}

function rowGrid(gpu: Gpu, rows: number, variant: LayerNormVariant, cols: number): { wg: number; grid: [number, number] } {
  if (variant === 'workgroup-per-row') return { wg: rowWorkgroupSize(cols), grid: gpu.grid(rows) };
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
  const { rows, cols } = checkLayerNorm(op, x, gain, bias);
  checkEps(op, eps);
  checkLayerNormOptions(op, opts);
  checkFloat(op, y);
  checkSameShape(op, x, y);
  checkRowStats(op, rows, mean, rstd);
  checkDistinct(op, [y, mean, rstd], [x, gain, bias]);
  const variant = pickVariant(gpu, opts.variant);
  const { wg, grid } = rowGrid(gpu, rows, variant, cols);
  const entry = variant === 'workgroup-per-row' ? 'forward_workgroup_per_row' : 'forward_thread_per_row';
  const params = { rows, cols, eps, rows_per_chunk: 1, chunks: 1 };
  kernel(gpu, entry, wg).run({ x, gain, bias, y, mean, rstd }, params, grid);
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
  const { rows, cols } = checkLayerNorm(op, x, gain);
  checkLayerNormOptions(op, opts);
  checkRowStats(op, rows, mean, rstd);
  checkSameShape(op, x, dy);
  if (dx) checkSameShape(op, x, dx);
  if ((dgain === null) !== (dbias === null)) throw new Error(`${op}: give both dgain and dbias, or neither`);
  if (dgain) checkSameShape(op, gain, dgain, dbias!);
  const outs = [dx, dgain, dbias].filter((t): t is Tensor => t !== null);
  checkFloat(op, dy, ...outs);
  checkDistinct(op, outs, [x, gain, mean, rstd, dy]);
  const variant = pickVariant(gpu, opts.variant);
  const { rowsPerChunk, chunks } = columnChunks(gpu, rows, opts.rowsPerChunk);
  const params = { rows, cols, eps: 0, rows_per_chunk: rowsPerChunk, chunks };
  if (dx) {
    const { wg, grid } = rowGrid(gpu, rows, variant, cols);
    const entry = variant === 'workgroup-per-row' ? 'backward_dx_workgroup_per_row' : 'backward_dx_thread_per_row';
    kernel(gpu, entry, wg).run({ x, gain, saved_mean: mean, saved_rstd: rstd, dy, dx }, params, grid);
  }
  if (dgain && dbias) {
    const partialGain = empty(gpu, [chunks, cols], 'layerNorm.partialGain'); // [K, C]
    const partialBias = empty(gpu, [chunks, cols], 'layerNorm.partialBias'); // [K, C]
    const colGroups = Math.ceil(cols / COL_WG);
    kernel(gpu, 'backward_params_partial', COL_WG).run(
      { x, saved_mean: mean, saved_rstd: rstd, dy, partial_gain: partialGain, partial_bias: partialBias },
      params,
      [colGroups, chunks],
    );
    kernel(gpu, 'backward_params_reduce', COL_WG).run(
      { partial_gain: partialGain, partial_bias: partialBias, dgain, dbias },
      params,
      [colGroups],
    );
    // Released now, reused only by work recorded later, which runs after these dispatches.
    partialGain.dispose();
    partialBias.dispose();
  }
}
