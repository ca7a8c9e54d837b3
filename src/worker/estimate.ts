// How long one training step of a run will take, before it starts: its floating-point work from
// the config (matrix products and attention, forward and backward) over the device's measured
// speed. Rough (within a factor of a few), which is enough to ask before a step of minutes.
import { encoderPositions, modelWidth, outputWidth } from '../model/config.ts';
import { taskTokens } from '../train/types.ts';
import type { RunConfig } from './protocol.ts';

/** Positions per sequence the model sees for a task (src/train/types.ts `taskTokens`, a CLS token included). */
export function sequenceLength(cfg: RunConfig): number {
  return encoderPositions(cfg.model, taskTokens(cfg.task));
}

/**
 * FLOPs of one training step: per token and layer the q/k/v, output and feed-forward products
 * (2 flops per weight) and the attention (softmax: scores and mix over the causal prefix; linear
 * and momentum: the d_k x d_v state update and read), then the output head; backward is about
 * twice the forward.
 */
export function flopsPerStep(cfg: RunConfig): number {
  const m = cfg.model;
  const d = modelWidth(m);
  const n = sequenceLength(cfg);
  const tokens = cfg.batch * n;
  const dense = 2 * (4 * d * d + 2 * d * m.ffn);
  const attention = m.attention.kind === 'softmax' ? 2 * 2 * ((n + 1) / 2) * d : 2 * 2 * m.heads * m.headDim * m.headDim * 2;
  const forward = tokens * (m.layers * (dense + attention) + 2 * d * outputWidth(m));
  return 3 * forward;
}

/** Seconds a step is expected to take at `gflops` measured GFLOP/s. */
export function stepSeconds(cfg: RunConfig, gflops: number): number {
  return flopsPerStep(cfg) / (gflops * 1e9);
}
