// GPU primitives of shaders/heads.wgsl: split a fused [B, N, P*H*D] projection into P per-head
// tensors [B, H, N, D] and merge heads back into [B, N, H*D], with their backwards. One dispatch
// per part (a Tensor cannot be a view at an offset, so each part is its own buffer).
import src from '../../../shaders/heads.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import { fill, type Tensor } from '../tensor.ts';
import { checkDistinctTensors, checkFloat, checkPositiveInt, shapeText } from '../check.ts';

const HEADS_WG = 256;

/** B, N, H, D of a fused x [B, N, parts*heads*D]; throws unless the last dimension divides. */
export function checkSplit(op: string, x: Tensor, heads: number, parts: number): { B: number; N: number; H: number; D: number } {
  checkFloat(op, x);
  checkPositiveInt(op, 'heads', heads);
  checkPositiveInt(op, 'parts', parts);
  if (x.shape.length !== 3) throw new Error(`${op}: ${x.label} must be [B, N, P*H*D], got ${shapeText(x.shape)}`);
  const [B, N, F] = x.shape as [number, number, number];
  if (F % (heads * parts) !== 0) {
    throw new Error(`${op}: last dimension ${F} of ${x.label} is not divisible by parts * heads = ${parts} * ${heads}`);
  }
  return { B, N, H: heads, D: F / (heads * parts) };
}

/** B, H, N, D of a per-head x [B, H, N, D]. */
export function checkPerHead(op: string, x: Tensor): { B: number; N: number; H: number; D: number } {
  checkFloat(op, x);
  if (x.shape.length !== 4) throw new Error(`${op}: ${x.label} must be [B, H, N, D], got ${shapeText(x.shape)}`);
  const [B, H, N, D] = x.shape as [number, number, number, number];
  return { B, N, H, D };
}

function expectShape(op: string, t: Tensor, shape: number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new Error(`${op}: ${t.label} has shape ${shapeText(t.shape)}, expected ${shapeText(shape)}`);
  }
}

type Dims = { B: number; N: number; H: number; D: number };

function movePart(gpu: Gpu, entry: 'gather_part' | 'scatter_part', from: Tensor, to: Tensor, dims: Dims, part: number, parts: number) {
  const { B, N, H, D } = dims;
  const params = { batch: B, heads: H, seq: N, dim: D, parts, part };
  const n = B * N * H * D;
  gpu
    .kernel({ label: 'heads', code: src, entry, constants: { WG: HEADS_WG } })
    .run({ src: from, dst: to }, params, gpu.grid(Math.ceil(n / HEADS_WG)));
}

/** x [B, N, P*H*D] -> outs: P tensors [B, H, N, D] (P = outs.length, H = outs[0].shape[1]). */
export function splitHeadsForward(gpu: Gpu, x: Tensor, outs: Tensor[]): void {
  const op = 'splitHeadsForward';
  if (outs.length === 0) throw new Error(`${op}: needs at least one output`);
  const H = outs[0]!.shape[1] ?? 0;
  const dims = checkSplit(op, x, H, outs.length);
  checkFloat(op, ...outs);
  for (const o of outs) expectShape(op, o, [dims.B, dims.H, dims.N, dims.D]);
  checkDistinctTensors(op, outs, [x]);
  outs.forEach((o, q) => movePart(gpu, 'gather_part', x, o, dims, q, outs.length));
}

/** P gradients [B, H, N, D] (null: no gradient, taken as zero) -> dx [B, N, P*H*D]. */
export function splitHeadsBackward(gpu: Gpu, douts: (Tensor | null)[], dx: Tensor): void {
  const op = 'splitHeadsBackward';
  const given = douts.filter((g): g is Tensor => g !== null);
  if (given.length === 0) throw new Error(`${op}: needs at least one gradient`);
  const H = given[0]!.shape[1] ?? 0;
  const dims = checkSplit(op, dx, H, douts.length);
  checkFloat(op, ...given);
  for (const g of given) expectShape(op, g, [dims.B, dims.H, dims.N, dims.D]);
  checkDistinctTensors(op, [dx], given);
  // Parts without a gradient are not written by any scatter, so clear them all first.
  if (given.length < douts.length) fill(dx, 0);
  douts.forEach((g, q) => {
    if (g) movePart(gpu, 'scatter_part', g, dx, dims, q, douts.length);
  });
}

/** x [B, H, N, D] -> y [B, N, H*D]. */
export function mergeHeadsForward(gpu: Gpu, x: Tensor, y: Tensor): void {
  const op = 'mergeHeadsForward';
  const dims = checkPerHead(op, x);
  checkFloat(op, y);
  expectShape(op, y, [dims.B, dims.N, dims.H * dims.D]);
  checkDistinctTensors(op, [y], [x]);
  movePart(gpu, 'scatter_part', x, y, dims, 0, 1);
}

/** dy [B, N, H*D] -> dx [B, H, N, D]. */
export function mergeHeadsBackward(gpu: Gpu, dy: Tensor, dx: Tensor): void {
  const op = 'mergeHeadsBackward';
  const dims = checkPerHead(op, dx);
  checkFloat(op, dy);
  expectShape(op, dy, [dims.B, dims.N, dims.H * dims.D]);
  checkDistinctTensors(op, [dx], [dy]);
  movePart(gpu, 'gather_part', dy, dx, dims, 0, 1);
}
