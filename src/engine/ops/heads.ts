// Differentiable head reshapes: the model computes one fused projection [B, N, P*H*D] (e.g.
// P = 3 for q, k, v) and attention wants each part per head, [B, H, N, D]. The op validates and
// resolves the plan; kernels/heads.ts only encodes from it.
import type { Tape, Tensor } from '../tensor.ts';
import { checkFloat, checkPositiveInt, shapeText } from '../check.ts';
import { mergeHeadsBackward, mergeHeadsForward, splitHeadsBackward, splitHeadsForward, type HeadsPlan } from '../kernels/heads.ts';

/** The plan of a fused x [B, N, parts*heads*D]; throws unless the last dimension divides. */
export function planSplit(op: string, x: Tensor, heads: number, parts: number): HeadsPlan {
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

/** The plan of a per-head x [B, H, N, D]. */
export function planPerHead(op: string, x: Tensor): HeadsPlan {
  checkFloat(op, x);
  if (x.shape.length !== 4) throw new Error(`${op}: ${x.label} must be [B, H, N, D], got ${shapeText(x.shape)}`);
  const [B, H, N, D] = x.shape as [number, number, number, number];
  return { B, N, H, D };
}

/** x [B, N, parts*heads*D] -> `parts` tensors [B, heads, N, D], in the order of the last dimension. */
export function splitHeads(tape: Tape, x: Tensor, heads: number, parts: number): Tensor[] {
  const plan = planSplit('splitHeads', x, heads, parts);
  const { B, N, H, D } = plan;
  const outs = Array.from({ length: parts }, (_, q) => tape.empty([B, H, N, D], `splitHeads.part${q}`)); // P x [B, H, N, D]
  splitHeadsForward(tape.gpu, plan, x, outs);
  if (tape.needsGrad(x)) {
    outs.forEach((o) => tape.tracks(o));
    tape.record('splitHeads', outs, () => {
      const dx = tape.empty(x.shape, 'splitHeads.dx'); // [B, N, P*H*D]
      splitHeadsBackward(tape.gpu, plan, outs.map((o) => o.grad), dx);
      tape.accumulate(x, dx);
    });
  }
  return outs;
}

/** x [B, H, N, D] -> [B, N, H*D], heads side by side in the last dimension. */
export function mergeHeads(tape: Tape, x: Tensor): Tensor {
  const plan = planPerHead('mergeHeads', x);
  const { B, N, H, D } = plan;
  const y = tape.empty([B, N, H * D], 'mergeHeads.y'); // [B, N, H*D]
  mergeHeadsForward(tape.gpu, plan, x, y);
  if (tape.needsGrad(x)) {
    tape.tracks(y);
    tape.record('mergeHeads', [y], () => {
      const dx = tape.empty(x.shape, 'mergeHeads.dx'); // [B, H, N, D]
      mergeHeadsBackward(tape.gpu, plan, y.grad!, dx);
      tape.accumulate(x, dx);
    });
  }
  return y;
}
