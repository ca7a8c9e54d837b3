// GPU primitives of shaders/loss.wgsl: softmax cross-entropy (forward with per-row nll, saved
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
import { checkTensor, fail, shapeText } from '../check.ts';
import type { Tensor } from '../tensor.ts';
import { CROSS_ENTROPY, variantOf, type Variant } from '../variants.ts';

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

/** Rows and row length of an [..., L] input, checked against targets [R]. */
function rowsOf(what: string, x: Tensor, role: string, targets: Tensor): { rows: number; row: number } {
  checkTensor(what, role, x, { dtype: 'f32' });
  if (x.shape.length < 1) fail(what, `${role} '${x.label}' needs at least one dimension`);
  const row = x.shape[x.shape.length - 1]!;
  if (row < 1) fail(what, `${role} '${x.label}' has rows of length 0, shape ${shapeText(x.shape)}`);
  const rows = x.size / row;
  if (rows < 1) fail(what, `${role} '${x.label}' has no rows, shape ${shapeText(x.shape)}`);
  checkTensor(what, 'targets', targets, { dtype: 'u32', size: rows });
  return { rows, row };
}

function checkMask(what: string, mask: Tensor | null, rows: number): void {
  if (mask) checkTensor(what, 'mask', mask, { dtype: 'f32', size: rows });
}

function checkScalars(what: string, tensors: Record<string, Tensor>): void {
  for (const [role, t] of Object.entries(tensors)) checkTensor(what, role, t, { dtype: 'f32', size: 1 });
}

function mixtureComponents(what: string, row: number): number {
  if (row % 3 !== 0) fail(what, `mixture rows hold 3K values (K logits, K means, K log-scales), got ${row}`);
  return row / 3;
}

/** Checks logits [..., V], targets u32 [R] and the mask [R]; returns R and V. */
export function checkCrossEntropyInputs(what: string, logits: Tensor, targets: Tensor, mask: Tensor | null) {
  const { rows, row: classes } = rowsOf(what, logits, 'logits', targets);
  checkMask(what, mask, rows);
  return { rows, classes };
}

/** Checks params [..., 3K], targets u32 [R] and the mask [R]; returns R and K. */
export function checkDmolInputs(what: string, params: Tensor, targets: Tensor, mask: Tensor | null) {
  const { rows, row } = rowsOf(what, params, 'params', targets);
  checkMask(what, mask, rows);
  return { rows, components: mixtureComponents(what, row) };
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
 */
export function crossEntropyForward(
  gpu: Gpu,
  logits: Tensor, // [..., V]
  targets: Tensor, // u32 [R]
  nll: Tensor, // [R]
  stats: Tensor, // [R, 2]
  argmax: Tensor, // u32 [R]
  opts: CrossEntropyOptions = {},
): void {
  const what = 'crossEntropyForward';
  const { rows, row: classes } = rowsOf(what, logits, 'logits', targets);
  checkTensor(what, 'nll', nll, { dtype: 'f32', size: rows });
  checkTensor(what, 'stats', stats, { dtype: 'f32', size: 2 * rows });
  checkTensor(what, 'argmax', argmax, { dtype: 'u32', size: rows });
  const v = CROSS_ENTROPY[variantOf(what, gpu, opts.variant)];
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
  logits: Tensor, // [..., V]
  targets: Tensor, // u32 [R]
  mask: Tensor | null, // [R]
  stats: Tensor, // [R, 2]
  denom: Tensor, // [1]
  dloss: Tensor, // [1]
  dlogits: Tensor, // like logits
): void {
  const what = 'crossEntropyBackward';
  const { rows, row: classes } = rowsOf(what, logits, 'logits', targets);
  checkMask(what, mask, rows);
  checkTensor(what, 'stats', stats, { dtype: 'f32', size: 2 * rows });
  checkScalars(what, { denom, dloss });
  checkTensor(what, 'dlogits', dlogits, { dtype: 'f32', size: logits.size });
  kernel(gpu, 'ce_backward', { WG: ELEMENTWISE_WG }).run(
    // Without a mask the shader reads none; targets stands in for the binding.
    { x: logits, targets, mask: mask ?? targets, stats, denom, dloss, dx: dlogits },
    { rows, classes, has_mask: mask ? 1 : 0 },
    gpu.grid(Math.ceil(logits.size / ELEMENTWISE_WG)),
  );
}

/** loss[0] = sum of m_r * nll_r over rows with m_r != 0, / (denom[0] = max(sum_r m_r, 1)). */
export function maskedMean(gpu: Gpu, nll: Tensor /* [R] */, mask: Tensor | null /* [R] */, loss: Tensor, denom: Tensor): void {
  const what = 'maskedMean';
  checkTensor(what, 'nll', nll, { dtype: 'f32' });
  if (nll.size < 1) fail(what, `nll '${nll.label}' is empty`);
  checkMask(what, mask, nll.size);
  checkScalars(what, { loss, denom });
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
export function dmolForward(gpu: Gpu, params: Tensor /* [..., 3K] */, targets: Tensor /* u32 [R] */, nll: Tensor /* [R] */): void {
  const what = 'dmolForward';
  const { rows, row } = rowsOf(what, params, 'params', targets);
  const components = mixtureComponents(what, row);
  checkTensor(what, 'nll', nll, { dtype: 'f32', size: rows });
  kernel(gpu, 'dmol_forward', { DWG: DMOL_ROWS_PER_WG, K: components }).run(
    { x: params, targets, nll },
    { rows, classes: components, has_mask: 0 },
    gpu.grid(Math.ceil(rows / DMOL_ROWS_PER_WG)),
  );
}

/** dparams of the masked-mean mixture loss, times dloss[0]; masked rows get exactly 0. */
export function dmolBackward(
  gpu: Gpu,
  params: Tensor, // [..., 3K]
  targets: Tensor, // u32 [R]
  mask: Tensor | null, // [R]
  denom: Tensor, // [1]
  dloss: Tensor, // [1]
  dparams: Tensor, // like params
): void {
  const what = 'dmolBackward';
  const { rows, row } = rowsOf(what, params, 'params', targets);
  const components = mixtureComponents(what, row);
  checkMask(what, mask, rows);
  checkScalars(what, { denom, dloss });
  checkTensor(what, 'dparams', dparams, { dtype: 'f32', size: params.size });
  kernel(gpu, 'dmol_backward', { DWG: DMOL_ROWS_PER_WG, K: components }).run(
    { x: params, targets, mask: mask ?? targets, denom, dloss, dx: dparams },
    { rows, classes: components, has_mask: mask ? 1 : 0 },
    gpu.grid(Math.ceil(rows / DMOL_ROWS_PER_WG)),
  );
}
