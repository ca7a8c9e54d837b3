// CPU reference for shaders/heads.wgsl: moving heads between the fused layout [B, N, P*H*D]
// (P parts of H heads of D features, e.g. a fused QKV projection) and per-head [B, H, N, D].
import { like, type Arr } from './elementwise.ts';

export interface HeadDims {
  B: number;
  N: number;
  H: number;
  D: number;
}

/** x [B, N, P*H*D] -> P arrays [B, H, N, D]. */
export function splitHeadsForward<T extends Arr>(x: T, dims: HeadDims, parts: number): T[] {
  const { B, N, H, D } = dims;
  const outs = Array.from({ length: parts }, () => like(x, B * H * N * D)); // P x [B, H, N, D]
  for (let b = 0; b < B; b++)
    for (let n = 0; n < N; n++)
      for (let q = 0; q < parts; q++)
        for (let h = 0; h < H; h++)
          for (let d = 0; d < D; d++) {
            outs[q]![((b * H + h) * N + n) * D + d] = x[(((b * N + n) * parts + q) * H + h) * D + d]!;
          }
  return outs;
}

/** P gradients [B, H, N, D] (null: zero; at least one given) -> dx [B, N, P*H*D]. */
export function splitHeadsBackward<T extends Arr>(douts: (T | null)[], dims: HeadDims): T {
  const { B, N, H, D } = dims;
  const parts = douts.length;
  const given = douts.find((g) => g !== null);
  if (!given) throw new Error('splitHeadsBackward: every gradient is null');
  const dx = like(given, B * N * parts * H * D); // [B, N, P*H*D]
  for (let b = 0; b < B; b++)
    for (let n = 0; n < N; n++)
      douts.forEach((g, q) => {
        if (!g) return;
        for (let h = 0; h < H; h++)
          for (let d = 0; d < D; d++) {
            dx[(((b * N + n) * parts + q) * H + h) * D + d] = g[((b * H + h) * N + n) * D + d]!;
          }
      });
  return dx;
}

/** x [B, H, N, D] -> [B, N, H*D]. */
export function mergeHeadsForward<T extends Arr>(x: T, dims: HeadDims): T {
  return splitHeadsBackward([x], dims);
}

/** dy [B, N, H*D] -> dx [B, H, N, D]. */
export function mergeHeadsBackward<T extends Arr>(dy: T, dims: HeadDims): T {
  return splitHeadsForward(dy, dims, 1)[0]!;
}
