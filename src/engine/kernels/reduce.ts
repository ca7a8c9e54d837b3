// GPU primitives for deterministic reductions (shaders/reduce.wgsl): sum and sum of squares of one
// tensor, and the sum of squares (or L2 norm) of a list of tensors into one scalar. Two stages:
// per-workgroup partials, then one workgroup over the partials; a tensor that fits in one block
// takes the first stage only. No atomics, so the result is bit-identical from run to run.
import reduceWgsl from '../../../shaders/reduce.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import { REDUCE_TILES, variantOf, type ReduceTiles, type Variant } from '../variants.ts';
import { empty, fill, type Tensor } from '../tensor.ts';

export type ReduceVariant = Variant;
export { REDUCE_TILES, type ReduceTiles };

export interface ReduceOptions extends Partial<ReduceTiles> {
  /** Tile sizes tuned for this kind of device; defaults to `gpu.backend`. Tests force each. */
  variant?: ReduceVariant;
}

function tiles(gpu: Gpu, opts: ReduceOptions, what: string): ReduceTiles {
  const base = REDUCE_TILES[variantOf(what, gpu, opts.variant)];
  const t = { workgroupSize: opts.workgroupSize ?? base.workgroupSize, itemsPerThread: opts.itemsPerThread ?? base.itemsPerThread };
  const maxThreads = gpu.limits.maxComputeInvocationsPerWorkgroup;
  const wg = t.workgroupSize;
  if (!Number.isInteger(wg) || wg < 1 || wg > maxThreads || (wg & (wg - 1)) !== 0) {
    throw new Error(`${what}: workgroupSize must be a power of two in [1, ${maxThreads}], got ${wg}`);
  }
  if (!Number.isInteger(t.itemsPerThread) || t.itemsPerThread < 1) {
    throw new Error(`${what}: itemsPerThread must be a positive integer, got ${t.itemsPerThread}`);
  }
  return t;
}

function checkF32(what: string, role: string, t: Tensor): void {
  if (t.dtype !== 'f32') throw new Error(`${what}: ${role} '${t.label}' must be f32, it is ${t.dtype}`);
  if (t.isDisposed) throw new Error(`${what}: ${role} '${t.label}' has been disposed`);
}

function checkOut(what: string, out: Tensor, inputs: readonly Tensor[]): void {
  checkF32(what, 'out', out);
  if (out.size < 1) throw new Error(`${what}: out '${out.label}' must hold at least 1 value, it has ${out.size}`);
  for (const x of inputs) {
    if (x.buffer === out.buffer) throw new Error(`${what}: out '${out.label}' shares its buffer with input '${x.label}'`);
  }
}

function kernel(gpu: Gpu, entry: 'sumPartial' | 'sumSqPartial' | 'sumFinal', t: ReduceTiles) {
  return gpu.kernel({ label: 'reduce', code: reduceWgsl, entry, constants: { WG: t.workgroupSize, ITEMS: t.itemsPerThread } });
}

/** Partials stage one writes for a tensor of n elements (at least 1, so an empty tensor gives 0). */
export function blockCount(n: number, t: ReduceTiles): number {
  return Math.max(1, Math.ceil(n / (t.workgroupSize * t.itemsPerThread)));
}

/** Stage one for x into out[offset ...], one value per block. */
function partials(gpu: Gpu, x: Tensor, out: Tensor, offset: number, square: boolean, t: ReduceTiles): void {
  kernel(gpu, square ? 'sumSqPartial' : 'sumPartial', t).run(
    { x, out },
    { n: x.size, outOffset: offset, root: 0 },
    gpu.grid(blockCount(x.size, t)),
  );
}

function final(gpu: Gpu, parts: Tensor, count: number, out: Tensor, root: boolean, t: ReduceTiles): void {
  kernel(gpu, 'sumFinal', t).run({ x: parts, out }, { n: count, outOffset: 0, root: root ? 1 : 0 }, [1]);
}

function reduceOne(gpu: Gpu, x: Tensor, out: Tensor, square: boolean, opts: ReduceOptions, what: string): void {
  checkF32(what, 'x', x);
  checkOut(what, out, [x]);
  const t = tiles(gpu, opts, what);
  const blocks = blockCount(x.size, t);
  if (blocks === 1) {
    partials(gpu, x, out, 0, square, t);
    return;
  }
  const parts = empty(gpu, [blocks], `${what}.partials`); // [blocks]
  partials(gpu, x, parts, 0, square, t);
  final(gpu, parts, blocks, out, false, t);
  // Later users of this pooled buffer run after the final stage in queue order, so it may go back now.
  parts.dispose();
}

/** out[0] = sum of x (any length, including 0). Records dispatches only. */
export function reduceSum(gpu: Gpu, x: Tensor, out: Tensor, opts: ReduceOptions = {}): void {
  reduceOne(gpu, x, out, false, opts, 'reduceSum');
}

/** out[0] = sum of x[i]^2. Records dispatches only. */
export function reduceSumSquares(gpu: Gpu, x: Tensor, out: Tensor, opts: ReduceOptions = {}): void {
  reduceOne(gpu, x, out, true, opts, 'reduceSumSquares');
}

/**
 * out[0] = sum of squares over every tensor of xs (with `sqrt`, the global L2 norm): one stage-one
 * dispatch per tensor into a shared partials buffer, then one stage two over all partials, so the
 * scalar never leaves the GPU. An empty list gives 0.
 */
export function globalSumSquares(
  gpu: Gpu,
  xs: readonly Tensor[],
  out: Tensor,
  opts: ReduceOptions & { sqrt?: boolean } = {},
): void {
  const what = opts.sqrt ? 'globalNorm' : 'globalSumSquares';
  xs.forEach((x, i) => checkF32(what, `xs[${i}]`, x));
  checkOut(what, out, xs);
  const t = tiles(gpu, opts, what);
  if (xs.length === 0) {
    fill(out, 0);
    return;
  }
  const counts = xs.map((x) => blockCount(x.size, t));
  const total = counts.reduce((a, b) => a + b, 0);
  const parts = empty(gpu, [total], `${what}.partials`); // [sum of each tensor's blocks]
  let offset = 0;
  xs.forEach((x, i) => {
    partials(gpu, x, parts, offset, true, t);
    offset += counts[i]!;
  });
  final(gpu, parts, total, out, opts.sqrt ?? false, t);
  parts.dispose();
}

/** out[0] = sqrt(sum of squares over every tensor of xs): the norm used for gradient clipping. */
export function globalNorm(gpu: Gpu, xs: readonly Tensor[], out: Tensor, opts: ReduceOptions = {}): void {
  globalSumSquares(gpu, xs, out, { ...opts, sqrt: true });
}
