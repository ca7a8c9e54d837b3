// Differentiable mean pooling over the sequence for the encoder (issue: long-range classification):
// x [B, N, C] -> [B, C], the mean of each row's first lengths[b] tokens, so right padding never
// reaches the pooled representation. A CLS token is pooled by lengths of 1.
import { meanPoolBackward, meanPoolForward, type PoolDims } from '../kernels/pooling.ts';
import type { Tape, Tensor } from '../tensor.ts';

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Checks x [B, N, C] and lengths u32 [B]; returns the dims. */
export function checkPoolInputs(what: string, x: Tensor, lengths: Tensor): PoolDims {
  if (!x || x.isDisposed) throw new Error(`${what}: x is missing or disposed`);
  if (x.dtype !== 'f32') throw new Error(`${what}: x '${x.label}' must be f32; it is ${x.dtype}`);
  if (x.shape.length !== 3) throw new Error(`${what}: x '${x.label}' must be [batch, seq, width]; got ${shapeText(x.shape)}`);
  const [batch, seq, width] = x.shape as [number, number, number];
  if (!lengths || lengths.isDisposed) throw new Error(`${what}: lengths is missing or disposed`);
  if (lengths.dtype !== 'u32') throw new Error(`${what}: lengths '${lengths.label}' must be u32; it is ${lengths.dtype}`);
  if (lengths.size !== batch) {
    throw new Error(`${what}: lengths '${lengths.label}' has ${lengths.size} entries; x has batch ${batch}`);
  }
  return { batch, seq, width };
}

/**
 * Mean of x [B, N, C] over t < lengths[b] -> [B, C]. Lengths must lie in 1..N: they come from the
 * batch that made x (e.g. packListOps), which knows them on the host; the kernel only clamps.
 */
export function meanPool(tape: Tape, x: Tensor, lengths: Tensor): Tensor {
  const dims = checkPoolInputs('meanPool', x, lengths);
  const y = tape.empty([dims.batch, dims.width], 'meanPool.y'); // [B, C]
  meanPoolForward(tape.gpu, x, lengths, y, dims);
  if (tape.needsGrad(x)) {
    tape.tracks(y);
    tape.record('meanPool', [y], () => {
      const dx = tape.empty(x.shape, 'meanPool.dx'); // [B, N, C]
      meanPoolBackward(tape.gpu, y.grad!, lengths, dx, dims);
      tape.accumulate(x, dx);
    });
  }
  return y;
}
