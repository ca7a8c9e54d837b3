// Sampling maths on the host: one token from one output row of the model (softmax or mixture of
// logistics head), at a temperature.
import { DMOL, dmolLogProb, sampleDmol } from '../../engine/host/dmol.ts';
import { checkIds } from '../../engine/host/embedding.ts';
import type { Random } from '../../util/random.ts';
import type { ModelConfig, OutputConfig } from '../config.ts';

export { checkIds, DMOL };

/** Throws unless a temperature is a finite number >= 0. */
export function checkTemperature(temperature: number): void {
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new Error(`temperature must be a finite number >= 0 (0 is greedy); got ${String(temperature)}`);
  }
}

/** The token a generated output row stands for can be fed back: its range fits the vocabulary. */
export function checkHeadFeedsBack(cfg: ModelConfig): void {
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
