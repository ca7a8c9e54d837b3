import { describe, expect, it } from 'vitest';
import {
  buildEmbeddingIndex,
  checkIds,
  embeddingForward,
  embeddingPositionBackward,
  embeddingTableBackward,
  embeddingWidth,
  sinusoidal,
  type Combine,
  type CpuPosition,
  type EmbedDims,
} from '../../src/engine/cpu/embedding.ts';
import { dot, expectClose, finiteDiff, randn, rng, toF64 } from '../helpers.ts';

function randomIds(n: number, vocab: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(r() * vocab));
}

interface Case {
  name: string;
  dims: EmbedDims;
  position: 'learned' | 'sinusoidal' | null;
  posDim: number;
  posRows: number;
  combine: Combine;
}

// Small vocabularies so ids repeat (the scatter-add has to sum them); N < Nmax for learned tables.
const cases: Case[] = [
  { name: 'concat learned', dims: { batch: 3, seq: 5, vocab: 4, dim: 3 }, position: 'learned', posDim: 2, posRows: 7, combine: 'concat' },
  { name: 'add learned', dims: { batch: 2, seq: 4, vocab: 3, dim: 5 }, position: 'learned', posDim: 5, posRows: 4, combine: 'add' },
  { name: 'concat sinusoidal', dims: { batch: 2, seq: 6, vocab: 5, dim: 4 }, position: 'sinusoidal', posDim: 3, posRows: 0, combine: 'concat' },
  { name: 'add sinusoidal', dims: { batch: 2, seq: 3, vocab: 2, dim: 6 }, position: 'sinusoidal', posDim: 6, posRows: 0, combine: 'add' },
  { name: 'no position', dims: { batch: 1, seq: 7, vocab: 3, dim: 2 }, position: null, posDim: 0, posRows: 0, combine: 'add' },
];

function makePosition(c: Case, posTable: Float64Array): CpuPosition<Float64Array> {
  if (c.position === 'learned') return { kind: 'learned', table: posTable, rows: c.posRows, dim: c.posDim };
  if (c.position === 'sinusoidal') return { kind: 'sinusoidal', dim: c.posDim };
  return null;
}

describe('embedding CPU reference', () => {
  it('lays out the sinusoidal code as sin on even features, cos on odd ones', () => {
    const dim = 6;
    for (const pos of [0, 1, 7, 100]) {
      for (let pair = 0; pair < dim / 2; pair++) {
        const angle = pos / Math.pow(10000, (2 * pair) / dim);
        expect(sinusoidal(pos, 2 * pair, dim)).toBeCloseTo(Math.sin(angle), 14);
        expect(sinusoidal(pos, 2 * pair + 1, dim)).toBeCloseTo(Math.cos(angle), 14);
      }
    }
    // An odd dim ends on a sin of the next pair's frequency.
    expect(sinusoidal(3, 4, 5)).toBeCloseTo(Math.sin(3 / Math.pow(10000, 4 / 5)), 14);
  });

  it('gathers rows and places the code', () => {
    const ids = Uint32Array.from([2, 0]);
    const table = Float64Array.from([10, 11, 20, 21, 30, 31]); // [3, 2]
    const pos = Float64Array.from([1, 2, 3, 4]); // [2, 2]
    const dims = { batch: 1, seq: 2, vocab: 3, dim: 2 };
    const learned = { kind: 'learned' as const, table: pos, rows: 2, dim: 2 };
    const cat = new Float64Array(8);
    embeddingForward(ids, table, learned, 'concat', cat, dims);
    expect(Array.from(cat)).toEqual([30, 31, 1, 2, 10, 11, 3, 4]);
    const add = new Float64Array(4);
    embeddingForward(ids, table, learned, 'add', add, dims);
    expect(Array.from(add)).toEqual([31, 33, 13, 15]);
  });

  for (const c of cases) {
    it(`backward matches float64 finite differences: ${c.name}`, () => {
      const { batch, seq, vocab, dim } = c.dims;
      const ids = randomIds(batch * seq, vocab, 11);
      const width = embeddingWidth(dim, c.position ? { dim: c.posDim } : null, c.combine);
      const table = toF64(randn(vocab * dim, 1));
      const posTable = toF64(randn(Math.max(c.posRows, 1) * Math.max(c.posDim, 1), 2));
      const dout = toF64(randn(batch * seq * width, 3));
      const out = new Float64Array(batch * seq * width);
      const f = ([t, pt]: Float64Array[]) => {
        embeddingForward(ids, t!, makePosition(c, pt!), c.combine, out, c.dims);
        return dot(out, dout);
      };
      const [gTable, gPos] = finiteDiff(f, [table, posTable]);
      const dtable = new Float64Array(vocab * dim);
      const column = c.combine === 'concat' ? dim : 0;
      embeddingTableBackward(ids, dout, width, 0, dtable, c.dims);
      expectClose(dtable, gTable!, { atol: 1e-8, label: `${c.name} dtable` });
      if (c.position === 'learned') {
        const dpos = new Float64Array(c.posRows * c.posDim);
        embeddingPositionBackward(dout, width, column, dpos, { batch, seq, rows: c.posRows, dim: c.posDim });
        expectClose(dpos, gPos!, { atol: 1e-8, label: `${c.name} dpos` });
      } else {
        // A sinusoidal code (or none) has no parameters: the output ignores posTable.
        expectClose(gPos!, new Float64Array(gPos!.length), { atol: 1e-9, label: `${c.name} no dpos` });
      }
    });
  }

  it('rejects bad ids and mismatched add widths', () => {
    expect(() => checkIds(Uint32Array.from([0, 3, 4]), 4, 'test')).toThrow(/id 4 at position 2 .*\[0, 4\)/);
    const dims = { batch: 1, seq: 1, vocab: 2, dim: 3 };
    expect(() =>
      embeddingForward(Uint32Array.from([0]), new Float64Array(6), { kind: 'sinusoidal', dim: 2 }, 'add', new Float64Array(3), dims),
    ).toThrow(/'add' needs a position code of 3 features, got 2/);
  });

  it('groups positions by id in a stable order and leaves out-of-range ids out', () => {
    const ids = Uint32Array.from([2, 0, 2, 9, 1, 0, 2]);
    const h = buildEmbeddingIndex(ids, 3);
    expect(Array.from(h.offsets)).toEqual([0, 2, 3, 6]);
    expect(Array.from(h.order.subarray(0, 6))).toEqual([1, 5, 4, 0, 2, 6]);
    expect(Array.from(h.sortedIds.subarray(0, 6))).toEqual([0, 0, 1, 2, 2, 2]);
  });
});
