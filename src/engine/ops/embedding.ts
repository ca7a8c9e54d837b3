// The differentiable embedding: token rows gathered by id plus a position code, added or
// concatenated (MATH.md section 8: the copy task and MNIST concatenate a d/2 token embedding with a
// d/2 sinusoidal code). The forward builds, as an explicit output, the index of positions grouped
// by id that the deterministic backward into the table walks. The op checks and plans once
// (kernels/embedding/plan.ts) before it allocates; the kernels only encode.
import { checkIds } from '../host/embedding.ts';
import {
  emptyEmbeddingIndex,
  encodeEmbeddingForward,
  encodeEmbeddingIndex,
  encodePositionBackward,
  encodeTableBackward,
  planEmbedding,
  positionBackwardOf,
  tableBackwardOf,
  uploadEmbeddingIndex,
  type Combine,
  type EmbeddingIndex,
  type PositionCode,
} from '../kernels/embedding.ts';
import type { Tape, Tensor } from '../tensor.ts';

export type { Combine, PositionCode } from '../kernels/embedding.ts';

export interface EmbedOptions {
  position: PositionCode;
  combine: Combine;
  /**
   * The same ids on the host, when the caller uploaded them (training batches): they are checked
   * against the vocabulary (an error names the first bad one) and the backward's index is built on
   * the CPU. Without them the index is built on the GPU, and an id >= V is not caught: its output
   * row is NaN (so the loss turns NaN) and it adds nothing to d(table).
   */
  hostIds?: Uint32Array;
  /**
   * Position of the first token (default 0): the codes of positionOffset .. positionOffset + N - 1,
   * to embed the next token of a sequence while sampling. Inference only: a learned position
   * table that needs a gradient refuses a non-zero offset.
   */
  positionOffset?: number;
}

/** ids u32 [B, N], table [V, E] -> [B, N, E] ('add', or no position code) or [B, N, E + P] ('concat'). */
export function embed(tape: Tape, ids: Tensor, table: Tensor, opts: EmbedOptions): Tensor {
  const { position, combine, hostIds, positionOffset = 0 } = opts;
  const s = planEmbedding('embed', ids, table, position, combine, positionOffset);
  const rows = s.batch * s.seq;
  if (hostIds) {
    if (hostIds.length !== rows) throw new Error(`embed: hostIds holds ${hostIds.length} ids, ids '${ids.label}' ${rows}`);
    checkIds(hostIds, s.vocab, 'embed');
  }
  const gpu = tape.gpu;
  const learned = position?.kind === 'learned' ? position.table : null;
  const tableGrad = tape.needsGrad(table);
  const posGrad = learned !== null && tape.needsGrad(learned);
  if (posGrad && positionOffset !== 0) {
    throw new Error(`embed: positionOffset ${positionOffset} is for inference; the learned position table '${learned.label}' needs a gradient here`);
  }
  const out = tape.empty([s.batch, s.seq, s.width], 'embed.out'); // [B, N, C]
  encodeEmbeddingForward(gpu, s, ids, table, learned, out);

  if (!tableGrad && !posGrad) return out;

  // Built now, so the caller may reuse the ids buffer before the backward runs.
  let index: EmbeddingIndex | null = null;
  if (tableGrad) {
    if (hostIds) {
      index = uploadEmbeddingIndex(gpu, hostIds, s.vocab, 'embed.index');
    } else {
      index = emptyEmbeddingIndex(gpu, rows, s.vocab, 'embed.index');
      encodeEmbeddingIndex(gpu, { rows, vocab: s.vocab }, ids, index);
    }
    tape.own(index.offsets);
    tape.own(index.order);
    tape.own(index.sortedIds);
  }

  tape.tracks(out);
  tape.record('embed', [out], () => {
    const dout = out.grad!; // [B, N, C]
    if (index) {
      const dtable = tape.empty([s.vocab, s.dim], 'embed.dtable'); // [V, E]
      encodeTableBackward(gpu, tableBackwardOf(s), dout, index, dtable);
      tape.accumulate(table, dtable);
    }
    if (posGrad) {
      const dpos = tape.empty([s.posRows, s.posDim], 'embed.dpos'); // [Nmax, P]
      encodePositionBackward(gpu, positionBackwardOf(s), dout, dpos);
      tape.accumulate(learned, dpos);
    }
  });
  return out;
}
