// GPU primitives of the embedding family: the forward (token rows plus a learned or sinusoidal
// position code, added or concatenated), the deterministic backward into the token table through
// an index of positions grouped by id, the backward into a learned position table, and the index
// itself. The family lives in ./embedding/: plan.ts (checks, plans), encode.ts (dispatches only),
// shaders.ts (the WGSL files of shaders/embedding/). The op (ops/embedding.ts) plans once and
// encodes; this file is the checked entry of the primitives tests call directly: each checks its
// tensors, plans, then calls the same encoders.
import type { Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';
import { encodeEmbeddingIndex, encodeTableBackward } from './embedding/encode.ts';
import { checkIndex, planIndex, planTableBackward, type EmbeddingIndex } from './embedding/plan.ts';

export type { Combine } from '../host/embedding.ts';
export {
  encodeEmbeddingForward,
  encodeEmbeddingIndex,
  encodePositionBackward,
  encodeTableBackward,
  emptyEmbeddingIndex,
  uploadEmbeddingIndex,
} from './embedding/encode.ts';
export {
  planEmbedding,
  planIndex,
  positionBackwardOf,
  tableBackwardOf,
  type EmbeddingIndex,
  type EmbeddingPlan,
  type PositionCode,
} from './embedding/plan.ts';

/**
 * Builds the index from ids that live on the GPU (3 dispatches, no atomics): per-chunk counts,
 * one prefix sum, then a stable placement. Ids >= vocab are left out (the forward makes them NaN).
 */
export function embeddingIndexOnGpu(gpu: Gpu, ids: Tensor /* u32 [B, N] */, vocab: number, index: EmbeddingIndex): void {
  const what = 'embeddingIndexOnGpu';
  const plan = planIndex(what, ids, vocab);
  checkIndex(what, index, plan.rows, vocab);
  encodeEmbeddingIndex(gpu, plan, ids, index);
}

/**
 * dtable[v] = sum of dout[b, n, column : column + E] over the positions with id v, summed in
 * index order (deterministic). dout is [B, N, C]; dtable [V, E] is overwritten.
 */
export function embeddingTableBackward(
  gpu: Gpu,
  dout: Tensor, // [B, N, C]
  index: EmbeddingIndex,
  column: number,
  dtable: Tensor, // [V, E]
): void {
  const what = 'embeddingTableBackward';
  const plan = planTableBackward(what, dout, dtable, column);
  checkIndex(what, index, plan.rows, plan.vocab);
  encodeTableBackward(gpu, plan, dout, index, dtable);
}
