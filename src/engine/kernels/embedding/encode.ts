// The encoders of the embedding family (shaders/embedding/): the forward, the GPU index build, the
// backward into the token table and into a learned position table, and the upload of an index
// built on the host. They record dispatches from a plan (plan.ts) and validate nothing.
import type { Gpu } from '../../gpu.ts';
import { buildEmbeddingIndex } from '../../host/embedding.ts';
import { empty, fromArray, type Tensor } from '../../tensor.ts';
import { POS_KIND, type EmbeddingIndex, type EmbeddingPlan, type IndexPlan, type PositionBackwardPlan, type TableBackwardPlan } from './plan.ts';
import { EMBEDDING_KERNELS, type EmbeddingKernel } from './shaders.ts';

const ELEMENTWISE_WG = 256;
/** Features per workgroup of the table backward's first stage (coalesced reads of a dout row). */
const TABLE_FEATURES_WG = 64;
/**
 * Sorted entries one thread adds before the per-id stage: the most frequent id's chain is
 * count / SEGMENT long instead of count, and the partial sums cost one store per segment.
 */
const SEGMENT = 64;
/** Positions per chunk of the GPU index build; the scan also runs on this many threads. */
const INDEX_WG = 256;

function kernel(gpu: Gpu, spec: EmbeddingKernel, constants: Record<string, number>) {
  return gpu.kernel({ ...spec, constants });
}

/** Every EmbedParams field; the entry points read the ones they need. */
type EmbedParams = {
  rows: number;
  seq: number;
  vocab: number;
  dim: number;
  pos_dim: number;
  pos_rows: number;
  width: number;
  column: number;
  pos_kind: number;
  chunks: number;
  pos_offset: number;
};

function params(p: Partial<EmbedParams> & Pick<EmbedParams, 'rows' | 'seq' | 'vocab' | 'dim'>): EmbedParams {
  return { pos_dim: 0, pos_rows: 0, width: p.dim, column: 0, pos_kind: POS_KIND.none, chunks: 0, pos_offset: 0, ...p };
}

/**
 * out[b, n] = table[ids[b, n]] (+ or ++) position code of positionOffset + n. Ids >= V give NaN
 * rows. `posTable` is the learned position table, null for any other code.
 */
export function encodeEmbeddingForward(
  gpu: Gpu,
  plan: EmbeddingPlan,
  ids: Tensor, // u32 [B, N]
  table: Tensor, // [V, E]
  posTable: Tensor | null, // [Nmax, P]
  out: Tensor, // [B, N, C]
): void {
  const threads = plan.seq * plan.width; // one per (n, c), looping over b
  kernel(gpu, EMBEDDING_KERNELS.forward, { WG: ELEMENTWISE_WG }).run(
    { ids, table, pos_table: posTable ?? table, out }, // an unread stand-in without a learned table
    params({
      rows: plan.batch * plan.seq,
      seq: plan.seq,
      vocab: plan.vocab,
      dim: plan.dim,
      pos_dim: plan.posDim,
      pos_rows: plan.posRows,
      width: plan.width,
      column: plan.column,
      pos_kind: plan.posKind,
      pos_offset: plan.positionOffset,
    }),
    gpu.grid(Math.ceil(threads / ELEMENTWISE_WG)),
  );
}

/** Uploads the index of ids known on the host (already checked against the vocabulary). */
export function uploadEmbeddingIndex(gpu: Gpu, ids: Uint32Array, vocab: number, label = 'embedding.index'): EmbeddingIndex {
  const h = buildEmbeddingIndex(ids, vocab);
  return {
    offsets: fromArray(gpu, h.offsets, [vocab + 1], `${label}.offsets`), // [V + 1]
    order: fromArray(gpu, h.order, [ids.length], `${label}.order`), // [B * N]
    sortedIds: fromArray(gpu, h.sortedIds, [ids.length], `${label}.sortedIds`), // [B * N]
  };
}

/** Allocates an index's tensors for `rows` positions and a vocabulary of `vocab` ids. */
export function emptyEmbeddingIndex(gpu: Gpu, rows: number, vocab: number, label = 'embedding.index'): EmbeddingIndex {
  return {
    offsets: empty(gpu, [vocab + 1], `${label}.offsets`, 'u32'), // [V + 1]
    order: empty(gpu, [rows], `${label}.order`, 'u32'), // [B * N]
    sortedIds: empty(gpu, [rows], `${label}.sortedIds`, 'u32'), // [B * N]
  };
}

/**
 * Builds the index from ids that live on the GPU (3 dispatches, no atomics): per-chunk counts,
 * one prefix sum, then a stable placement. Ids >= vocab are left out (the forward makes them NaN).
 */
export function encodeEmbeddingIndex(gpu: Gpu, plan: IndexPlan, ids: Tensor /* u32 [B, N] */, index: EmbeddingIndex): void {
  const { rows, vocab } = plan;
  const chunks = Math.ceil(rows / INDEX_WG);
  const counts = empty(gpu, [vocab, chunks], 'embedding.index.counts', 'u32'); // [V, chunks]
  const u = params({ rows, seq: rows, vocab, dim: 1, chunks });
  const c = { IWG: INDEX_WG };
  kernel(gpu, EMBEDDING_KERNELS.indexCount, c).run({ ids, counts }, u, gpu.grid(chunks));
  kernel(gpu, EMBEDDING_KERNELS.indexScan, c).run({ counts, offsets_out: index.offsets }, u, [1]);
  kernel(gpu, EMBEDDING_KERNELS.indexPlace, c).run(
    { ids, counts, order_out: index.order, sorted_ids_out: index.sortedIds },
    u,
    gpu.grid(chunks),
  );
  // Later work that reuses this pooled buffer is recorded after these dispatches, so it is safe.
  counts.dispose();
}

/**
 * dtable[v] = sum of dout[b, n, column : column + E] over the positions with id v, summed in
 * index order (deterministic). dtable [V, E] is overwritten.
 */
export function encodeTableBackward(gpu: Gpu, plan: TableBackwardPlan, dout: Tensor, index: EmbeddingIndex, dtable: Tensor): void {
  const { rows, seq, vocab, dim, width, column } = plan;
  const partial = empty(gpu, [rows, dim], 'embedding.dtable.partial'); // [B * N, E]
  const u = params({ rows, seq, vocab, dim, width, column });
  const tiles = Math.ceil(dim / TABLE_FEATURES_WG);
  const segments = Math.ceil(rows / SEGMENT);
  kernel(gpu, EMBEDDING_KERNELS.tablePartial, { EWG: TABLE_FEATURES_WG, SEG: SEGMENT }).run(
    { dout, offsets: index.offsets, order: index.order, sorted_ids: index.sortedIds, partial },
    u,
    gpu.grid(tiles * segments),
  );
  kernel(gpu, EMBEDDING_KERNELS.tableReduce, { WG: ELEMENTWISE_WG, SEG: SEGMENT }).run(
    { offsets: index.offsets, partial, dtable },
    u,
    gpu.grid(Math.ceil((vocab * dim) / ELEMENTWISE_WG)),
  );
  partial.dispose();
}

/**
 * dpos[n] = sum over b (in order) of dout[b, n, column : column + P] for n < N; rows N..Nmax-1
 * of dpos [Nmax, P] get 0.
 */
export function encodePositionBackward(gpu: Gpu, plan: PositionBackwardPlan, dout: Tensor, dpos: Tensor): void {
  const { rows, seq, posRows, posDim, width, column } = plan;
  kernel(gpu, EMBEDDING_KERNELS.positionBackward, { WG: ELEMENTWISE_WG }).run(
    { dout, dtable: dpos },
    params({ rows, seq, vocab: 1, dim: 1, pos_dim: posDim, pos_rows: posRows, width, column }),
    gpu.grid(Math.ceil((posRows * posDim) / ELEMENTWISE_WG)),
  );
}
