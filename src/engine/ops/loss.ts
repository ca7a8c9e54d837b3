// The two differentiable output losses, each the mean over unmasked rows of a per-row negative
// log-likelihood: sum_r m_r nll_r / max(sum_r m_r, 1), in nats (bits = nats / ln 2). Besides the
// scalar loss they return the per-row nll (and, for the cross-entropy, argmax) that the metrics
// need, and `denom`, the divisor the backward reuses. Masked rows (m_r = 0) are left out exactly:
// their targets may be anything, and their nll may then be NaN.
import {
  checkCrossEntropyInputs,
  checkDmolInputs,
  crossEntropyBackward,
  crossEntropyForward,
  dmolBackward,
  dmolForward,
  maskedMean,
  type CrossEntropyOptions,
} from '../kernels/loss.ts';
import type { Tape, Tensor } from '../tensor.ts';

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
  const { rows } = checkCrossEntropyInputs('crossEntropy', logits, targets, mask);
  const nll = tape.empty([rows], 'crossEntropy.nll'); // [R]
  const stats = tape.empty([rows, 2], 'crossEntropy.stats'); // [R, 2]
  const argmax = tape.empty([rows], 'crossEntropy.argmax', 'u32'); // [R]
  crossEntropyForward(gpu, logits, targets, nll, stats, argmax, opts);
  const loss = tape.empty([1], 'crossEntropy.loss'); // [1]
  const denom = tape.empty([1], 'crossEntropy.denom'); // [1]
  maskedMean(gpu, nll, mask, loss, denom);
  if (tape.needsGrad(logits)) {
    tape.tracks(loss);
    tape.record('crossEntropy', [loss], () => {
      const dlogits = tape.empty(logits.shape, 'crossEntropy.dlogits'); // [..., V]
      crossEntropyBackward(gpu, logits, targets, mask, stats, denom, loss.grad!, dlogits);
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
  const { rows } = checkDmolInputs('dmolLoss', params, targets, mask);
  const nll = tape.empty([rows], 'dmolLoss.nll'); // [R]
  dmolForward(gpu, params, targets, nll);
  const loss = tape.empty([1], 'dmolLoss.loss'); // [1]
  const denom = tape.empty([1], 'dmolLoss.denom'); // [1]
  maskedMean(gpu, nll, mask, loss, denom);
  if (tape.needsGrad(params)) {
    tape.tracks(loss);
    tape.record('dmolLoss', [loss], () => {
      const dparams = tape.empty(params.shape, 'dmolLoss.dparams'); // [..., 3K]
      dmolBackward(gpu, params, targets, mask, denom, loss.grad!, dparams);
      tape.accumulate(params, dparams);
    });
  }
  return { loss, nll, denom };
}
