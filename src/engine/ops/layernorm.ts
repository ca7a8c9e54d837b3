// Differentiable LayerNorm over the last dimension. The forward's mean and rstd are explicit
// tensors the backward reads.
import type { Tape, Tensor } from '../tensor.ts';
import { checkEps } from '../check.ts';
import { encodeLayerNormBackward, encodeLayerNormForward, planLayerNorm, type LayerNormOptions } from '../kernels/layernorm.ts';

/** LayerNorm of x [..., C] with gain and bias [C]: (x - mean) / sqrt(var + eps) * gain + bias. */
export function layerNorm(
  tape: Tape,
  x: Tensor,
  gain: Tensor,
  bias: Tensor,
  eps = 1e-5,
  opts: LayerNormOptions = {},
): Tensor {
  const plan = planLayerNorm('layerNorm', tape.gpu, x, gain, bias, opts);
  checkEps('layerNorm', eps);
  const { rows } = plan;
  const y = tape.empty(x.shape, 'layerNorm.y'); // [..., C]
  const mean = tape.empty([rows], 'layerNorm.mean'); // [R]
  const rstd = tape.empty([rows], 'layerNorm.rstd'); // [R]
  encodeLayerNormForward(tape.gpu, plan, { x, gain, bias, y, mean, rstd }, eps);
  if (tape.needsGrad(x, gain, bias)) {
    tape.tracks(y);
    tape.record('layerNorm', [y], () => {
      const wantX = tape.needsGrad(x);
      const wantParams = tape.needsGrad(gain, bias);
      const dx = wantX ? tape.empty(x.shape, 'layerNorm.dx') : null; // [..., C]
      const dgain = wantParams ? tape.empty(gain.shape, 'layerNorm.dgain') : null; // [C]
      const dbias = wantParams ? tape.empty(bias.shape, 'layerNorm.dbias') : null; // [C]
      encodeLayerNormBackward(tape.gpu, plan, { x, gain, mean, rstd, dy: y.grad!, dx, dgain, dbias }, opts.rowsPerChunk);
      if (dx) tape.accumulate(x, dx);
      if (dgain && dbias) {
        tape.accumulate(gain, dgain);
        tape.accumulate(bias, dbias);
      }
    });
  }
  return y;
}
