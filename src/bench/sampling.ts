// Sampling throughput at the attention level: one layer's attention stepped token by token through
// a sequence of MNIST length, as a sampler runs it (each token waits for the previous one: one
// submit and one wait per token). Three forms: the recurrent state of momentum attention
// (MomentumState, O(D Dv) per token), softmax with a KV cache (SoftmaxKVCache, O(t D) at token t)
// and softmax recomputed over the whole prefix for every token (no cache, O(t^2 D)).
import type { Gpu } from '../engine/gpu.ts';
import { MomentumState } from '../engine/kernels/linearAttention.ts';
import { SoftmaxKVCache } from '../engine/kernels/softmaxAttention.ts';
import { attention } from '../engine/ops/attention.ts';
import { Tape, fromArray, type Tensor } from '../engine/tensor.ts';
import { benchData } from './attention.ts';
import type { SamplingResult } from './report.ts';

export interface SamplingOptions {
  /** Sequences generated side by side. */
  batch: number;
  heads: number;
  dim: number;
  /** Tokens per sequence: 784 for a 28 x 28 image. */
  seq: number;
  /** Prefix lengths at which the no-cache cost is measured (then integrated over 1..seq). */
  noCachePoints: number;
  beta: number;
  gamma: number;
}

export const MNIST_TOKENS = 28 * 28;

export const defaultSamplingOptions: SamplingOptions = {
  batch: 8,
  heads: 4,
  dim: 16,
  seq: MNIST_TOKENS,
  noCachePoints: 8,
  beta: 0.6,
  gamma: 0.9,
};

function tokenInputs(gpu: Gpu, o: SamplingOptions): [Tensor, Tensor, Tensor] {
  const shape = [o.batch, o.heads, 1, o.dim];
  const size = o.batch * o.heads * o.dim;
  return [1, 2, 3].map((seed) => fromArray(gpu, benchData(size, seed), shape, `sample.${seed}`)) as [Tensor, Tensor, Tensor]; // each [B, H, 1, D]
}

/** Seconds to step `seq` tokens through `step`, one wait per token (after one warm-up token). */
async function stepLoop(gpu: Gpu, seq: number, step: () => Tensor, reset: () => void): Promise<number> {
  step().dispose();
  await gpu.sync();
  reset();
  const t0 = performance.now();
  for (let t = 0; t < seq; t++) {
    const out = step(); // [B, H, 1, Dv]
    await gpu.sync();
    out.dispose();
  }
  return (performance.now() - t0) / 1000;
}

/** Seconds of one causal softmax forward over a prefix of `len` tokens (mean of `reps`, after a warm-up). */
async function prefixForward(gpu: Gpu, o: SamplingOptions, len: number, reps: number): Promise<number> {
  const shape = [o.batch, o.heads, len, o.dim];
  const size = o.batch * o.heads * len * o.dim;
  const [q, k, v] = [1, 2, 3].map((seed) => fromArray(gpu, benchData(size, seed), shape, `prefix.${seed}`)); // each [B, H, t, D]
  const once = async () => {
    const tape = new Tape(gpu, { grad: false });
    attention(tape, { kind: 'softmax', causal: true }, q!, k!, v!);
    await gpu.sync();
    tape.dispose();
  };
  try {
    await once();
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) await once();
    return (performance.now() - t0) / reps / 1000;
  } finally {
    for (const t of [q, k, v]) t!.dispose();
  }
}

/**
 * The no-cache sampler's time for a whole sequence: the prefix forward measured at `points`
 * lengths (and at 1), linearly interpolated between them and summed over every token 1..seq.
 */
async function noCacheSeconds(gpu: Gpu, o: SamplingOptions): Promise<number> {
  const lens = [1, ...Array.from({ length: o.noCachePoints }, (_, i) => Math.round(((i + 1) * o.seq) / o.noCachePoints))];
  const secs: number[] = [];
  for (const len of lens) secs.push(await prefixForward(gpu, o, len, 2));
  let total = 0;
  for (let t = 1; t <= o.seq; t++) {
    let j = 1;
    while (lens[j]! < t) j++;
    const [l0, l1] = [lens[j - 1]!, lens[j]!];
    const w = l1 === l0 ? 0 : (t - l0) / (l1 - l0);
    total += secs[j - 1]! * (1 - w) + secs[j]! * w;
  }
  return total;
}

export async function samplingBench(gpu: Gpu, o: SamplingOptions, log: (line: string) => void = () => {}): Promise<SamplingResult> {
  const [q, k, v] = tokenInputs(gpu, o);
  const dims = { batch: o.batch, heads: o.heads, dim: o.dim, dimV: o.dim };
  const state = new MomentumState(gpu, { ...dims, beta: o.beta, gamma: o.gamma });
  const cache = new SoftmaxKVCache(gpu, { ...dims, maxSeq: o.seq + 1 });
  try {
    const recurrent = await stepLoop(gpu, o.seq, () => state.step(q, k, v), () => state.reset());
    log(`  recurrent: ${o.seq} tokens in ${recurrent.toFixed(2)} s`);
    const kv = await stepLoop(gpu, o.seq, () => cache.step(q, k, v), () => cache.reset());
    log(`  KV cache: ${o.seq} tokens in ${kv.toFixed(2)} s`);
    const noCache = await noCacheSeconds(gpu, o);
    log(`  no cache: ${o.seq} tokens in ${noCache.toFixed(2)} s (integrated)`);
    const tokens = o.batch * o.seq;
    return {
      level: 'attention',
      seq: o.seq,
      batch: o.batch,
      recurrentTokensPerSec: tokens / recurrent,
      kvCacheTokensPerSec: tokens / kv,
      noCacheTokensPerSec: tokens / noCache,
      recurrentImagesPerSec: o.batch / recurrent,
      kvCacheImagesPerSec: o.batch / kv,
      noCacheImagesPerSec: o.batch / noCache,
      notes: [
        `attention level: one layer of ${o.heads} heads x ${o.dim}, batch ${o.batch}; a whole model adds the same per-token work (embedding, projections, feed-forward, head) to every form`,
        'one submit and one wait per token, as a sampler needs each token before the next',
        `recurrent = momentum attention state (beta ${o.beta}, gamma ${o.gamma}); tokens/s count every sequence of the batch`,
        `no cache: the causal softmax forward over the prefix measured at lengths 1 and ${o.seq}/${o.noCachePoints} steps, interpolated linearly and summed over tokens 1..${o.seq}`,
      ],
    };
  } finally {
    state.dispose();
    cache.dispose();
    for (const t of [q, k, v]) t.dispose();
    gpu.pool.trim();
  }
}
