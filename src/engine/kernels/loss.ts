// GPU encoders of shaders/loss/ (the op validates and plans, ops/loss.ts): softmax cross-entropy (forward with per-row nll, saved
// row statistics and argmax; fused backward), the discretized mixture of logistics (forward per-row
// nll; fused backward) and the masked mean that turns per-row nll into the loss. Inputs may have
// any leading shape: the last dimension is the row ([..., V] logits, [..., 3K] mixture parameters).
import ceBackward from '../../../shaders/loss/cross_entropy_backward.wgsl?raw';
import ceForward from '../../../shaders/loss/cross_entropy_forward.wgsl?raw';
import dmol from '../../../shaders/loss/dmol.wgsl?raw';
import dmolBackwardWgsl from '../../../shaders/loss/dmol_backward.wgsl?raw';
import dmolForwardWgsl from '../../../shaders/loss/dmol_forward.wgsl?raw';
import maskedMeanWgsl from '../../../shaders/loss/masked_mean.wgsl?raw';
import params from '../../../shaders/loss/params.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';
import { CROSS_ENTROPY, type Variant } from '../variants.ts';

export type LossVariant = Variant;

export interface CrossEntropyOptions {
  /**
   * 'gpu': one workgroup per row with tree reductions (coalesced, parallel over V). 'swiftshader':
   * one thread per row, no barriers (SwiftShader pays a thread switch per barrier). Defaults to
   * `gpu.backend`; tests force each.
   */
  variant?: LossVariant;
}

const ELEMENTWISE_WG = 256;
/** Threads of the masked mean's single workgroup. */
const MEAN_WG = 256;
/** Rows of the mixture kernels per workgroup (each row staged through workgroup memory). */
export const DMOL_ROWS_PER_WG = 64;
/** Bounds of the per-row workgroup of ce_forward: a subgroup at least, at most the device's limit. */
const CE_MIN_WG = 32;
const CE_MAX_WG = 256;

/** The per-row workgroup size of the 'gpu' cross-entropy forward: V rounded up to a power of two. */
export function crossEntropyWorkgroup(classes: number): number {
  let wg = CE_MIN_WG;
  while (wg < classes && wg < CE_MAX_WG) wg *= 2;
  return wg;
}

/** A cross-entropy of R rows of V classes, its variant resolved (ops/loss.ts planCrossEntropy). */
export interface CrossEntropyPlan {
  rows: number;
  classes: number;
  variant: LossVariant;
}

/** A mixture loss of R rows of K components (ops/loss.ts planDmol). */
export interface DmolPlan {
  rows: number;
  components: number;
}

/** Each entry point's WGSL: shaders/loss/params.wgsl, then what it shares, then its own file. */
const SOURCES = {
  ce_forward: { file: 'cross_entropy_forward', parts: [ceForward] },
  ce_forward_rows: { file: 'cross_entropy_forward', parts: [ceForward] },
  ce_backward: { file: 'cross_entropy_backward', parts: [ceBackward] },
  masked_mean: { file: 'masked_mean', parts: [maskedMeanWgsl] },
  dmol_forward: { file: 'dmol_forward', parts: [dmol, dmolForwardWgsl] },
  dmol_backward: { file: 'dmol_backward', parts: [dmol, dmolBackwardWgsl] },
} as const;

const CODE = Object.fromEntries(
  Object.entries(SOURCES).map(([entry, s]) => [entry, { label: `loss/${s.file}`, code: [params, ...s.parts].join('\n') }]),
) as Record<keyof typeof SOURCES, { label: string; code: string }>;

function kernel(gpu: Gpu, entry: keyof typeof SOURCES, constants: Record<string, number>) {
  return gpu.kernel({ ...CODE[entry], entry, constants });
}

/**
 * Per row of logits [..., V]: nll [R] = log sum exp - logit of the target (NaN for a target >= V),
 * stats [R, 2] = (row max, log sum exp(x - max)) for the backward, argmax u32 [R] (first max).
 * These encoders only record dispatches: ops/loss.ts validates the tensors and makes the plan.
 */
export function crossEntropyForward(
  gpu: Gpu,
  plan: CrossEntropyPlan,
  logits: Tensor, // [..., V]
  targets: Tensor, // u32 [R]
  nll: Tensor, // [R]
  stats: Tensor, // [R, 2]
  argmax: Tensor, // u32 [R]
): void {
  const { rows, classes } = plan;
  const v = CROSS_ENTROPY[plan.variant];
  const u = { rows, classes, has_mask: 0 };
  const outputs = { x: logits, targets, nll, stats, argmax };
  if (v.workgroupPerRow) {
    kernel(gpu, v.forward, { CWG: crossEntropyWorkgroup(classes) }).run(outputs, u, gpu.grid(rows));
  } else {
    kernel(gpu, v.forward, { WG: ELEMENTWISE_WG }).run(outputs, u, gpu.grid(Math.ceil(rows / ELEMENTWISE_WG)));
  }
}

/** dlogits = (softmax - onehot) * dloss[0] * m_r / denom[0]; masked rows (m_r = 0) get exactly 0. */
export function crossEntropyBackward(
  gpu: Gpu,
  plan: CrossEntropyPlan,
  logits: Tensor, // [..., V]
  targets: Tensor, // u32 [R]
  mask: Tensor | null, // [R]
  stats: Tensor, // [R, 2]
  denom: Tensor, // [1]
  dloss: Tensor, // [1]
  dlogits: Tensor, // like logits
): void {
  const { rows, classes } = plan;
  kernel(gpu, 'ce_backward', { WG: ELEMENTWISE_WG }).run(
    // Without a mask the shader reads none; targets stands in for the binding.
    { x: logits, targets, mask: mask ?? targets, stats, denom, dloss, dx: dlogits },
    { rows, classes, has_mask: mask ? 1 : 0 },
    gpu.grid(Math.ceil(logits.size / ELEMENTWISE_WG)),
  );
}

/** loss[0] = sum of m_r * nll_r over rows with m_r != 0, / (denom[0] = max(sum_r m_r, 1)). */
export function maskedMean(gpu: Gpu, nll: Tensor /* [R] */, mask: Tensor | null /* [R] */, loss: Tensor, denom: Tensor): void {
  kernel(gpu, 'masked_mean', { MWG: MEAN_WG }).run(
    { mask: mask ?? nll, nll_in: nll, loss, denom },
    { rows: nll.size, classes: 1, has_mask: mask ? 1 : 0 },
    [1],
  );
}

/**
 * nll [R] = -log P(target pixel) under each row's mixture of K logistics, params [..., 3K] laid
 * out as [K logits, K means, K log-scales]; targets u32 [R] in 0..255 (NaN for larger ones).
 */
export function dmolForward(
  gpu: Gpu,
  plan: DmolPlan,
  params: Tensor, // [..., 3K]
  targets: Tensor, // u32 [R]
  nll: Tensor, // [R]
): void {
  const { rows, components } = plan;
  kernel(gpu, 'dmol_forward', { DWG: DMOL_ROWS_PER_WG, K: components }).run(
    { x: params, targets, nll },
    { rows, classes: components, has_mask: 0 },
    gpu.grid(Math.ceil(rows / DMOL_ROWS_PER_WG)),
  );
}

/** dparams of the masked-mean mixture loss, times dloss[0]; masked rows get exactly 0. */
export function dmolBackward(
  gpu: Gpu,
  plan: DmolPlan,
  params: Tensor, // [..., 3K]
  targets: Tensor, // u32 [R]
  mask: Tensor | null, // [R]
  denom: Tensor, // [1]
  dloss: Tensor, // [1]
  dparams: Tensor, // like params
): void {
  const { rows, components } = plan;
  kernel(gpu, 'dmol_backward', { DWG: DMOL_ROWS_PER_WG, K: components }).run(
    { x: params, targets, mask: mask ?? targets, denom, dloss, dx: dparams },
    { rows, classes: components, has_mask: mask ? 1 : 0 },
    gpu.grid(Math.ceil(rows / DMOL_ROWS_PER_WG)),
  );
}
