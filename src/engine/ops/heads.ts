// Differentiable head reshapes: the model computes one fused projection [B, N, P*H*D] (e.g.
// P = 3 for q, k, v) and attention wants each part per head, [B, H, N, D].
import type { Tape, Tensor } from '../tensor.ts';
import { checkPerHead, checkSplit, mergeHeadsBackward, mergeHeadsForward, splitHeadsBackward, splitHeadsForward } from '../kernels/heads.ts';

/** x [B, N, parts*heads*D] -> `parts` tensors [B, heads, N, D], in the order of the last dimension. */
export function splitHeads(tape: Tape, x: Tensor, heads: number, parts: number): Tensor[] {
  const { B, N, H, D } = checkSplit('splitHeads', x, heads, parts);
  const outs = Array.from({ length: parts }, (_, q) => tape.empty([B, H, N, D], `splitHeads.part${q}`)); // P x [B, H, N, D]
  splitHeadsForward(tape.gpu, x, outs);
  if (tape.needsGrad(x)) {
    outs.forEach((o) => tape.tracks(o));
    tape.record('splitHeads', outs, () => {
      const dx = tape.empty(x.shape, 'splitHeads.dx'); // [B, N, P*H*D]
      splitHeadsBackward(tape.gpu, outs.map((o) => o.grad), dx);
      tape.accumulate(x, dx);
    });
  }
  return outs;
}

/** x [B, H, N, D] -> [B, N, H*D], heads side by side in the last dimension. */
export function mergeHeads(tape: Tape, x: Tensor): Tensor {
  const { B, N, H, D } = checkPerHead('mergeHeads', x);
  const y = tape.empty([B, N, H * D], 'mergeHeads.y'); // [B, N, H*D]
  mergeHeadsForward(tape.gpu, x, y);
  if (tape.needsGrad(x)) {
    tape.tracks(y);
    tape.record('mergeHeads', [y], () => {
      const dx = tape.empty(x.shape, 'mergeHeads.dx'); // [B, H, N, D]
      mergeHeadsBackward(tape.gpu, y.grad!, dx);
      tape.accumulate(x, dx);
    });
  }
  return y;
}
