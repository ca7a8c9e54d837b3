// The discretized mixture of logistics (PixelCNN++) on the host: its constants, one component's
// log mass of a pixel's bin, the mixture's log probability and a sampler. The sampler
// (src/model/sampling) and the CPU reference of the loss (src/engine/cpu/loss.ts) both use it.

/** PixelCNN++'s constants for 8-bit pixels rescaled to [-1, 1]. */
export const DMOL = {
  /** Pixel values 0..255. */
  levels: 256,
  /** Half the width (2/255) of one pixel's bin. */
  halfBin: 1 / 255,
  /** Log-scales are clamped from below here. */
  logScaleMin: -7,
  /** A bin mass below this is replaced by the pdf at the bin's centre times the bin width. */
  cdfDeltaMin: 1e-5,
  /** log(127.5): the bin width 2/255 = 1/127.5 as a log factor. */
  logHalfLevels: Math.log(127.5),
} as const;

export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

export function sigmoid(z: number): number {
  const e = Math.exp(-Math.abs(z));
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

export function dsigmoid(z: number): number {
  const e = Math.exp(-Math.abs(z));
  return e / ((1 + e) * (1 + e));
}

/** One component's log mass of pixel t's bin, and its derivatives by the mean and the raw log-scale. */
export interface DmolComponent {
  lp: number;
  dMean: number;
  dLogScale: number;
}

export function dmolComponent(pixel: number, mean: number, rawLogScale: number): DmolComponent {
  const logScale = Math.max(rawLogScale, DMOL.logScaleMin);
  const invS = Math.exp(-logScale);
  const c = pixel * 2 * DMOL.halfBin - 1 - mean;
  const plus = invS * (c + DMOL.halfBin);
  const minus = invS * (c - DMOL.halfBin);
  const mid = invS * c;
  let lp: number;
  let gPlus = 0;
  let gMinus = 0;
  let gMid = 0;
  let gLs = 0;
  if (!(pixel >= 0 && pixel < DMOL.levels && Number.isInteger(pixel))) {
    lp = NaN;
  } else if (pixel === 0) {
    lp = -softplus(-plus);
    gPlus = sigmoid(-plus);
  } else if (pixel === DMOL.levels - 1) {
    lp = -softplus(minus);
    gMinus = -sigmoid(minus);
  } else {
    const delta = mid > 0 ? sigmoid(-minus) - sigmoid(-plus) : sigmoid(plus) - sigmoid(minus);
    if (delta > DMOL.cdfDeltaMin) {
      lp = Math.log(delta);
      gPlus = dsigmoid(plus) / delta;
      gMinus = -dsigmoid(minus) / delta;
    } else {
      lp = mid - logScale - 2 * softplus(mid) - DMOL.logHalfLevels;
      gMid = 1 - 2 * sigmoid(mid);
      gLs = -1;
    }
  }
  const dMean = -invS * (gPlus + gMinus + gMid);
  const dLs = gLs - (plus * gPlus + minus * gMinus + mid * gMid);
  return { lp, dMean, dLogScale: rawLogScale >= DMOL.logScaleMin ? dLs : 0 };
}

export function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  let s = 0;
  for (const v of xs) s += Math.exp(v - m);
  return m + Math.log(s);
}

/**
 * log P(pixel) under the mixture whose 3K parameters [K logits, K means, K log-scales] start at
 * params[offset]: log sum_k softmax(logits)_k * mass_k(pixel's bin).
 */
export function dmolLogProb(params: ArrayLike<number>, offset: number, components: number, pixel: number): number {
  const K = components;
  const a: number[] = [];
  const b: number[] = [];
  for (let k = 0; k < K; k++) {
    const logit = params[offset + k]!;
    a.push(logit);
    b.push(logit + dmolComponent(pixel, params[offset + K + k]!, params[offset + 2 * K + k]!).lp);
  }
  return logSumExp(b) - logSumExp(a);
}

/** The 256 pixel probabilities of one row's mixture, normalised (the mid fallback is approximate). */
export function dmolPixelProbs(params: ArrayLike<number>, components = params.length / 3, offset = 0): Float64Array {
  if (!Number.isInteger(components) || components < 1) {
    throw new Error(`dmolPixelProbs: a row holds 3K parameters for K >= 1, got K = ${components}`);
  }
  const probs = new Float64Array(DMOL.levels);
  let total = 0;
  for (let t = 0; t < DMOL.levels; t++) {
    probs[t] = Math.exp(dmolLogProb(params, offset, components, t));
    total += probs[t]!;
  }
  if (!(total > 0) || !Number.isFinite(total)) {
    throw new Error(`dmolPixelProbs: the mixture's pixel probabilities sum to ${total} (non-finite parameters?)`);
  }
  for (let t = 0; t < DMOL.levels; t++) probs[t] /= total;
  return probs;
}

/** Keeps a uniform draw off 0 and 1 (float64 resolves logit(u) far beyond any pixel's bin). */
export const SAMPLE_U_MIN = 1e-12;

/**
 * Draws a pixel 0..255 from one row's mixture [K logits, K means, K log-scales], O(K): a component
 * k ~ softmax(logits), then x = mean_k + scale_k * logit(u) (scale clamped as in the loss) rounded
 * to its bin, with x beyond [-1, 1] going to the edge pixels. That is exactly the discretised
 * distribution the loss scores (up to the loss's pdf fallback for bins of mass < 1e-5), so samples
 * and bits/dim describe the same model.
 */
export function sampleDmol(params: ArrayLike<number>, rng: () => number, components = params.length / 3): number {
  const K = components;
  if (!Number.isInteger(K) || K < 1 || params.length < 3 * K) {
    throw new Error(`sampleDmol: a row holds 3K parameters for K >= 1, got ${params.length} values for K = ${K}`);
  }
  let maxLogit = -Infinity;
  for (let k = 0; k < K; k++) maxLogit = Math.max(maxLogit, params[k]!);
  let total = 0;
  for (let k = 0; k < K; k++) total += Math.exp(params[k]! - maxLogit);
  let pick = rng() * total;
  let k = 0;
  while (k < K - 1) {
    pick -= Math.exp(params[k]! - maxLogit);
    if (pick < 0) break;
    k++;
  }
  // u in the open interval (0, 1): logit(u) stays finite.
  const u = Math.min(Math.max(rng(), SAMPLE_U_MIN), 1 - SAMPLE_U_MIN);
  const scale = Math.exp(Math.max(params[2 * K + k]!, DMOL.logScaleMin));
  const x = params[K + k]! + scale * (Math.log(u) - Math.log(1 - u));
  const pixel = Math.round((x + 1) * ((DMOL.levels - 1) / 2));
  return Math.min(Math.max(pixel, 0), DMOL.levels - 1);
}
