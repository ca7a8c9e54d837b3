// Sampling throughput for MNIST-length sequences in three forms: the recurrent state of momentum
// attention (O(D Dv) per token), softmax with a KV cache (O(t D) at token t) and softmax
// recomputed over the whole prefix for every token (no cache, O(t^2 D)). Each token waits for the
// one before it (one submit and one wait per token), as a sampler must.
// - Model level (the report's figures): a whole MNIST transformer through src/model/sampler.ts
//   (measureSampling), against the same model's parallel forward over each prefix.
// - Attention level: one layer's MomentumState / SoftmaxKVCache steps alone, against its causal
//   softmax forward over each prefix.
import type { Gpu } from '../engine/gpu.ts';
import { attention } from '../engine/ops/attention.ts';
import { MomentumState, SoftmaxKVCache } from '../engine/ops/recurrent.ts';
import { Tape, fromArray, type Tensor } from '../engine/tensor.ts';
import { PAPER_HYPERS, defaultModelConfig, type ModelConfig } from '../model/config.ts';
import { measureSampling, type SamplingSpeed } from '../model/sampler.ts';
import { Transformer } from '../model/transformer.ts';
import { PIXEL_VOCAB } from '../tasks/mnist.ts';
import { Random } from '../util/random.ts';
import { benchData } from './attention.ts';
import { median } from '../util/stats.ts';
import type { AttentionSamplingResult, SamplingResult } from './report.ts';

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
  /** Interleaved recurrent / KV-cache pairs of whole samples (the figures are their medians). */
  pairs: number;
}

export const MNIST_TOKENS = 28 * 28;

export const defaultSamplingOptions: SamplingOptions = {
  batch: 8,
  heads: 4,
  dim: 16,
  seq: MNIST_TOKENS,
  noCachePoints: 8,
  pairs: 3,
  beta: PAPER_HYPERS.mnist.beta,
  gamma: PAPER_HYPERS.mnist.gamma,
};

/** The MNIST model sampled: the 'quick' preset's shape (4 layers of 4 heads x 16, ffn 256, 10 logistics). */
export function samplingModel(o: SamplingOptions, attention: ModelConfig['attention']): ModelConfig {
  return {
    ...defaultModelConfig,
    vocab: PIXEL_VOCAB,
    maxSeq: Math.max(o.seq - 1, 1),
    layers: 4,
    heads: o.heads,
    headDim: o.dim,
    ffn: 256,
    dropout: 0,
    attention,
    connection: { kind: 'residual' },
    output: { kind: 'dmol', mixtures: 10 },
  };
}

/**
 * Seconds for a whole sequence of `seq` tokens when token t costs `cost(t)`: the cost measured at
 * `points` prefix lengths (and at 1), interpolated linearly and summed over t = 1..seq.
 */
export async function integrateOverPrefix(seq: number, points: number, cost: (len: number) => Promise<number>): Promise<number> {
  const lens = [...new Set([1, ...Array.from({ length: points }, (_, i) => Math.max(1, Math.round(((i + 1) * seq) / points)))])];
  const secs: number[] = [];
  for (const len of lens) secs.push(await cost(len));
  let total = 0;
  for (let t = 1; t <= seq; t++) {
    let j = 0;
    while (lens[j]! < t) j++;
    if (j === 0) {
      total += secs[0]!;
      continue;
    }
    const [l0, l1] = [lens[j - 1]!, lens[j]!];
    const w = (t - l0) / (l1 - l0);
    total += secs[j - 1]! * (1 - w) + secs[j]! * w;
  }
  return total;
}

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

/** Seconds of one causal softmax forward over a prefix of `len` tokens, waited for. */
async function prefixForward(gpu: Gpu, o: SamplingOptions, len: number): Promise<number> {
  const shape = [o.batch, o.heads, len, o.dim];
  const size = o.batch * o.heads * len * o.dim;
  const [q, k, v] = [1, 2, 3].map((seed) => fromArray(gpu, benchData(size, seed), shape, `prefix.${seed}`)); // each [B, H, t, D]
  const tape = new Tape(gpu, { grad: false });
  try {
    await gpu.sync();
    const t0 = performance.now();
    attention(tape, { kind: 'softmax', causal: true }, q!, k!, v!);
    await gpu.sync();
    return (performance.now() - t0) / 1000;
  } finally {
    tape.dispose();
    for (const t of [q, k, v]) t!.dispose();
  }
}

export async function attentionSamplingBench(
  gpu: Gpu,
  o: SamplingOptions,
  log: (line: string) => void = () => {},
): Promise<AttentionSamplingResult> {
  const [q, k, v] = tokenInputs(gpu, o);
  const dims = { batch: o.batch, heads: o.heads, dim: o.dim, dimV: o.dim };
  const state = new MomentumState(gpu, { ...dims, beta: o.beta, gamma: o.gamma });
  const cache = new SoftmaxKVCache(gpu, { ...dims, maxSeq: o.seq + 1 });
  try {
    const recurrent = await stepLoop(gpu, o.seq, () => state.step(q, k, v), () => state.reset());
    log(`  recurrent: ${o.seq} tokens in ${recurrent.toFixed(2)} s`);
    const kv = await stepLoop(gpu, o.seq, () => cache.step(q, k, v), () => cache.reset());
    log(`  KV cache: ${o.seq} tokens in ${kv.toFixed(2)} s`);
    await prefixForward(gpu, o, 1); // builds the pipelines
    const noCache = await integrateOverPrefix(o.seq, o.noCachePoints, (len) => prefixForward(gpu, o, len));
    log(`  no cache: ${o.seq} tokens in ${noCache.toFixed(2)} s (integrated)`);
    const tokens = o.batch * o.seq;
    return {
      seq: o.seq,
      batch: o.batch,
      recurrentTokensPerSec: tokens / recurrent,
      kvCacheTokensPerSec: tokens / kv,
      noCacheTokensPerSec: tokens / noCache,
      notes: [
        `one attention layer of ${o.heads} heads x ${o.dim}, batch ${o.batch}, MomentumState (beta ${o.beta}, gamma ${o.gamma}) vs SoftmaxKVCache vs the causal softmax forward over each prefix; one submit and one wait per token`,
      ],
    };
  } finally {
    state.dispose();
    cache.dispose();
    for (const t of [q, k, v]) t.dispose();
    gpu.pool.trim();
  }
}

/** Seconds of one parallel forward of `model` over a prefix of `len` tokens, its output read back. */
async function modelPrefixForward(model: Transformer, batch: number, len: number): Promise<number> {
  const gpu = model.gpu;
  const ids = fromArray(gpu, new Uint32Array(batch * len), [batch, len], 'prefix.ids'); // u32 [B, t]
  const tape = new Tape(gpu, { grad: false });
  try {
    await gpu.sync();
    const t0 = performance.now();
    const { output } = model.forward(tape, ids, { train: false, dropoutSeed: 0 }); // [B*t, out]
    await output.read();
    return (performance.now() - t0) / 1000;
  } finally {
    tape.dispose();
    ids.dispose();
  }
}

/**
 * MNIST sampling through the real sampler: a momentum-attention model stepped through its
 * recurrent state, a softmax model through its KV cache, and the softmax model's parallel forward
 * recomputed over each prefix (integrated over the prefix lengths, as at the attention level).
 */
export async function samplingBench(gpu: Gpu, o: SamplingOptions, log: (line: string) => void = () => {}): Promise<SamplingResult> {
  const momentum = new Transformer(gpu, samplingModel(o, { kind: 'momentum', beta: o.beta, gamma: o.gamma }), 1);
  const softmax = new Transformer(gpu, samplingModel(o, { kind: 'softmax' }), 1);
  try {
    if (!(Number.isInteger(o.pairs) && o.pairs >= 1)) throw new Error(`sampling pairs must be a positive integer; got ${o.pairs}`);
    // Whole samples in interleaved pairs (the KV cache first in odd pairs), each pair's ratio one
    // sample: a slow moment of a shared machine moves one pair, not one form.
    const recs: SamplingSpeed[] = [];
    const kvs: SamplingSpeed[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < o.pairs; i++) {
      const r: Record<string, SamplingSpeed> = {};
      for (const form of i % 2 === 0 ? ['recurrent', 'kv'] : ['kv', 'recurrent']) {
        const m = await measureSampling(form === 'kv' ? softmax : momentum, { batch: o.batch, length: o.seq, rng: new Random(1) });
        log(`  ${form === 'kv' ? 'KV cache' : 'recurrent'} (pair ${i + 1}): ${o.seq} tokens in ${m.seconds.toFixed(2)} s`);
        r[form] = m;
      }
      recs.push(r.recurrent!);
      kvs.push(r.kv!);
      ratios.push(r.recurrent!.imagesPerSec / r.kv!.imagesPerSec);
    }
    const medianSpeed = (xs: SamplingSpeed[]) => ({ tokensPerSec: median(xs.map((x) => x.tokensPerSec)), imagesPerSec: median(xs.map((x) => x.imagesPerSec)) });
    const rec = medianSpeed(recs);
    const kv = medianSpeed(kvs);
    await modelPrefixForward(softmax, o.batch, 1); // builds the pipelines
    // Token t (t = 1 .. seq - 1, the first pixel is given) needs the forward over the t tokens before it.
    const noCache = await integrateOverPrefix(o.seq - 1, o.noCachePoints, (len) => modelPrefixForward(softmax, o.batch, len));
    log(`  no cache: ${o.seq} tokens in ${noCache.toFixed(2)} s (integrated)`);
    const generated = o.batch * (o.seq - 1);
    const cfg = momentum.cfg;
    return {
      level: 'model',
      seq: o.seq,
      batch: o.batch,
      recurrentTokensPerSec: rec.tokensPerSec,
      kvCacheTokensPerSec: kv.tokensPerSec,
      noCacheTokensPerSec: generated / noCache,
      recurrentImagesPerSec: rec.imagesPerSec,
      kvCacheImagesPerSec: kv.imagesPerSec,
      noCacheImagesPerSec: o.batch / noCache,
      pairRatios: ratios,
      notes: [
        `recurrent and KV cache: medians over ${o.pairs} interleaved pairs of whole samples; the target takes the median of the pairs' recurrent / KV-cache ratios`,
        `model level: src/model/sampler.ts measureSampling on an MNIST model of ${cfg.layers} layers x ${cfg.heads} heads x ${cfg.headDim}, ffn ${cfg.ffn}, mixture of 10 logistics, random weights; batch ${o.batch} images of ${o.seq} pixels (the first given)`,
        `recurrent = momentum attention (beta ${o.beta}, gamma ${o.gamma}) through its (z, S, m) state; KV cache = the same model with softmax attention; one submit and one read-back per token`,
        `no cache: the softmax model's parallel forward over the prefix, timed at lengths 1 and every ${o.seq - 1}/${o.noCachePoints}, interpolated linearly and summed over every generated token`,
      ],
    };
  } finally {
    momentum.destroy();
    softmax.destroy();
    gpu.pool.trim();
  }
}
