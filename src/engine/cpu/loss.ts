// CPU references for shaders/loss.wgsl: softmax cross-entropy, the discretized mixture of
// logistics (PixelCNN++) for one channel, and the masked mean both losses share. Generic over
// Float32Array | Float64Array (arithmetic in float64), outputs written into arrays the caller
// passes, as the GPU primitives write into tensors. Also the CPU sampler for generation.

export type Arr = Float32Array | Float64Array;

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

/** Row weight: the mask's value, or 1 without a mask. */
function weight(mask: Arr | null, r: number): number {
  return mask ? mask[r]! : 1;
}

// ---------------- the masked mean ----------------

/**
 * loss[0] = sum over rows with m_r != 0 of m_r * nll_r, divided by denom[0] = max(sum_r m_r, 1):
 * the mean over unmasked rows (0 when every row is masked). Masked rows are skipped, not
 * multiplied by 0, so a NaN there does not reach the loss.
 */
export function maskedMean<T extends Arr>(nll: T, mask: T | null, loss: T, denom: T): void {
  let s = 0;
  let c = 0;
  for (let r = 0; r < nll.length; r++) {
    const w = weight(mask, r);
    if (w === 0) continue;
    s += w * nll[r]!;
    c += w;
  }
  denom[0] = Math.max(c, 1);
  loss[0] = s / denom[0]!;
}

// ---------------- softmax cross-entropy ----------------

/**
 * Per row r of logits [R, V]: nll[r] = log sum_v exp(x_rv) - x_r,t (NaN when t >= V), stats[r] =
 * (row max, log sum exp(x - max)) for the backward, argmax[r] = first index of the row's max.
 */
export function crossEntropyForward<T extends Arr>(
  logits: T, // [R, V]
  targets: Uint32Array, // [R]
  nll: T, // [R]
  stats: T, // [R, 2]
  argmax: Uint32Array, // [R]
  classes: number, // V
): void {
  for (let r = 0; r < targets.length; r++) {
    const base = r * classes;
    let m = logits[base]!;
    let arg = 0;
    for (let v = 1; v < classes; v++) {
      if (logits[base + v]! > m) {
        m = logits[base + v]!;
        arg = v;
      }
    }
    let s = 0;
    for (let v = 0; v < classes; v++) s += Math.exp(logits[base + v]! - m);
    const t = targets[r]!;
    nll[r] = t < classes ? m - logits[base + t]! + Math.log(s) : NaN;
    stats[2 * r] = m;
    stats[2 * r + 1] = Math.log(s);
    argmax[r] = arg;
  }
}

/** dlogits = (softmax - onehot(t)) * dloss[0] * m_r / denom[0]; rows with m_r = 0 get 0. */
export function crossEntropyBackward<T extends Arr>(
  logits: T, // [R, V]
  targets: Uint32Array, // [R]
  mask: T | null, // [R]
  stats: T, // [R, 2]
  denom: T, // [1]
  dloss: T, // [1]
  dlogits: T, // [R, V]
  classes: number, // V
): void {
  for (let r = 0; r < targets.length; r++) {
    const w = weight(mask, r);
    const scale = (dloss[0]! * w) / denom[0]!;
    for (let v = 0; v < classes; v++) {
      const i = r * classes + v;
      const prob = Math.exp(logits[i]! - stats[2 * r]! - stats[2 * r + 1]!);
      dlogits[i] = w === 0 ? 0 : (prob - (v === targets[r] ? 1 : 0)) * scale;
    }
  }
}

// ---------------- discretized mixture of logistics ----------------

function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

function sigmoid(z: number): number {
  const e = Math.exp(-Math.abs(z));
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

function dsigmoid(z: number): number {
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

function logSumExp(xs: number[]): number {
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

/** nll[r] = -log P(targets[r]) for each row of params [R, 3K]; NaN for a target outside 0..255. */
export function dmolForward<T extends Arr>(
  params: T, // [R, 3K]
  targets: Uint32Array, // [R]
  nll: T, // [R]
  components: number, // K
): void {
  for (let r = 0; r < targets.length; r++) nll[r] = -dmolLogProb(params, r * 3 * components, components, targets[r]!);
}

/**
 * dparams for loss = masked mean of nll: d/d logit_k = pi_k - w_k and d/d (mean, log-scale)_k =
 * -w_k d lp_k, with pi = softmax(logits), w = softmax(logits + lp), times dloss[0] * m_r / denom[0].
 */
export function dmolBackward<T extends Arr>(
  params: T, // [R, 3K]
  targets: Uint32Array, // [R]
  mask: T | null, // [R]
  denom: T, // [1]
  dloss: T, // [1]
  dparams: T, // [R, 3K]
  components: number, // K
): void {
  const K = components;
  for (let r = 0; r < targets.length; r++) {
    const base = r * 3 * K;
    const w = weight(mask, r);
    if (w === 0) {
      dparams.fill(0, base, base + 3 * K);
      continue;
    }
    const g = (dloss[0]! * w) / denom[0]!;
    const comps = [];
    const a: number[] = [];
    const b: number[] = [];
    for (let k = 0; k < K; k++) {
      const c = dmolComponent(targets[r]!, params[base + K + k]!, params[base + 2 * K + k]!);
      comps.push(c);
      a.push(params[base + k]!);
      b.push(params[base + k]! + c.lp);
    }
    const lseA = logSumExp(a);
    const lseB = logSumExp(b);
    for (let k = 0; k < K; k++) {
      const post = Math.exp(b[k]! - lseB);
      const prior = Math.exp(a[k]! - lseA);
      dparams[base + k] = g * (prior - post);
      dparams[base + K + k] = -g * post * comps[k]!.dMean;
      dparams[base + 2 * K + k] = -g * post * comps[k]!.dLogScale;
    }
  }
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
const SAMPLE_U_MIN = 1e-12;

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
