// CPU reference for shaders/pooling.wgsl: mean pooling of x [B, N, C] over each row's first
// lengths[b] tokens (right padding left out), and its backward.
import { like, type Arr } from './elementwise.ts';

export interface PoolDims {
  B: number;
  N: number;
  C: number;
}

/** x [B, N, C], lengths [B] in 1..N -> y [B, C]. */
export function meanPoolForward<T extends Arr>(x: T, lengths: ArrayLike<number>, dims: PoolDims): T {
  const { B, N, C } = dims;
  const y = like(x, B * C); // [B, C]
  for (let b = 0; b < B; b++) {
    const L = lengths[b]!;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let t = 0; t < L; t++) s += x[(b * N + t) * C + c]!;
      y[b * C + c] = s / L;
    }
  }
  return y;
}

/** dy [B, C] -> dx [B, N, C]: dy / L_b on the first L_b tokens, 0 on the padding. */
export function meanPoolBackward<T extends Arr>(dy: T, lengths: ArrayLike<number>, dims: PoolDims): T {
  const { B, N, C } = dims;
  const dx = like(dy, B * N * C); // [B, N, C]
  for (let b = 0; b < B; b++) {
    const L = lengths[b]!;
    for (let t = 0; t < L; t++) for (let c = 0; c < C; c++) dx[(b * N + t) * C + c] = dy[b * C + c]! / L;
  }
  return dx;
}
