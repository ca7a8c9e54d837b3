// GPU primitives of shaders/heads.wgsl: split a fused [B, N, P*H*D] projection into P per-head
// tensors [B, H, N, D] and merge heads back into [B, N, H*D], with their backwards. One dispatch
// per part (a Tensor cannot be a view at an offset, so each part is its own buffer; a split into
// three parts, a fused q | k | v, writes all three in one), a thread per
// element or per row by variant (HEADS in variants.ts). These only encode: ops/heads.ts validates
// the tensors and resolves the plan.
import src from '../../../shaders/heads.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import { fill, type Tensor } from '../tensor.ts';
import { HEADS, variantOf, type Variant } from '../variants.ts';

/** The shape every head reshape works on: B, N, H heads of D each; `variant` forces a variant. */
export type HeadsPlan = { B: number; N: number; H: number; D: number; variant?: Variant };

/** One dispatch of `entry` over the plan's rows (or elements, by variant), with the given bindings. */
function move(gpu: Gpu, move: 'gather' | 'gather3' | 'scatter', bindings: Record<string, Tensor>, plan: HeadsPlan, part: number, parts: number) {
  const { B, N, H, D } = plan;
  const v = HEADS[variantOf('heads', gpu, plan.variant)];
  const params = { batch: B, heads: H, seq: N, dim: D, parts, part };
  const threads = v.perRow ? B * N * H : B * N * H * D;
  gpu
    .kernel({ label: 'heads', code: src, entry: v[move], constants: { WG: v.workgroup } })
    .run(bindings, params, gpu.grid(Math.ceil(threads / v.workgroup)));
}

function movePart(gpu: Gpu, dir: 'gather' | 'scatter', from: Tensor, to: Tensor, plan: HeadsPlan, part: number, parts: number) {
  move(gpu, dir, { src: from, dst: to }, plan, part, parts);
}

/** x [B, N, P*H*D] -> outs: P tensors [B, H, N, D] (P = outs.length); three parts in one dispatch. */
export function splitHeadsForward(gpu: Gpu, plan: HeadsPlan, x: Tensor, outs: Tensor[]): void {
  if (outs.length === 3) {
    move(gpu, 'gather3', { src: x, dst: outs[0]!, dst1: outs[1]!, dst2: outs[2]! }, plan, 0, 3);
    return;
  }
  outs.forEach((o, q) => movePart(gpu, 'gather', x, o, plan, q, outs.length));
}

/** P gradients [B, H, N, D] (null: no gradient, taken as zero) -> dx [B, N, P*H*D]. */
export function splitHeadsBackward(gpu: Gpu, plan: HeadsPlan, douts: (Tensor | null)[], dx: Tensor): void {
  // Parts without a gradient are not written by any scatter, so clear them all first.
  if (douts.some((g) => g === null)) fill(dx, 0);
  douts.forEach((g, q) => {
    if (g) movePart(gpu, 'scatter', g, dx, plan, q, douts.length);
  });
}

/** x [B, H, N, D] -> y [B, N, H*D]. */
export function mergeHeadsForward(gpu: Gpu, plan: HeadsPlan, x: Tensor, y: Tensor): void {
  movePart(gpu, 'scatter', x, y, plan, 0, 1);
}

/** dy [B, N, H*D] -> dx [B, H, N, D]. */
export function mergeHeadsBackward(gpu: Gpu, plan: HeadsPlan, dy: Tensor, dx: Tensor): void {
  movePart(gpu, 'gather', dy, dx, plan, 0, 1);
}
