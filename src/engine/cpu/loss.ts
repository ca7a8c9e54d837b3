// CPU references for shaders/loss.wgsl: softmax cross-entropy, the discretized mixture of
// logistics (PixelCNN++) for one channel, and the masked mean both losses share. Generic over
// Float32Array | Float64Array (arithmetic in float64), outputs written into arrays the caller
// passes, as the GPU primitives write into tensors. Also the CPU sampler for generation.
import { dmolComponent, dmolLogProb, logSumExp } from '../host/dmol.ts';
export { DMOL, dmolComponent, dmolLogProb, dmolPixelProbs, sampleDmol, type DmolComponent } from '../host/dmol.ts';

export type Arr = Float32Array | Float64Array;

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
