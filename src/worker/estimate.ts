// How long one training step of a run will take, before it starts: its floating-point work from
// the config (matrix products and attention, forward and backward) over the device's measured
// speed. Rough (within a factor of a few), which is enough to ask before a step of minutes.
import { modelWidth, outputWidth } from '../model/config.ts';
import type { RunConfig } from './protocol.ts';

/** Tokens per sequence the model sees for a task (a copy sequence, or an image's pixels but one). */
export function sequenceLength(cfg: RunConfig): number {
  const t = cfg.task as { kind: string; maxLen?: number; resolution?: number };
  if (t.kind === 'mnist' && t.resolution) return t.resolution * t.resolution - 1;
  return t.maxLen ?? cfg.model.maxSeq;
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
