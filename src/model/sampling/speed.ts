// Sampling throughput of the recurrent decoder (the benchmarks' model-level figures).
import type { Random } from '../../util/random.ts';
import type { Transformer } from '../transformer.ts';
import { Sampler } from './decoder.ts';

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
