// GPU primitives of shaders/embedding.wgsl: the embedding forward (token rows plus a learned or
// sinusoidal position code, added or concatenated), the deterministic backward into the token
// table through an index of positions grouped by id, the backward into a learned position table,
// and the index itself, from host ids (validated, then uploaded) or built on the GPU.
import embeddingWgsl from '../../../shaders/embedding.wgsl?raw';
import { buildEmbeddingIndex, checkIds, type Combine } from '../host/embedding.ts';
import { checkTensor, fail, shapeText } from '../check.ts';
import type { Gpu } from '../gpu.ts';
import { empty, fromArray, type Tensor } from '../tensor.ts';

export type { Combine } from '../host/embedding.ts';

/** A learned table [Nmax, P], a sinusoidal code of P features, or none. */
export type PositionCode = { kind: 'learned'; table: Tensor } | { kind: 'sinusoidal'; dim: number } | null;

/** Positions grouped by id (see HostEmbeddingIndex in cpu/embedding.ts); u32 tensors. */
export interface EmbeddingIndex {
  offsets: Tensor; // [V + 1]
  order: Tensor; // [B * N]
  sortedIds: Tensor; // [B * N]
}

const POS_KIND = { none: 0, learned: 1, sinusoidal: 2 } as const;
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

function kernel(gpu: Gpu, entry: string) {
  return gpu.kernel({
    label: 'embedding',
    code: embeddingWgsl,
    entry,
    constants: { WG: ELEMENTWISE_WG, EWG: TABLE_FEATURES_WG, SEG: SEGMENT, IWG: INDEX_WG },
  });
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
 * Checks ids [B, N], table [V, E], the position code and the offset of the first position (codes
 * of positions offset .. offset + N - 1, for sampling one token at a time); returns the sizes.
 */
export function checkEmbedInputs(what: string, ids: Tensor, table: Tensor, position: PositionCode, combine: Combine, positionOffset = 0) {
  checkTensor(what, 'ids', ids, { dtype: 'u32', rank: 2 });
  checkTensor(what, 'table', table, { dtype: 'f32', rank: 2 });
  if (combine !== 'add' && combine !== 'concat') fail(what, `combine must be 'add' or 'concat', got '${combine}'`);
  const [batch, seq] = ids.shape as [number, number];
  const [vocab, dim] = table.shape as [number, number];
  if (batch < 1 || seq < 1) fail(what, `ids must hold at least one token, shape ${shapeText(ids.shape)}`);
  if (vocab < 1 || dim < 1) fail(what, `table must have at least one row and feature, shape ${shapeText(table.shape)}`);
  if (!Number.isInteger(positionOffset) || positionOffset < 0) fail(what, `positionOffset must be a non-negative integer, got ${positionOffset}`);
  let posDim = 0;
  let posRows = 0;
  if (position) {
    if (position.kind === 'learned') {
      checkTensor(what, 'position table', position.table, { dtype: 'f32', rank: 2 });
      [posRows, posDim] = position.table.shape as [number, number];
      if (positionOffset + seq > posRows) {
        const from = positionOffset > 0 ? ` from offset ${positionOffset}` : '';
        fail(what, `${seq} positions${from} but the learned position table has ${posRows} rows`);
      }
    } else if (position.kind === 'sinusoidal') {
      posDim = position.dim;
    } else {
      fail(what, `unknown position kind '${(position as { kind: string }).kind}'`);
    }
    if (!Number.isInteger(posDim) || posDim < 1) fail(what, `the position code needs a positive integer dim, got ${posDim}`);
    if (combine === 'add' && posDim !== dim) {
      fail(what, `'add' needs a position code of the table's ${dim} features, got ${posDim} (use 'concat'?)`);
    }
  }
  const width = combine === 'concat' ? dim + posDim : dim;
  return { batch, seq, vocab, dim, posDim, posRows, width };
}

/**
 * out[b, n] = table[ids[b, n]] (+ or ++) position code of positionOffset + n. Ids >= V give NaN
 * rows. A non-zero offset embeds the next tokens of a sequence whose earlier ones were embedded
 * before (sampling step by step).
 */
export function embeddingForward(
  gpu: Gpu,
  ids: Tensor, // u32 [B, N]
  table: Tensor, // [V, E]
  position: PositionCode,
  combine: Combine,
  out: Tensor, // [B, N, C]
  positionOffset = 0,
): void {
  const what = 'embeddingForward';
  const s = checkEmbedInputs(what, ids, table, position, combine, positionOffset);
  checkTensor(what, 'out', out, { dtype: 'f32', rank: 3 });
  if (out.shape[0] !== s.batch || out.shape[1] !== s.seq || out.shape[2] !== s.width) {
    fail(what, `out '${out.label}' must be [${s.batch}, ${s.seq}, ${s.width}], it is ${shapeText(out.shape)}`);
  }
  const posTable = position?.kind === 'learned' ? position.table : table; // unread stand-in otherwise
  const threads = s.seq * s.width; // one per (n, c), looping over b
  kernel(gpu, 'embed_forward').run(
    { ids, table, pos_table: posTable, out },
    params({
      rows: s.batch * s.seq,
      seq: s.seq,
      vocab: s.vocab,
      dim: s.dim,
      pos_dim: s.posDim,
      pos_rows: s.posRows,
      width: s.width,
      column: combine === 'concat' ? s.dim : 0,
      pos_kind: position ? POS_KIND[position.kind] : POS_KIND.none,
      pos_offset: positionOffset,
    }),
    gpu.grid(Math.ceil(threads / ELEMENTWISE_WG)),
  );
}

/**
 * The index for ids known on the host: validates every id < vocab (throws naming the first bad
 * one), builds the stable counting sort on the CPU and uploads it. No GPU work besides the upload.
 */
export function embeddingIndexFromHost(gpu: Gpu, ids: Uint32Array, vocab: number, label = 'embedding.index'): EmbeddingIndex {
  if (!Number.isInteger(vocab) || vocab < 1) fail('embeddingIndexFromHost', `vocab must be a positive integer, got ${vocab}`);
  if (ids.length < 1) fail('embeddingIndexFromHost', 'no ids');
  checkIds(ids, vocab, 'embeddingIndexFromHost');
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

function checkIndex(what: string, index: EmbeddingIndex, rows: number, vocab: number): void {
  checkTensor(what, 'index.offsets', index.offsets, { dtype: 'u32', rank: 1 });
  checkTensor(what, 'index.order', index.order, { dtype: 'u32', rank: 1 });
  checkTensor(what, 'index.sortedIds', index.sortedIds, { dtype: 'u32', rank: 1 });
  if (index.offsets.size !== vocab + 1) fail(what, `index.offsets must hold V + 1 = ${vocab + 1} values, it has ${index.offsets.size}`);
  if (index.order.size !== rows || index.sortedIds.size !== rows) {
    fail(what, `index.order and index.sortedIds must hold B * N = ${rows} values, they have ${index.order.size} and ${index.sortedIds.size}`);
  }
}

/**
 * Builds the index from ids that live on the GPU (3 dispatches, no atomics): per-chunk counts,
 * one prefix sum, then a stable placement. Ids >= vocab are left out (the forward makes them NaN).
 */
export function embeddingIndexOnGpu(gpu: Gpu, ids: Tensor /* u32 [B, N] */, vocab: number, index: EmbeddingIndex): void {
  const what = 'embeddingIndexOnGpu';
  checkTensor(what, 'ids', ids, { dtype: 'u32', rank: 2 });
  if (!Number.isInteger(vocab) || vocab < 1) fail(what, `vocab must be a positive integer, got ${vocab}`);
  const rows = ids.size;
  if (rows < 1) fail(what, 'no ids');
  checkIndex(what, index, rows, vocab);
  const chunks = Math.ceil(rows / INDEX_WG);
  const counts = empty(gpu, [vocab, chunks], 'embedding.index.counts', 'u32'); // [V, chunks]
  const u = params({ rows, seq: rows, vocab, dim: 1, chunks });
  kernel(gpu, 'embed_index_count').run({ ids, counts }, u, gpu.grid(chunks));
  kernel(gpu, 'embed_index_scan').run({ counts, offsets_out: index.offsets }, u, [1]);
  kernel(gpu, 'embed_index_place').run(
    { ids, counts, order_out: index.order, sorted_ids_out: index.sortedIds },
    u,
    gpu.grid(chunks),
  );
  // Later work that reuses this pooled buffer is recorded after these dispatches, so it is safe.
  counts.dispose();
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
  checkTensor(what, 'dout', dout, { dtype: 'f32', rank: 3 });
  checkTensor(what, 'dtable', dtable, { dtype: 'f32', rank: 2 });
  const [batch, seq, width] = dout.shape as [number, number, number];
  const [vocab, dim] = dtable.shape as [number, number];
  const rows = batch * seq;
  if (rows < 1 || vocab < 1 || dim < 1) fail(what, `empty shapes: dout ${shapeText(dout.shape)}, dtable ${shapeText(dtable.shape)}`);
  if (!Number.isInteger(column) || column < 0 || column + dim > width) {
    fail(what, `the table's ${dim} features at column ${column} do not fit in dout's ${width}`);
  }
  checkIndex(what, index, rows, vocab);
  const partial = empty(gpu, [rows, dim], 'embedding.dtable.partial'); // [B * N, E]
  const u = params({ rows, seq, vocab, dim, width, column });
  const tiles = Math.ceil(dim / TABLE_FEATURES_WG);
  const segments = Math.ceil(rows / SEGMENT);
  kernel(gpu, 'embed_table_partial').run(
    { dout, offsets: index.offsets, order: index.order, sorted_ids: index.sortedIds, partial },
    u,
    gpu.grid(tiles * segments),
  );
  kernel(gpu, 'embed_table_reduce').run(
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
export function embeddingPositionBackward(
  gpu: Gpu,
  dout: Tensor, // [B, N, C]
  column: number,
  dpos: Tensor, // [Nmax, P]
): void {
  const what = 'embeddingPositionBackward';
  checkTensor(what, 'dout', dout, { dtype: 'f32', rank: 3 });
  checkTensor(what, 'dpos', dpos, { dtype: 'f32', rank: 2 });
  const [batch, seq, width] = dout.shape as [number, number, number];
  const [posRows, posDim] = dpos.shape as [number, number];
  if (batch * seq < 1 || posRows < 1 || posDim < 1) fail(what, `empty shapes: dout ${shapeText(dout.shape)}, dpos ${shapeText(dpos.shape)}`);
  if (seq > posRows) fail(what, `${seq} positions but dpos has ${posRows} rows`);
  if (!Number.isInteger(column) || column < 0 || column + posDim > width) {
    fail(what, `the code's ${posDim} features at column ${column} do not fit in dout's ${width}`);
  }
  kernel(gpu, 'embed_position_backward').run(
    { dout, dtable: dpos },
    params({ rows: batch * seq, seq, vocab: 1, dim: 1, pos_dim: posDim, pos_rows: posRows, width, column }),
    gpu.grid(Math.ceil((posRows * posDim) / ELEMENTWISE_WG)),
  );
}
