// Reductions for what a caller reads, not differentiates (e.g. a training metric): the result is
// a tape-owned tensor, and no backward is recorded, so no gradient flows through it.
import { reduceSum } from '../kernels/reduce.ts';
import type { Tape, Tensor } from '../tensor.ts';

/** The sum of every value of `x` into a new [1] tensor owned by the tape; not differentiated. */
export function detachedSum(tape: Tape, x: Tensor): Tensor {
  if (x.dtype !== 'f32') throw new Error(`detachedSum: ${x.label} must be f32, it is ${x.dtype}`);
  const out = tape.empty([1], `${x.label}.sum`); // [1]
  reduceSum(tape.gpu, x, out);
  return out;
}
