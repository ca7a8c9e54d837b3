// The two differentiable output losses, each the mean over unmasked rows of a per-row negative
// log-likelihood: sum_r m_r nll_r / max(sum_r m_r, 1), in nats (bits = nats / ln 2). Besides the
// scalar loss they return the per-row nll (and, for the cross-entropy, argmax) that the metrics
// need, and `denom`, the divisor the backward reuses. Masked rows (m_r = 0) are left out exactly:
// their targets may be anything, and their nll may then be NaN.
import { checkTensor, fail, shapeText } from '../check.ts';
import type { Gpu } from '../gpu.ts';
import {
  crossEntropyBackward,
  crossEntropyForward,
  dmolBackward,
  dmolForward,
  maskedMean,
  type CrossEntropyOptions,
  type CrossEntropyPlan,
  type DmolPlan,
} from '../kernels/loss.ts';
import type { Tape, Tensor } from '../tensor.ts';
import { variantOf } from '../variants.ts';

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

/** Checks logits [..., V], targets u32 [R] and the mask [R]; the plan: R, V and the variant. */
export function planCrossEntropy(
  what: string,
  gpu: Gpu,
  logits: Tensor,
  targets: Tensor,
  mask: Tensor | null,
  opts: CrossEntropyOptions = {},
): CrossEntropyPlan {
  const { rows, row: classes } = rowsOf(what, logits, 'logits', targets);
  checkMask(what, mask, rows);
  return { rows, classes, variant: variantOf(what, gpu, opts.variant) };
}

/** Checks params [..., 3K], targets u32 [R] and the mask [R]; the plan: R and K. */
export function planDmol(what: string, params: Tensor, targets: Tensor, mask: Tensor | null): DmolPlan {
  const { rows, row } = rowsOf(what, params, 'params', targets);
  checkMask(what, mask, rows);
  if (row % 3 !== 0) fail(what, `mixture rows hold 3K values (K logits, K means, K log-scales), got ${row}`);
  return { rows, components: row / 3 };
}

export interface LossOutput {
  /** [1]: the mean nll over unmasked rows (0 when every row is masked). */
  loss: Tensor;
  /** [R]: each row's nll, whatever its mask. */
  nll: Tensor;
  /** [1]: max(sum of the mask, 1), saved for the backward. */
  denom: Tensor;
}

export interface CrossEntropyOutput extends LossOutput {
  /** u32 [R]: the first index of each row's largest logit (accuracy = argmax == target). */
  argmax: Tensor;
  /** [R, 2]: each row's max and log sum exp(logit - max), saved for the backward. */
  stats: Tensor;
}

/**
 * Softmax cross-entropy of logits [..., V] (V up to a few hundred) against targets u32 [R], R the
 * number of rows, with an optional f32 mask [R] of row weights.
 */
export function crossEntropy(
  tape: Tape,
  logits: Tensor,
  targets: Tensor,
  mask: Tensor | null,
  opts: CrossEntropyOptions = {},
): CrossEntropyOutput {
  const gpu = tape.gpu;
  const plan = planCrossEntropy('crossEntropy', gpu, logits, targets, mask, opts);
  const { rows } = plan;
  const nll = tape.empty([rows], 'crossEntropy.nll'); // [R]
  const stats = tape.empty([rows, 2], 'crossEntropy.stats'); // [R, 2]
  const argmax = tape.empty([rows], 'crossEntropy.argmax', 'u32'); // [R]
  crossEntropyForward(gpu, plan, logits, targets, nll, stats, argmax);
  const loss = tape.empty([1], 'crossEntropy.loss'); // [1]
  const denom = tape.empty([1], 'crossEntropy.denom'); // [1]
  maskedMean(gpu, nll, mask, loss, denom);
  if (tape.needsGrad(logits)) {
    tape.tracks(loss);
    tape.record('crossEntropy', [loss], () => {
      const dlogits = tape.empty(logits.shape, 'crossEntropy.dlogits'); // [..., V]
      crossEntropyBackward(gpu, plan, logits, targets, mask, stats, denom, loss.grad!, dlogits);
      tape.accumulate(logits, dlogits);
    });
  }
  return { loss, nll, denom, argmax, stats };
}

/**
 * Discretized mixture of logistics (PixelCNN++) for one channel: params [..., 3K] as [K logits,
 * K means, K log-scales] per pixel, targets u32 [R] in 0..255, optional f32 mask [R]. The loss is
 * the mean nll in nats per pixel; bits/dim = loss / ln 2.
 */
export function dmolLoss(tape: Tape, params: Tensor, targets: Tensor, mask: Tensor | null): LossOutput {
  const gpu = tape.gpu;
  const plan = planDmol('dmolLoss', params, targets, mask);
  const { rows } = plan;
  const nll = tape.empty([rows], 'dmolLoss.nll'); // [R]
  dmolForward(gpu, plan, params, targets, nll);
  const loss = tape.empty([1], 'dmolLoss.loss'); // [1]
  const denom = tape.empty([1], 'dmolLoss.denom'); // [1]
  maskedMean(gpu, nll, mask, loss, denom);
  if (tape.needsGrad(params)) {
    tape.tracks(loss);
    tape.record('dmolLoss', [loss], () => {
      const dparams = tape.empty(params.shape, 'dmolLoss.dparams'); // [..., 3K]
      dmolBackward(gpu, plan, params, targets, mask, denom, loss.grad!, dparams);
      tape.accumulate(params, dparams);
    });
  }
  return { loss, nll, denom };
}
