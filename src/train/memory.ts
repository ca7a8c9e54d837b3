// A run's GPU memory, estimated before anything is allocated, so a run that cannot fit the device
// is refused with the estimate and the limit instead of failing halfway through a step.
import type { Gpu } from '../engine/gpu.ts';
import { MOMENTUM_CHUNKS, momentumChunk } from '../engine/kernels/linearAttention.ts';
import { numel } from '../engine/tensor.ts';
import { encoderPositions, modelWidth, outputWidth } from '../model/config.ts';
import { parameterSpecs } from '../model/transformer.ts';
import { taskTokens, type RunConfig } from './types.ts';

export interface MemoryEstimate {
  totalBytes: number;
  parameterBytes: number;
  largest: { what: string; bytes: number };
}

const FLOAT_BYTES = 4;
/** The buffer pool rounds sizes up to powers of two: at most 2x, about 1.4x on average. */
const POOL_SLACK = 1.5;
/** Adam's moments per parameter (m and v). */
const MOMENTS = 2;
/** Copies of every parameter a trainer holds: itself, its gradient, its moments, and the rollback
 * copy of the parameter and its moments (src/train/trainer.ts). */
const PARAMETER_COPIES = 1 + 1 + MOMENTS + (1 + MOMENTS);
/**
 * Floats per token and layer that one step's tape keeps, an upper bound over norm placements and
 * connections: rows of width d (norms, qkv and its split into heads, attention output and merge,
 * projection, connection state, feed-forward output, dropout masks) and rows of width ffn (the
 * hidden layer before and after its activation, its dropout mask).
 */
const LAYER_ROWS_D = 16;
const LAYER_ROWS_FFN = 3;
/** Rows of width d before the first layer (token and position codes) and of the output width
 * after the last (logits and the loss's per-row work). */
const INPUT_ROWS_D = 2;
const OUTPUT_ROWS = 3;
/** Every activation has a gradient of its size in the backward pass. */
const WITH_GRADIENTS = 2;
/** (S, m) per state entry: the momentum path's, an upper bound for linear attention's S alone. */
const STATE_FLOATS = 2;

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * A conservative estimate of a run's GPU memory: parameters (counted from the model's own
 * parameter shapes), gradients, moments and the rollback copy, plus one step's activations and
 * their gradients (what the tape keeps), pool rounding included. `largest` is the biggest single
 * buffer, which must fit the device's binding limit. `chunk` is linear/momentum attention's chunk
 * length (the device's, from `momentumChunk`); by default the shortest, which keeps the most
 * chunk states.
 */
export function estimateMemory(cfg: RunConfig, chunk: number = Math.min(...MOMENTUM_CHUNKS)): MemoryEstimate {
  const m = cfg.model;
  const d = modelWidth(m);
  const out = outputWidth(m);
  const N = encoderPositions(m, taskTokens(cfg.task));
  const R = cfg.batch * N;
  const specs = parameterSpecs(m);
  const parameterBytes = specs.reduce((s, p) => s + numel(p.shape), 0) * FLOAT_BYTES;
  // Softmax keeps a log-sum-exp per row; linear and momentum attention the state at every chunk
  // start and after the last token, [B, H, chunks + 1, Dh, Dh, 2].
  const states =
    m.attention.kind === 'softmax' ? cfg.batch * m.heads * N : numel([cfg.batch, m.heads, Math.ceil(N / chunk) + 1, m.headDim, m.headDim, STATE_FLOATS]);
  const perLayer = R * (LAYER_ROWS_D * d + LAYER_ROWS_FFN * m.ffn) + states;
  const activations = WITH_GRADIENTS * (INPUT_ROWS_D * R * d + m.layers * perLayer + OUTPUT_ROWS * R * out);
  const totalBytes = Math.ceil(PARAMETER_COPIES * parameterBytes + POOL_SLACK * activations * FLOAT_BYTES);
  const biggestParam = specs.reduce((a, b) => (numel(b.shape) > numel(a.shape) ? b : a));
  const candidates: [string, number][] = [
    [`feed-forward activations [${R}, ${m.ffn}]`, R * m.ffn],
    [`q, k, v projections [${R}, ${3 * d}]`, R * 3 * d],
    [`output logits [${R}, ${out}]`, R * out],
    [`attention states`, states],
    [`parameter ${biggestParam.name} [${biggestParam.shape.join(', ')}]`, numel(biggestParam.shape)],
  ];
  const [what, n] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { totalBytes, parameterBytes, largest: { what, bytes: n * FLOAT_BYTES } };
}

/** Throws, before anything is allocated, when a run cannot fit this device. */
export function checkFitsDevice(gpu: Gpu, cfg: RunConfig, budget: number): MemoryEstimate {
  const e = estimateMemory(cfg, momentumChunk(gpu));
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  if (e.largest.bytes > limit) {
    throw new Error(
      `this run does not fit the device: its largest buffer (${e.largest.what}) needs ${mib(e.largest.bytes)}, ` +
        `over the device's limit of ${mib(limit)} per buffer; reduce batch, sequence length or model size`,
    );
  }
  if (e.totalBytes > budget) {
    throw new Error(
      `this run needs about ${mib(e.totalBytes)} of GPU memory (parameters ${mib(e.parameterBytes)} x ${PARAMETER_COPIES} with gradients, ` +
        `moments and the rollback copy, plus activations), over the budget of ${mib(budget)}; reduce batch, sequence length or model size`,
    );
  }
  return e;
}
