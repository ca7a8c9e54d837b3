// GPU primitive for the fused optimizer updates (shaders/optim.wgsl): one dispatch per parameter
// updates it and its moments in place. The per-step scalars (bias corrections, RAdam's
// rectification) are computed here on the CPU in float64 and passed as uniforms; the clipping
// scale is computed on the GPU from the 1-element gradNorm tensor, so nothing is read back.
import optimWgsl from '../../../shaders/optim.wgsl?raw';
import {
  OPTIMIZER_KINDS,
  checkHyper,
  radamRectifier,
  type OptimizerKind,
  type UpdateHyper,
} from '../host/optim.ts';
import type { Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';

export type { OptimizerKind, UpdateHyper } from '../host/optim.ts';

/** Elementwise: one thread per value; 256 fills a workgroup on every vendor. */
const OPTIM_WG = 256;

/** The uniform values of one update (exported so tests can pin the folding of the scalars). */
export function updateUniforms(kind: OptimizerKind, n: number, h: UpdateHyper): Record<string, number> {
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2Sqrt = Math.sqrt(1 - h.beta2 ** h.step);
  let stepSize = h.lr / bc1;
  let rectified = 0;
  if (kind === 'radam') {
    const r = radamRectifier(h.beta2, h.step);
    if (r !== null) {
      stepSize = (h.lr * r * bc2Sqrt) / bc1;
      rectified = 1;
    }
  }
  return {
    n,
    beta1: h.beta1,
    beta2: h.beta2,
    oneMinusBeta1: 1 - h.beta1,
    oneMinusBeta2: 1 - h.beta2,
    eps: h.eps,
    weightDecay: h.weightDecay,
    decay: h.lr * h.weightDecay,
    stepSize,
    bc2Sqrt,
    clip: h.clip,
    rectified,
  };
}

/**
 * One optimizer step of `kind` on `param` with moments `m`, `v` (all updated in place), from
 * `grad` scaled by min(1, h.clip / (gradNorm[0] + 1e-6)) when h.clip > 0. Records one dispatch.
 */
export function optimizerUpdate(
  gpu: Gpu,
  kind: OptimizerKind,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  gradNorm: Tensor,
  h: UpdateHyper,
): void {
  const what = `optimizerUpdate(${kind})`;
  if (!OPTIMIZER_KINDS.includes(kind)) {
    throw new Error(`${what}: unknown kind '${kind}' (use ${OPTIMIZER_KINDS.join(', ')})`);
  }
  checkHyper(what, h);
  const roles: [string, Tensor][] = [['param', param], ['grad', grad], ['m', m], ['v', v], ['gradNorm', gradNorm]];
  for (const [role, t] of roles) {
    if (t.dtype !== 'f32') throw new Error(`${what}: ${role} '${t.label}' must be f32, it is ${t.dtype}`);
    if (t.isDisposed) throw new Error(`${what}: ${role} '${t.label}' has been disposed`);
  }
  for (const [role, t] of roles.slice(1, 4)) {
    if (t.size !== param.size) {
      throw new Error(`${what}: ${role} '${t.label}' has ${t.size} values, param '${param.label}' has ${param.size}`);
    }
  }
  if (gradNorm.size < 1) throw new Error(`${what}: gradNorm '${gradNorm.label}' must hold 1 value`);
  const buffers = new Set(roles.map(([, t]) => t.buffer));
  if (buffers.size !== roles.length) throw new Error(`${what}: param, grad, m, v and gradNorm must be five different buffers`);
  const k = gpu.kernel({ label: 'optim', code: optimWgsl, entry: kind, constants: { WG: OPTIM_WG } });
  k.run({ param, grad, m, v, gradNorm }, updateUniforms(kind, param.size, h), gpu.grid(Math.ceil(param.size / OPTIM_WG)));
}
