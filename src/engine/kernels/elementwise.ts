// GPU primitives of shaders/elementwise/. The `encode*` functions only record dispatches from
// validated tensors (ops/elementwise.ts checks once and calls them); the checked primitives
// (geluForward, ...) are for direct callers (tests): they validate, then call the same encoders.
// Outputs are passed in; none may share a buffer with an input.
import addBackwardWgsl from '../../../shaders/elementwise/add_backward.wgsl?raw';
import addBroadcastBackwardPartialWgsl from '../../../shaders/elementwise/add_broadcast_backward_partial.wgsl?raw';
import addBroadcastBackwardReduceWgsl from '../../../shaders/elementwise/add_broadcast_backward_reduce.wgsl?raw';
import addBroadcastForwardWgsl from '../../../shaders/elementwise/add_broadcast_forward.wgsl?raw';
import addForwardWgsl from '../../../shaders/elementwise/add_forward.wgsl?raw';
import broadcast from '../../../shaders/elementwise/broadcast.wgsl?raw';
import dropoutWgsl from '../../../shaders/elementwise/dropout.wgsl?raw';
import gelu from '../../../shaders/elementwise/gelu.wgsl?raw';
import geluBackwardWgsl from '../../../shaders/elementwise/gelu_backward.wgsl?raw';
import geluForwardWgsl from '../../../shaders/elementwise/gelu_forward.wgsl?raw';
import map from '../../../shaders/elementwise/map.wgsl?raw';
import params from '../../../shaders/elementwise/params.wgsl?raw';
import reluBackwardWgsl from '../../../shaders/elementwise/relu_backward.wgsl?raw';
import reluForwardWgsl from '../../../shaders/elementwise/relu_forward.wgsl?raw';
import scaleForwardWgsl from '../../../shaders/elementwise/scale_forward.wgsl?raw';
import { checkBroadcast, checkDistinctTensors, checkDropout, checkFinite, checkFloat, checkSameShape } from '../check.ts';
import type { Gpu } from '../gpu.ts';
import type { Kernel } from '../kernel.ts';
import { empty, type Tensor } from '../tensor.ts';
import { dropoutKey, dropoutScale, PHILOX_LANES } from '../host/dropout.ts';

/** Invocations per workgroup of the one-element-per-invocation kernels. */
const EW_WG = 256;
/** Workgroup width of the column-sum kernels: columns are often few (a bias of C values). */
const COL_WG = 64;
/** Rows one invocation sums in the column sum's first stage (enough work per invocation, and a
 * second stage short enough to stay cheap). */
const ROWS_PER_CHUNK = 32;

/** Each entry point's WGSL: params.wgsl, its group's uniform, what it shares, its own file. */
const SOURCES = {
  gelu_forward: [map, gelu, geluForwardWgsl],
  gelu_backward: [map, gelu, geluBackwardWgsl],
  relu_forward: [map, reluForwardWgsl],
  relu_backward: [map, reluBackwardWgsl],
  add_forward: [map, addForwardWgsl],
  add_backward: [map, addBackwardWgsl],
  scale_forward: [map, scaleForwardWgsl],
  add_broadcast_forward: [broadcast, addBroadcastForwardWgsl],
  add_broadcast_backward_partial: [broadcast, addBroadcastBackwardPartialWgsl],
  add_broadcast_backward_reduce: [broadcast, addBroadcastBackwardReduceWgsl],
  dropout: [dropoutWgsl],
} as const;

type Entry = keyof typeof SOURCES;

function kernel(gpu: Gpu, entry: Entry, wg = EW_WG, vec4 = false): Kernel {
  const alias = SOURCES[entry][0] === map ? [`alias V = ${vec4 ? 'vec4f' : 'f32'};`] : [];
  const code = [params, ...alias, ...SOURCES[entry]].join('\n');
  return gpu.kernel({ label: `elementwise/${entry}${vec4 ? '.vec4' : ''}`, code, entry, constants: { WG: wg } });
}

/** The checks of a same-shape primitive called directly: floats, one shape, outputs distinct. */
function checkSame(op: string, ins: Tensor[], outs: Tensor[]): void {
  checkFloat(op, ...ins, ...outs);
  checkSameShape(op, ...ins, ...outs);
  checkDistinctTensors(op, outs, ins);
}

/**
 * One dispatch of a same-shape entry point over the tensors' size; no checks. Sizes that are a
 * multiple of 4 go four values per invocation (map.wgsl).
 */
function encode(gpu: Gpu, entry: Entry, bindings: Record<string, Tensor>, s = 0): void {
  const size = Object.values(bindings)[0]!.size;
  const v4 = size % 4 === 0;
  const n = v4 ? size / 4 : size;
  kernel(gpu, entry, EW_WG, v4).run(bindings, { n, s }, gpu.grid(Math.ceil(n / EW_WG)));
}

export const encodeGeluForward = (gpu: Gpu, x: Tensor, y: Tensor): void => encode(gpu, 'gelu_forward', { x, y });
export const encodeGeluBackward = (gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor): void => encode(gpu, 'gelu_backward', { x, dy, dx });
export const encodeReluForward = (gpu: Gpu, x: Tensor, y: Tensor): void => encode(gpu, 'relu_forward', { x, y });
export const encodeReluBackward = (gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor): void => encode(gpu, 'relu_backward', { x, dy, dx });
export const encodeAddForward = (gpu: Gpu, a: Tensor, b: Tensor, y: Tensor): void => encode(gpu, 'add_forward', { x: a, b, y });
export const encodeAddBackward = (gpu: Gpu, dy: Tensor, da: Tensor, db: Tensor): void => encode(gpu, 'add_backward', { dy, dx: da, db });
export const encodeScaleForward = (gpu: Gpu, x: Tensor, s: number, y: Tensor): void => encode(gpu, 'scale_forward', { x, y }, s);
// The transpose of a scaling is the same scaling.
export const encodeScaleBackward = (gpu: Gpu, dy: Tensor, s: number, dx: Tensor): void => encode(gpu, 'scale_forward', { x: dy, y: dx }, s);

/** y = gelu(x), tanh approximation (GPT-2). */
export function geluForward(gpu: Gpu, x: Tensor, y: Tensor): void {
  checkSame('geluForward', [x], [y]);
  encodeGeluForward(gpu, x, y);
}

/** dx = dy * gelu'(x). */
export function geluBackward(gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor): void {
  checkSame('geluBackward', [x, dy], [dx]);
  encodeGeluBackward(gpu, x, dy, dx);
}

export function reluForward(gpu: Gpu, x: Tensor, y: Tensor): void {
  checkSame('reluForward', [x], [y]);
  encodeReluForward(gpu, x, y);
}

/** dx = dy where x > 0, else 0. */
export function reluBackward(gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor): void {
  checkSame('reluBackward', [x, dy], [dx]);
  encodeReluBackward(gpu, x, dy, dx);
}

/** y = a + b (same shapes). */
export function addForward(gpu: Gpu, a: Tensor, b: Tensor, y: Tensor): void {
  checkSame('addForward', [a, b], [y]);
  encodeAddForward(gpu, a, b, y);
}

/** da = db = dy, written to two buffers in one dispatch. */
export function addBackward(gpu: Gpu, dy: Tensor, da: Tensor, db: Tensor): void {
  checkSame('addBackward', [dy], [da, db]);
  encodeAddBackward(gpu, dy, da, db);
}

/** y = s * x. */
export function scaleForward(gpu: Gpu, x: Tensor, s: number, y: Tensor): void {
  checkFinite('scaleForward', 's', s);
  checkSame('scaleForward', [x], [y]);
  encodeScaleForward(gpu, x, s, y);
}

/** dx = s * dy. */
export function scaleBackward(gpu: Gpu, dy: Tensor, s: number, dx: Tensor): void {
  checkFinite('scaleBackward', 's', s);
  checkSame('scaleBackward', [dy], [dx]);
  encodeScaleBackward(gpu, dy, s, dx);
}

/**
 * Row chunking of a two-stage column sum over R rows. Chunks are dispatched along y, so there are
 * at most the device's workgroups per dimension; a larger R gets longer chunks.
 */
export function columnChunks(gpu: Gpu, rows: number, rowsPerChunk?: number): { rowsPerChunk: number; chunks: number } {
  let rpc = rowsPerChunk ?? ROWS_PER_CHUNK;
  if (!Number.isInteger(rpc) || rpc < 1) throw new Error(`rowsPerChunk must be a positive integer, got ${rpc}`);
  rpc = Math.max(rpc, Math.ceil(rows / gpu.limits.maxComputeWorkgroupsPerDimension));
  return { rowsPerChunk: rpc, chunks: Math.max(1, Math.ceil(rows / rpc)) };
}

/** y[r, c] = x[r, c] + row[c] for x [..., C], row [C]. */
export function addBroadcastForward(gpu: Gpu, x: Tensor, row: Tensor, y: Tensor): void {
  const op = 'addBroadcastForward';
  const { rows, cols } = checkBroadcast(op, x, row);
  checkFloat(op, y);
  checkSameShape(op, x, y);
  checkDistinctTensors(op, [y], [x, row]);
  encodeAddBroadcastForward(gpu, { rows, cols }, x, row, y);
}

/** Rows and columns of a broadcast x [R, C] + row [C]. */
export type BroadcastPlan = { rows: number; cols: number };

export function encodeAddBroadcastForward(gpu: Gpu, plan: BroadcastPlan, x: Tensor, row: Tensor, y: Tensor): void {
  const params = { rows: plan.rows, cols: plan.cols, rows_per_chunk: 1, chunks: 1 };
  kernel(gpu, 'add_broadcast_forward').run({ x, b: row, y }, params, gpu.grid(Math.ceil(y.size / EW_WG)));
}

/**
 * dx = dy and drow[c] = sum over rows of dy[r, c], deterministic (two stages, fixed order).
 * `rowsPerChunk` sets the first stage's chunk (tests force one chunk or many).
 */
export function addBroadcastBackward(
  gpu: Gpu,
  dy: Tensor,
  dx: Tensor,
  drow: Tensor,
  opts: { rowsPerChunk?: number } = {},
): void {
  const op = 'addBroadcastBackward';
  const { rows, cols } = checkBroadcast(op, dy, drow);
  checkFloat(op, dx);
  checkSameShape(op, dy, dx);
  checkDistinctTensors(op, [dx, drow], [dy]);
  encodeAddBroadcastBackward(gpu, { rows, cols, ...columnChunks(gpu, rows, opts.rowsPerChunk) }, dy, dx, drow);
}

/** The column sum's plan: the broadcast shape and its row chunking (columnChunks). */
export function encodeAddBroadcastBackward(
  gpu: Gpu,
  plan: BroadcastPlan & { rowsPerChunk: number; chunks: number },
  dy: Tensor,
  dx: Tensor,
  drow: Tensor,
): void {
  const { rows, cols, rowsPerChunk, chunks } = plan;
  const partial = empty(gpu, [chunks, cols], 'addBroadcast.partial'); // [K, C]
  const params = { rows, cols, rows_per_chunk: rowsPerChunk, chunks };
  const colGroups = Math.ceil(cols / COL_WG);
  kernel(gpu, 'add_broadcast_backward_partial', COL_WG).run({ dy, dx, partial }, params, [colGroups, chunks]);
  kernel(gpu, 'add_broadcast_backward_reduce', COL_WG).run({ partial, db: drow }, params, [colGroups]);
  // Released now, reused only by work recorded later, which runs after these dispatches.
  partial.dispose();
}

function dropoutRun(op: string, gpu: Gpu, x: Tensor, y: Tensor, p: number, seed: number, offset: number): void {
  checkFloat(op, x, y);
  checkSameShape(op, x, y);
  checkDistinctTensors(op, [y], [x]);
  checkDropout(op, x.size, p, seed, offset);
  encodeDropout(gpu, x, y, p, seed, offset);
}

/** One dropout dispatch (forward, or backward with dy as x) from checked p, seed, offset. */
export function encodeDropout(gpu: Gpu, x: Tensor, y: Tensor, p: number, seed: number, offset: number): void {
  const k = dropoutKey(p, seed, offset);
  const params = {
    n: x.size,
    threshold: k.threshold,
    scale: dropoutScale(p, true),
    seed_lo: k.seedLo,
    seed_hi: k.seedHi,
    block_lo: k.blockLo,
    block_hi: k.blockHi,
    lane0: k.lane0,
  };
  const blocks = Math.ceil((k.lane0 + x.size) / PHILOX_LANES);
  kernel(gpu, 'dropout').run({ x, y }, params, gpu.grid(Math.ceil(blocks / EW_WG)));
}

/**
 * y = x * mask / (1 - p), the mask a pure function of (seed, offset + element index) through
 * Philox4x32-10 (see cpu/elementwise.ts dropoutMask). Give each dropout site its own offset range.
 */
export function dropoutForward(gpu: Gpu, x: Tensor, y: Tensor, p: number, seed: number, offset: number): void {
  dropoutRun('dropoutForward', gpu, x, y, p, seed, offset);
}

/** dx = dy * mask / (1 - p) with the forward's mask, recomputed from (seed, offset). */
export function dropoutBackward(gpu: Gpu, dy: Tensor, dx: Tensor, p: number, seed: number, offset: number): void {
  dropoutRun('dropoutBackward', gpu, dy, dx, p, seed, offset);
}
