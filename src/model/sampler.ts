// Autoregressive sampling through the recurrent steps (MATH.md sections 3 and 9): one token per
// step for B sequences at once, each layer's attention carried by a recurrent state (a KV cache for
// softmax; (z, S, m) of the recurrence (12) for momentum, and for linear attention at beta = 0,
// gamma = 1). The step is the model's own forward at one position with the attention replaced
// (Transformer's `decode` hooks), so its rows equal the parallel forward's. The connection's
// momentum (fixed or adaptive beta~) runs across layers at one position, so it needs no state.
import { checkIds } from '../engine/cpu/embedding.ts';
import { DMOL, dmolLogProb, sampleDmol } from '../engine/cpu/loss.ts';
import { MomentumState } from '../engine/kernels/linearAttention.ts';
import { SoftmaxKVCache } from '../engine/kernels/softmaxAttention.ts';
import { Tape, fromArray, type Tensor } from '../engine/tensor.ts';
import type { Random } from '../util/random.ts';
import { outputWidth, type ModelConfig, type OutputConfig } from './config.ts';
import type { Transformer } from './transformer.ts';

type LayerState = MomentumState | SoftmaxKVCache;

export interface GenerateOptions {
  /** [B, P] tokens each sequence starts with, P >= 1 (the model has no start token). */
  prompt: Uint32Array;
  /** New tokens per sequence, >= 0. P + steps - 1 tokens go through the model: at most maxSeq. */
  steps: number;
  /** >= 0; 0 (or `greedy`) takes the most likely token. See `sampleRow` for what it scales. */
  temperature: number;
  /** Draws for sampling; needed unless greedy. The same seed gives the same tokens. */
  rng?: Random;
  /** Most likely token at every step, whatever the temperature. */
  greedy?: boolean;
}

export interface Generated {
  /** [B, P + steps]: the prompt followed by the generated tokens. */
  tokens: Uint32Array;
  /** P + steps. */
  length: number;
  /** Wall time of the whole call, the prompt's steps included. */
  seconds: number;
  /** Generated tokens per second, B * steps / seconds. */
  tokensPerSec: number;
}

/** Throws unless a temperature is a finite number >= 0. */
export function checkTemperature(temperature: number): void {
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new Error(`temperature must be a finite number >= 0 (0 is greedy); got ${String(temperature)}`);
  }
}

/** The token a generated output row stands for can be fed back: its range fits the vocabulary. */
function checkHeadFeedsBack(cfg: ModelConfig): void {
  const o = cfg.output;
  const tokens = o.kind === 'softmax' ? o.classes : DMOL.levels;
  if (tokens > cfg.vocab) {
    throw new Error(`the model predicts ${tokens} tokens but embeds only ${cfg.vocab}: its samples cannot be fed back to it`);
  }
}

/**
 * One token from one output row, on the host. Softmax head: a class drawn from
 * softmax(logits / T), the first largest logit at T = 0. Mixture head (dmol, PixelCNN++): at
 * T > 0 a grey level from `sampleDmol` with the mixture logits divided by T and every scale times
 * T (T = 1 is the model's own distribution); at T = 0 the most probable of the 256 levels.
 */
export function sampleRow(row: ArrayLike<number>, output: OutputConfig, temperature: number, rng: Random | null): number {
  checkTemperature(temperature);
  if (output.kind === 'softmax') {
    let best = 0;
    for (let c = 1; c < output.classes; c++) if (row[c]! > row[best]!) best = c;
    if (temperature === 0) return best;
    if (!rng) throw new Error('sampling at a temperature > 0 needs an rng');
    const max = row[best]!;
    let total = 0;
    for (let c = 0; c < output.classes; c++) total += Math.exp((row[c]! - max) / temperature);
    let pick = rng.uniform() * total;
    for (let c = 0; c < output.classes - 1; c++) {
      pick -= Math.exp((row[c]! - max) / temperature);
      if (pick < 0) return c;
    }
    return output.classes - 1;
  }
  const K = output.mixtures;
  if (temperature === 0) {
    let best = 0;
    let bestLp = -Infinity;
    for (let t = 0; t < DMOL.levels; t++) {
      const lp = dmolLogProb(row, 0, K, t);
      if (lp > bestLp) [best, bestLp] = [t, lp];
    }
    return best;
  }
  if (!rng) throw new Error('sampling at a temperature > 0 needs an rng');
  const tempered = Float64Array.from({ length: 3 * K }, (_, i) => row[i]!); // [logits, means, log-scales]
  const logT = Math.log(temperature);
  for (let k = 0; k < K; k++) {
    tempered[k] = tempered[k]! / temperature;
    tempered[2 * K + k] = tempered[2 * K + k]! + logT;
  }
  return sampleDmol(tempered, () => rng.uniform(), K);
}

/**
 * Recurrent decoder for `batch` sequences of a Transformer: step() feeds the next token of every
 * sequence and returns the model's output rows for it. The states are sized for the model's
 * maxSeq. Attention hyper-parameters (beta, gamma) are read from the model at construction and
 * at each reset(), so a sequence runs under one set of them, as the parallel forward does.
 */
export class Sampler {
  readonly batch: number;
  private readonly states: LayerState[];
  /** The last step's tape: its output stays readable until the next step, reset or dispose. */
  private tape: Tape | null = null;
  private pos = 0;
  private disposed = false;

  constructor(
    readonly model: Transformer,
    batch: number,
  ) {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`Sampler: batch must be a positive integer; got ${String(batch)}`);
    this.batch = batch;
    const cfg = model.cfg;
    const dims = { batch, heads: cfg.heads, dim: cfg.headDim, dimV: cfg.headDim };
    const a = cfg.attention;
    this.states = Array.from({ length: cfg.layers }, () =>
      a.kind === 'softmax'
        ? new SoftmaxKVCache(model.gpu, { ...dims, maxSeq: cfg.maxSeq })
        : // Linear attention is the recurrence at beta = 0, gamma = 1 exactly (MATH.md section 3).
          new MomentumState(model.gpu, a.kind === 'momentum' ? { ...dims, beta: a.beta, gamma: a.gamma } : { ...dims, beta: 0, gamma: 1 }),
    );
  }

  /** Tokens fed to every sequence since the last reset: the position the next step() takes. */
  get length(): number {
    return this.pos;
  }

  /** Features of an output row. */
  get outputWidth(): number {
    return outputWidth(this.model.cfg);
  }

  /** Starts new sequences (empty states), taking the model's current beta and gamma. */
  reset(): void {
    this.checkLive('reset');
    this.tape?.dispose();
    this.tape = null;
    const a = this.model.cfg.attention;
    for (const s of this.states) {
      s.reset();
      if (s instanceof MomentumState && a.kind === 'momentum') {
        s.beta = a.beta;
        s.gamma = a.gamma;
      }
    }
    this.pos = 0;
  }

  /**
   * tokens: [B], the next token of every sequence (position `length`). Returns the output rows
   * [B, outputWidth] predicting the token after it; the tensor is valid until the next step(),
   * reset() or dispose(). Nothing is read back: read it when a decision needs it.
   */
  step(tokens: Uint32Array): Tensor {
    this.checkLive('step');
    const { batch } = this;
    const cfg = this.model.cfg;
    if (!(tokens instanceof Uint32Array) || tokens.length !== batch) {
      throw new Error(`Sampler.step: expected a Uint32Array of ${batch} tokens (one per sequence); got ${tokens?.length ?? String(tokens)}`);
    }
    if (this.pos >= cfg.maxSeq) {
      throw new Error(`Sampler.step: the sequences are full (the model's maxSeq is ${cfg.maxSeq}); reset() to start new ones`);
    }
    checkIds(tokens, cfg.vocab, 'Sampler.step');
    this.tape?.dispose();
    const tape = (this.tape = new Tape(this.model.gpu, { grad: false }));
    const ids = tape.own(fromArray(this.model.gpu, tokens, [batch, 1], 'sampler.ids')); // u32 [B, 1]
    const { output } = this.model.forward(tape, ids, {
      train: false,
      dropoutSeed: 0,
      decode: { positionOffset: this.pos, attend: (l, q, k, v) => tape.own(this.states[l]!.step(q, k, v)) }, // [B, H, 1, Dh]
    });
    this.pos++;
    return output; // [B, out]
  }

  /**
   * Feeds `prompt` [B, P] and then `steps` sampled tokens, reading one output row per sequence
   * back per generated token. Starts from empty states (calls reset()).
   */
  async generate(opts: GenerateOptions): Promise<Generated> {
    this.checkLive('generate');
    const { prompt, steps, rng } = opts ?? ({} as GenerateOptions);
    const { batch } = this;
    const cfg = this.model.cfg;
    if (!(prompt instanceof Uint32Array) || prompt.length === 0 || prompt.length % batch !== 0) {
      throw new Error(`generate: prompt must be a Uint32Array [${batch}, P] with P >= 1; got ${prompt?.length ?? String(prompt)} tokens`);
    }
    const P = prompt.length / batch;
    if (!Number.isInteger(steps) || steps < 0) throw new Error(`generate: steps must be an integer >= 0; got ${String(steps)}`);
    if (P + steps - 1 > cfg.maxSeq) {
      throw new Error(`generate: ${P} prompt and ${steps} new tokens feed ${P + steps - 1} to the model, over its maxSeq ${cfg.maxSeq}`);
    }
    checkTemperature(opts.temperature);
    const temperature = opts.greedy ? 0 : opts.temperature;
    if (temperature > 0 && !rng) throw new Error('generate: sampling at a temperature > 0 needs an rng');
    checkIds(prompt, cfg.vocab, 'generate: prompt');
    if (steps > 0) checkHeadFeedsBack(cfg);

    const start = performance.now();
    const L = P + steps;
    const tokens = new Uint32Array(batch * L); // [B, L]
    for (let b = 0; b < batch; b++) tokens.set(prompt.subarray(b * P, (b + 1) * P), b * L);
    const width = this.outputWidth;
    const column = new Uint32Array(batch); // [B], the tokens at one position
    this.reset();
    for (let t = 0; t + 1 < L; t++) {
      for (let b = 0; b < batch; b++) column[b] = tokens[b * L + t]!;
      const out = this.step(column);
      if (t + 1 < P) continue; // still inside the prompt: nothing to decide
      const rows = await out.read(); // [B, out]
      for (let b = 0; b < batch; b++) {
        tokens[b * L + t + 1] = sampleRow(rows.subarray(b * width, (b + 1) * width), cfg.output, temperature, rng ?? null);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    return { tokens, length: L, seconds, tokensPerSec: seconds > 0 ? (batch * steps) / seconds : 0 };
  }

  dispose(): void {
    if (this.disposed) return;
    this.tape?.dispose();
    this.tape = null;
    for (const s of this.states) s.dispose();
    this.disposed = true;
  }

  private checkLive(what: string): void {
    if (this.disposed) throw new Error(`Sampler.${what}: the sampler has been disposed`);
  }
}

export interface ImageOptions {
  count: number;
  rows: number;
  cols: number;
  temperature: number;
  rng?: Random;
  /** Sequences generated at once (default: all `count`). */
  batch?: number;
  /**
   * Grey level of the first pixel, which MNIST sequences never predict (input t is pixel t, target
   * t pixel t + 1; imagesToSequences in src/tasks/mnist.ts): default 0, as in MNIST's black corners.
   */
  firstPixel?: number;
}

export interface GeneratedImages {
  kind: 'mnist';
  rows: number;
  cols: number;
  /** [count, rows, cols] grey levels 0..255 in raster order. */
  pixels: Uint8Array;
  count: number;
  seconds: number;
  imagesPerSec: number;
  /** Generated pixels per second. */
  tokensPerSec: number;
}

/**
 * Images pixel by pixel in raster order, as the model was trained (imagesToSequences): the first
 * pixel is given, the other rows * cols - 1 are generated. Needs rows * cols - 1 <= maxSeq and a
 * head over the 256 grey levels (a 256-way softmax, or the mixture of logistics).
 */
export async function generateImages(model: Transformer, opts: ImageOptions): Promise<GeneratedImages> {
  const { count, rows, cols, temperature, rng, firstPixel = 0 } = opts;
  const batch = opts.batch ?? count;
  for (const [k, v] of [
    ['count', count],
    ['rows', rows],
    ['cols', cols],
    ['batch', batch],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`generateImages: ${k} must be a positive integer; got ${String(v)}`);
  }
  const size = rows * cols;
  if (size < 2) throw new Error(`generateImages: ${rows}x${cols} images have no pixel to generate`);
  if (!Number.isInteger(firstPixel) || firstPixel < 0 || firstPixel >= DMOL.levels) {
    throw new Error(`generateImages: firstPixel must be a grey level 0..255; got ${firstPixel}`);
  }
  const o = model.cfg.output;
  if (o.kind === 'softmax' && o.classes !== DMOL.levels) {
    throw new Error(`generateImages: a softmax head over ${o.classes} classes does not predict the 256 grey levels`);
  }
  if (size - 1 > model.cfg.maxSeq) {
    throw new Error(`generateImages: ${rows}x${cols} images feed ${size - 1} pixels, over the model's maxSeq ${model.cfg.maxSeq}`);
  }
  checkTemperature(temperature);
  const pixels = new Uint8Array(count * size); // [count, rows, cols]
  const start = performance.now();
  let sampler: Sampler | null = null;
  try {
    for (let done = 0; done < count; done += batch) {
      const n = Math.min(batch, count - done);
      if (!sampler || sampler.batch !== n) {
        sampler?.dispose();
        sampler = new Sampler(model, n);
      }
      const prompt = new Uint32Array(n).fill(firstPixel); // [n, 1]
      const { tokens } = await sampler.generate({ prompt, steps: size - 1, temperature, rng });
      pixels.set(tokens, done * size);
    }
  } finally {
    sampler?.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    kind: 'mnist',
    rows,
    cols,
    pixels,
    count,
    seconds,
    imagesPerSec: seconds > 0 ? count / seconds : 0,
    tokensPerSec: seconds > 0 ? (count * (size - 1)) / seconds : 0,
  };
}

export interface SamplingSpeed {
  batch: number;
  /** Tokens fed per sequence (the first is given, the rest sampled). */
  length: number;
  seconds: number;
  /** Sampled tokens per second over all sequences. */
  tokensPerSec: number;
  /** Whole sequences per second: images per second when length = rows * cols. */
  sequencesPerSec: number;
  imagesPerSec: number;
}

/**
 * Times generate() for `batch` sequences of `length` tokens (default: the model's maxSeq + 1, the
 * longest it can make; an MNIST model's images) at `temperature` (default 1), after one untimed
 * warm-up step that builds the pipelines. imagesPerSec equals sequencesPerSec: a sequence of
 * rows * cols pixels is one image.
 */
export async function measureSampling(
  model: Transformer,
  opts: { batch: number; length?: number; temperature?: number; rng: Random },
): Promise<SamplingSpeed> {
  const { batch, rng, temperature = 1 } = opts;
  const length = opts.length ?? model.cfg.maxSeq + 1;
  if (!Number.isInteger(length) || length < 2) throw new Error(`measureSampling: length must be an integer >= 2; got ${String(length)}`);
  const sampler = new Sampler(model, batch);
  try {
    const prompt = new Uint32Array(batch); // [B, 1] token 0: a black pixel, or the copy task's separator
    await sampler.generate({ prompt, steps: 1, temperature, rng }); // warm-up
    const r = await sampler.generate({ prompt, steps: length - 1, temperature, rng });
    const sequencesPerSec = r.seconds > 0 ? batch / r.seconds : 0;
    return { batch, length, seconds: r.seconds, tokensPerSec: r.tokensPerSec, sequencesPerSec, imagesPerSec: sequencesPerSec };
  } finally {
    sampler.dispose();
  }
}
