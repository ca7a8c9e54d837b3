// CPU references for the fused optimizer updates of shaders/optim.wgsl, written the textbook way in
// float64 (bias-corrected m_hat, v_hat spelled out), plus the per-step scalars the GPU path needs:
// RAdam's rectification and the clipping scale. Updates are in place on param, m and v.
import { OPTIMIZER_KINDS, checkHyper, clipScale, radamRectifier, type OptimizerKind, type UpdateHyper } from '../host/optim.ts';
export { OPTIMIZER_KINDS, CLIP_EPS, RADAM_RHO_THRESHOLD, radamRho, radamRectifier, clipScale, checkHyper, type OptimizerKind, type UpdateHyper } from '../host/optim.ts';

export type Arr = Float32Array | Float64Array;
/**
 * One update of `kind` on one parameter, in place. `gradNorm[0]` is the global gradient norm of
 * this step (used only when h.clip > 0), as the GPU primitive reads it from a 1-element tensor.
 */
export function optimizerUpdate<T extends Arr>(
  kind: OptimizerKind,
  param: T,
  grad: T,
  m: T,
  v: T,
  gradNorm: T,
  h: UpdateHyper,
): void {
  const what = `optimizerUpdate(${kind})`;
  if (!OPTIMIZER_KINDS.includes(kind)) throw new Error(`${what}: unknown kind (use ${OPTIMIZER_KINDS.join(', ')})`);
  checkHyper(what, h);
  const n = param.length;
  if (grad.length !== n || m.length !== n || v.length !== n) {
    throw new Error(`${what}: param, grad, m, v must have equal lengths, got ${n}, ${grad.length}, ${m.length}, ${v.length}`);
  }
  if (gradNorm.length < 1) throw new Error(`${what}: gradNorm must hold 1 value`);
  const scale = clipScale(gradNorm[0]!, h.clip);
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  const rect = kind === 'radam' ? radamRectifier(h.beta2, h.step) : null;
  for (let i = 0; i < n; i++) {
    let w = param[i]!;
    let g = grad[i]! * scale;
    if (kind === 'adam') g += h.weightDecay * w;
    else w *= 1 - h.lr * h.weightDecay;
    const mi = h.beta1 * m[i]! + (1 - h.beta1) * g;
    const vi = h.beta2 * v[i]! + (1 - h.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const mHat = mi / bc1;
    if (kind !== 'radam') {
      w -= (h.lr * mHat) / (Math.sqrt(vi / bc2) + h.eps);
    } else if (rect !== null) {
      w -= (h.lr * rect * mHat * Math.sqrt(bc2)) / (Math.sqrt(vi) + h.eps);
    } else {
      w -= h.lr * mHat;
    }
    param[i] = w;
  }
}
