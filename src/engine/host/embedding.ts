// Host-side parts of token embedding the GPU path needs: the id check, the sinusoid base and the
// per-id index of positions the table backward reads (src/engine/kernels/embedding/).

export type Combine = 'add' | 'concat';

/** Vaswani et al.'s base: wavelengths grow geometrically from 2 pi to 10000 * 2 pi. */
export const SINUSOID_BASE = 10000;

/** Throws on the first id outside [0, vocab), naming where it is. */
export function checkIds(ids: ArrayLike<number>, vocab: number, what: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < vocab && Number.isInteger(id))) {
      throw new Error(`${what}: id ${id} at position ${i} is outside the vocabulary [0, ${vocab})`);
    }
  }
}

/**
 * Positions grouped by id, the index the GPU's deterministic scatter-add walks: for each id v,
 * order[offsets[v] .. offsets[v+1]) lists the positions holding v in increasing order (a stable
 * counting sort), and sortedIds[k] = ids[order[k]]. Ids outside the vocabulary are left out, so
 * offsets[vocab] counts the valid ones. Arrays are sized for every position; entries past
 * offsets[vocab] are 0.
 */
export interface HostEmbeddingIndex {
  offsets: Uint32Array; // [V + 1]
  order: Uint32Array; // [B * N]
  sortedIds: Uint32Array; // [B * N]
}

export function buildEmbeddingIndex(ids: Uint32Array, vocab: number): HostEmbeddingIndex {
  const offsets = new Uint32Array(vocab + 1);
  for (const id of ids) if (id < vocab) offsets[id + 1]++;
  for (let v = 0; v < vocab; v++) offsets[v + 1] += offsets[v]!;
  const next = offsets.slice(0, vocab);
  const order = new Uint32Array(ids.length);
  const sortedIds = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id >= vocab) continue;
    const k = next[id]++;
    order[k] = i;
    sortedIds[k] = id;
  }
  return { offsets, order, sortedIds };
}
