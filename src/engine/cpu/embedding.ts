// CPU references for shaders/embedding.wgsl: token embedding gathered by id, a learned or
// sinusoidal position code added to it or concatenated after it, and the backwards into both
// tables. Plain loops in position order, generic over Float32Array | Float64Array so the tests can
// take finite differences in float64. Outputs are written into arrays the caller passes, as the
// GPU primitives write into tensors.
import { SINUSOID_BASE, checkIds, type Combine } from '../host/embedding.ts';
export { SINUSOID_BASE, checkIds, buildEmbeddingIndex, type Combine, type HostEmbeddingIndex } from '../host/embedding.ts';

export type Arr = Float32Array | Float64Array;
export interface EmbedDims {
  /** B sequences of N tokens, a vocabulary of V rows of E features. */
  batch: number;
  seq: number;
  vocab: number;
  dim: number;
}

/** A learned table [rows = Nmax, dim = P], a sinusoidal code of `dim` features, or none. */
export type CpuPosition<T extends Arr> =
  | { kind: 'learned'; table: T; rows: number; dim: number }
  | { kind: 'sinusoidal'; dim: number }
  | null;

/**
 * The sinusoidal code of Vaswani et al. (2017), 0-based position `pos`, feature j of `dim`:
 * even j = 2i holds sin(pos / 10000^(2i/dim)), odd j = 2i+1 holds cos(pos / 10000^(2i/dim)), so
 * each (sin, cos) pair shares one frequency. With an odd `dim` the last feature is a sin.
 */
export function sinusoidal(pos: number, j: number, dim: number): number {
  const pair = Math.floor(j / 2);
  const angle = pos * Math.pow(SINUSOID_BASE, (-2 * pair) / dim);
  return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
}

/** Features per output token: E, or E + P when the position code is concatenated. */
export function embeddingWidth(dim: number, position: { dim: number } | null, combine: Combine): number {
  return combine === 'concat' && position ? dim + position.dim : dim;
}

/**
 * out[b, n, :] = table[ids[b, n]] with the position code of positionOffset + n added or appended
 * (an offset embeds later tokens of a sequence, one step of sampling at a time).
 */
export function embeddingForward<T extends Arr>(
  ids: Uint32Array, // [B, N]
  table: T, // [V, E]
  position: CpuPosition<T>,
  combine: Combine,
  out: T, // [B, N, C]
  dims: EmbedDims,
  positionOffset = 0,
): void {
  const { batch, seq, vocab, dim } = dims;
  const width = embeddingWidth(dim, position, combine);
  checkIds(ids, vocab, 'embeddingForward');
  if (position && combine === 'add' && position.dim !== dim) {
    throw new Error(`embeddingForward: 'add' needs a position code of ${dim} features, got ${position.dim}`);
  }
  if (!Number.isInteger(positionOffset) || positionOffset < 0) {
    throw new Error(`embeddingForward: positionOffset must be a non-negative integer, got ${positionOffset}`);
  }
  if (position?.kind === 'learned' && positionOffset + seq > position.rows) {
    throw new Error(`embeddingForward: ${seq} positions from offset ${positionOffset} but the learned table has ${position.rows} rows`);
  }
  const column = combine === 'concat' ? dim : 0;
  for (let b = 0; b < batch; b++) {
    for (let n = 0; n < seq; n++) {
      const row = b * seq + n;
      const id = ids[row]!;
      for (let e = 0; e < width; e++) out[row * width + e] = e < dim ? table[id * dim + e]! : 0;
      if (!position) continue;
      for (let p = 0; p < position.dim; p++) {
        const at = positionOffset + n;
        const code = position.kind === 'learned' ? position.table[at * position.dim + p]! : sinusoidal(at, p, position.dim);
        out[row * width + column + p] += code;
      }
    }
  }
}

/**
 * d(table)[v] = sum of dout[b, n, column : column + E] over the positions whose id is v, in
 * position order. Ids outside the vocabulary contribute nothing.
 */
export function embeddingTableBackward<T extends Arr>(
  ids: Uint32Array, // [B, N]
  dout: T, // [B, N, C]
  width: number, // C
  column: number,
  dtable: T, // [V, E]
  dims: EmbedDims,
): void {
  const { batch, seq, vocab, dim } = dims;
  dtable.fill(0);
  for (let row = 0; row < batch * seq; row++) {
    const id = ids[row]!;
    if (id >= vocab) continue;
    for (let e = 0; e < dim; e++) dtable[id * dim + e] += dout[row * width + column + e]!;
  }
}

/** d(position table)[n] = sum over b of dout[b, n, column : column + P]; rows n >= N get 0. */
export function embeddingPositionBackward<T extends Arr>(
  dout: T, // [B, N, C]
  width: number, // C
  column: number,
  dpos: T, // [Nmax, P]
  dims: { batch: number; seq: number; rows: number; dim: number },
): void {
  const { batch, seq, rows, dim } = dims;
  dpos.fill(0);
  for (let n = 0; n < Math.min(seq, rows); n++) {
    for (let p = 0; p < dim; p++) {
      let s = 0;
      for (let b = 0; b < batch; b++) s += dout[(b * seq + n) * width + column + p]!;
      dpos[n * dim + p] = s;
    }
  }
}
