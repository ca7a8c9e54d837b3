// What the inspector receives for one run and one held-out example (plain data, typed arrays
// transferred): every layer's effective attention per head, beta~ per token for adaptive runs, the
// input, and for the copy task the position each query should read.
import type { TaskName } from '../train/types.ts';

export interface Inspection {
  runId: string;
  /** The run's training step when the matrices were taken. */
  step: number;
  /** Index into the run's held-out set, and that set's size. */
  example: number;
  examples: number;
  task: TaskName;
  /** The attention the layers use (the decoder is causal). */
  attention: { kind: 'softmax' | 'linear' | 'momentum'; beta?: number; gamma?: number; weights?: 'authors-code' };
  layers: number;
  heads: number;
  seq: number;
  /** Weight of query i on key j, per layer and head: A[l, h, i, j]; momentum rows need not sum to 1. */
  weights: Float32Array; // [L, H, N, N]
  /** Adaptive connection: beta~ per token for layers 2..L, else null. */
  betaTilde: Float32Array | null; // [L - 1, N]
  /** The input tokens (MNIST: grey levels). */
  tokens: Uint32Array; // [N]
  /** MNIST: the image side; position t is pixel (row floor(t / side), column t % side). Copy: 0. */
  imageSide: number;
  /** Copy: the position whose token query i must output next (-1 where there is none). */
  target: Int32Array | null; // [N]
}

/** The arrays of an inspection, for postMessage's transfer list. */
export function inspectionTransfer(x: Inspection): ArrayBuffer[] {
  return [x.weights, x.betaTilde, x.tokens, x.target].filter((a) => a !== null).map((a) => a!.buffer as ArrayBuffer);
}

/**
 * Copy task: input x = w, 0, w, 0...; the output at position t predicts x[t + 1], which for t in
 * the scored half [n, 2n - 1] is w[t - n], the token at position t - n. mask [N] marks that half.
 */
export function copyTargets(mask: ArrayLike<number>): Int32Array {
  const target = new Int32Array(mask.length).fill(-1);
  let n = -1;
  for (let t = 0; t < mask.length; t++) {
    if (mask[t]! > 0) {
      if (n < 0) n = t;
      target[t] = t - n;
    }
  }
  return target;
}
