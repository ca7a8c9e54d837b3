// The plans of the embedding family: the forward's sizes (ids, table, position code, offset)
// checked and resolved once by the op, and the backward passes and the GPU index build derived
// from them (or, for a direct call, checked from the tensors given). encode.ts only reads them.
import { checkTensor, fail, shapeText } from '../../check.ts';
import type { Combine } from '../../host/embedding.ts';
import type { Tensor } from '../../tensor.ts';

/** A learned table [Nmax, P], a sinusoidal code of P features, or none. */
export type PositionCode = { kind: 'learned'; table: Tensor } | { kind: 'sinusoidal'; dim: number } | null;

/** Positions grouped by id (see HostEmbeddingIndex in host/embedding.ts); u32 tensors. */
export interface EmbeddingIndex {
  offsets: Tensor; // [V + 1]
  order: Tensor; // [B * N]
  sortedIds: Tensor; // [B * N]
}

/** The position code's kind as the WGSL numbers it (POS_* in shaders/embedding/params.wgsl). */
export const POS_KIND = { none: 0, learned: 1, sinusoidal: 2 } as const;

/** ids [B, N] and table [V, E] with a position code of P features, out [B, N, C]. */
export interface EmbeddingPlan {
  batch: number;
  seq: number;
  vocab: number;
  dim: number;
  posDim: number;
  /** Nmax of a learned table (0 otherwise). */
  posRows: number;
  /** C: E, or E + P when concatenated. */
  width: number;
  /** Where the position code starts in an output row: E when concatenated, else 0. */
  column: number;
  posKind: number;
  positionOffset: number;
}

/** The backward into the token table [V, E] from dout [B, N, C], its slice at `column`. */
export interface TableBackwardPlan {
  rows: number;
  seq: number;
  vocab: number;
  dim: number;
  width: number;
  column: number;
}

/** The backward into a learned position table [Nmax, P] from dout [B, N, C], its slice at `column`. */
export interface PositionBackwardPlan {
  rows: number;
  seq: number;
  posRows: number;
  posDim: number;
  width: number;
  column: number;
}

/** Building the index of `rows` ids of a vocabulary of V on the GPU. */
export interface IndexPlan {
  rows: number;
  vocab: number;
}

/**
 * Checks ids [B, N], table [V, E], the position code and the offset of the first position (codes
 * of positions offset .. offset + N - 1, for sampling one token at a time); returns the plan.
 */
export function planEmbedding(
  what: string,
  ids: Tensor,
  table: Tensor,
  position: PositionCode,
  combine: Combine,
  positionOffset = 0,
): EmbeddingPlan {
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
  const column = combine === 'concat' ? dim : 0;
  const posKind = position ? POS_KIND[position.kind] : POS_KIND.none;
  return { batch, seq, vocab, dim, posDim, posRows, width, column, posKind, positionOffset };
}

/** The token table's backward of a planned forward (its slice of dout starts at column 0). */
export function tableBackwardOf(p: EmbeddingPlan): TableBackwardPlan {
  return { rows: p.batch * p.seq, seq: p.seq, vocab: p.vocab, dim: p.dim, width: p.width, column: 0 };
}

/** The learned position table's backward of a planned forward. */
export function positionBackwardOf(p: EmbeddingPlan): PositionBackwardPlan {
  return { rows: p.batch * p.seq, seq: p.seq, posRows: p.posRows, posDim: p.posDim, width: p.width, column: p.column };
}

/** Checks ids u32 [B, N] and the vocabulary for an index built on the GPU. */
export function planIndex(what: string, ids: Tensor, vocab: number): IndexPlan {
  checkTensor(what, 'ids', ids, { dtype: 'u32', rank: 2 });
  if (!Number.isInteger(vocab) || vocab < 1) fail(what, `vocab must be a positive integer, got ${vocab}`);
  if (ids.size < 1) fail(what, 'no ids');
  return { rows: ids.size, vocab };
}

/** Checks an index's tensors hold V + 1 offsets and `rows` entries. */
export function checkIndex(what: string, index: EmbeddingIndex, rows: number, vocab: number): void {
  checkTensor(what, 'index.offsets', index.offsets, { dtype: 'u32', rank: 1 });
  checkTensor(what, 'index.order', index.order, { dtype: 'u32', rank: 1 });
  checkTensor(what, 'index.sortedIds', index.sortedIds, { dtype: 'u32', rank: 1 });
  if (index.offsets.size !== vocab + 1) fail(what, `index.offsets must hold V + 1 = ${vocab + 1} values, it has ${index.offsets.size}`);
  if (index.order.size !== rows || index.sortedIds.size !== rows) {
    fail(what, `index.order and index.sortedIds must hold B * N = ${rows} values, they have ${index.order.size} and ${index.sortedIds.size}`);
  }
}

/** Checks dout [B, N, C] and dtable [V, E] with the table's features at `column` of dout. */
export function planTableBackward(what: string, dout: Tensor, dtable: Tensor, column: number): TableBackwardPlan {
  checkTensor(what, 'dout', dout, { dtype: 'f32', rank: 3 });
  checkTensor(what, 'dtable', dtable, { dtype: 'f32', rank: 2 });
  const [batch, seq, width] = dout.shape as [number, number, number];
  const [vocab, dim] = dtable.shape as [number, number];
  const rows = batch * seq;
  if (rows < 1 || vocab < 1 || dim < 1) fail(what, `empty shapes: dout ${shapeText(dout.shape)}, dtable ${shapeText(dtable.shape)}`);
  if (!Number.isInteger(column) || column < 0 || column + dim > width) {
    fail(what, `the table's ${dim} features at column ${column} do not fit in dout's ${width}`);
  }
  return { rows, seq, vocab, dim, width, column };
}
