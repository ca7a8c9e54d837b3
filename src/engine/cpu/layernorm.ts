// CPU reference for shaders/layernorm.wgsl, generic over Float32Array and Float64Array (outputs
// have the input's type). x is [R, C] row-major with C = gain.length; mean and rstd [R] are what
// the forward saves for the backward.
import { like, type Arr } from './elementwise.ts';

export function layerNormForward<T extends Arr>(x: T, gain: T, bias: T, eps = 1e-5): { y: T; mean: T; rstd: T } {
  const C = gain.length;
  const R = C === 0 ? 0 : x.length / C;
  const y = like(x);
  const mean = like(x, R);
  const rstd = like(x, R);
  for (let r = 0; r < R; r++) {
    const base = r * C;
    let s = 0;
    for (let c = 0; c < C; c++) s += x[base + c]!;
    const mu = s / C;
    let q = 0;
    for (let c = 0; c < C; c++) q += (x[base + c]! - mu) ** 2;
    const rs = 1 / Math.sqrt(q / C + eps);
    for (let c = 0; c < C; c++) y[base + c] = (x[base + c]! - mu) * rs * gain[c]! + bias[c]!;
    mean[r] = mu;
    rstd[r] = rs;
  }
  return { y, mean, rstd };
}

/** dx, dgain, dbias from dy and the forward's saved mean and rstd. */
export function layerNormBackward<T extends Arr>(
  x: T,
  gain: T,
  mean: T,
  rstd: T,
  dy: T,
): { dx: T; dgain: T; dbias: T } {
  const C = gain.length;
  const R = mean.length;
  const dx = like(x);
  const dgain = like(x, C);
  const dbias = like(x, C);
  for (let r = 0; r < R; r++) {
    const base = r * C;
    const mu = mean[r]!;
    const rs = rstd[r]!;
    // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gain * dy.
    let sg = 0;
    let sgx = 0;
    for (let c = 0; c < C; c++) {
      const g = gain[c]! * dy[base + c]!;
      const xhat = (x[base + c]! - mu) * rs;
      sg += g;
      sgx += g * xhat;
      dgain[c] += dy[base + c]! * xhat;
      dbias[c] += dy[base + c]!;
    }
    sg /= C;
    sgx /= C;
    for (let c = 0; c < C; c++) {
      const xhat = (x[base + c]! - mu) * rs;
      dx[base + c] = rs * (gain[c]! * dy[base + c]! - sg - xhat * sgx);
    }
  }
  return { dx, dgain, dbias };
}
