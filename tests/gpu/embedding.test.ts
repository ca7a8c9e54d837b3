import { describe, expect, it } from 'vitest';
import {
  buildEmbeddingIndex,
  embeddingForward as cpuForward,
  embeddingPositionBackward as cpuPositionBackward,
  embeddingTableBackward as cpuTableBackward,
  embeddingWidth,
  type Combine,
  type CpuPosition,
} from '../../src/engine/cpu/embedding.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import {
  embeddingIndexOnGpu,
  embeddingTableBackward,
  emptyEmbeddingIndex,
  uploadEmbeddingIndex,
  type PositionCode,
} from '../../src/engine/kernels/embedding.ts';
import { embed } from '../../src/engine/ops/embedding.ts';
import { Tape, empty, fromArray, variable } from '../../src/engine/tensor.ts';
import { checkDirectional, expectClose, randn, rng, toF64, useGpu } from '../helpers.ts';

interface Case {
  name: string;
  batch: number;
  seq: number;
  vocab: number;
  dim: number;
  position: 'learned' | 'sinusoidal' | null;
  posDim: number;
  posRows: number;
  combine: Combine;
}

// Odd sizes, none a multiple of a tile. 'wide' passes every tile: E = 70 > 64 features per
// workgroup of the table backward, 3 ids over 444 positions (each id spans several 64-entry
// segments), 444 > 256 positions per index chunk, Nmax * P = 450 > 256 threads.
const cases: Case[] = [
  { name: 'concat learned', batch: 3, seq: 37, vocab: 13, dim: 5, position: 'learned', posDim: 3, posRows: 41, combine: 'concat' },
  { name: 'add learned', batch: 2, seq: 11, vocab: 11, dim: 7, position: 'learned', posDim: 7, posRows: 11, combine: 'add' },
  { name: 'concat sinusoidal', batch: 2, seq: 37, vocab: 256, dim: 6, position: 'sinusoidal', posDim: 9, posRows: 0, combine: 'concat' },
  { name: 'add sinusoidal', batch: 1, seq: 13, vocab: 5, dim: 10, position: 'sinusoidal', posDim: 10, posRows: 0, combine: 'add' },
  { name: 'no position', batch: 5, seq: 3, vocab: 2, dim: 3, position: null, posDim: 0, posRows: 0, combine: 'concat' },
  { name: 'wide', batch: 4, seq: 111, vocab: 3, dim: 70, position: 'learned', posDim: 3, posRows: 150, combine: 'concat' },
];

function randomIds(n: number, vocab: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(r() * vocab));
}

interface Data {
  ids: Uint32Array;
  table: Float32Array;
  pos: Float32Array;
  dout: Float32Array;
  width: number;
}

function makeData(c: Case): Data {
  const width = embeddingWidth(c.dim, c.position ? { dim: c.posDim } : null, c.combine);
  return {
    ids: randomIds(c.batch * c.seq, c.vocab, 5),
    table: randn(c.vocab * c.dim, 6),
    pos: randn(Math.max(c.posRows * c.posDim, 1), 7),
    dout: randn(c.batch * c.seq * width, 8),
    width,
  };
}

/** Forward (and with `dout` the backward) through the op; returns what was read back. */
async function runGpu(gpu: Gpu, c: Case, d: Data, table: Float32Array, pos: Float32Array, opts: { hostIds: boolean; backward: boolean }) {
  const tape = new Tape(gpu);
  const ids = tape.own(fromArray(gpu, d.ids, [c.batch, c.seq], 'ids'));
  const tTable = tape.own(variable(gpu, table, [c.vocab, c.dim], 'table'));
  const tPos = c.position === 'learned' ? tape.own(variable(gpu, pos, [c.posRows, c.posDim], 'pos')) : null;
  const position: PositionCode =
    c.position === 'learned' ? { kind: 'learned', table: tPos! } : c.position === 'sinusoidal' ? { kind: 'sinusoidal', dim: c.posDim } : null;
  const out = embed(tape, ids, tTable, { position, combine: c.combine, hostIds: opts.hostIds ? d.ids : undefined });
  let dtable: Float32Array | null = null;
  let dpos: Float32Array | null = null;
  if (opts.backward) {
    tape.backward(out, tape.own(fromArray(gpu, d.dout, out.shape, 'dout')));
    dtable = await tTable.grad!.read();
    if (tPos) dpos = await tPos.grad!.read();
  }
  const y = await out.read();
  tape.dispose();
  return { out: y, dtable, dpos };
}

function cpuReference(c: Case, d: Data) {
  const dims = { batch: c.batch, seq: c.seq, vocab: c.vocab, dim: c.dim };
  const position: CpuPosition<Float64Array> =
    c.position === 'learned'
      ? { kind: 'learned', table: toF64(d.pos), rows: c.posRows, dim: c.posDim }
      : c.position === 'sinusoidal'
        ? { kind: 'sinusoidal', dim: c.posDim }
        : null;
  const out = new Float64Array(c.batch * c.seq * d.width);
  cpuForward(d.ids, toF64(d.table), position, c.combine, out, dims);
  const dout = toF64(d.dout);
  const dtable = new Float64Array(c.vocab * c.dim);
  cpuTableBackward(d.ids, dout, d.width, 0, dtable, dims);
  const dpos = new Float64Array(c.posRows * c.posDim);
  const column = c.combine === 'concat' ? c.dim : 0;
  if (c.position === 'learned') cpuPositionBackward(dout, d.width, column, dpos, { batch: c.batch, seq: c.seq, rows: c.posRows, dim: c.posDim });
  return { out, dtable, dpos };
}

describe('embedding on the GPU', () => {
  const gpu = useGpu();

  for (const c of cases) {
    it(`matches the CPU reference, forward and backward: ${c.name}`, async () => {
      const d = makeData(c);
      const ref = cpuReference(c, d);
      // Host-built index and GPU-built index must give bit-identical gradients: same sum order.
      const viaHost = await runGpu(gpu(), c, d, d.table, d.pos, { hostIds: true, backward: true });
      const viaGpu = await runGpu(gpu(), c, d, d.table, d.pos, { hostIds: false, backward: true });
      // An f32 angle n * freq is off by about n * 1e-7 rad; gathers and adds are exact to rounding.
      const atol = c.position === 'sinusoidal' ? 1e-6 + 2e-7 * c.seq : 1e-6;
      expectClose(viaHost.out, ref.out, { atol, rtol: 1e-6, label: `${c.name} out` });
      expectClose(viaHost.dtable!, ref.dtable, { atol: 2e-5, rtol: 1e-5, label: `${c.name} dtable` });
      expect(viaGpu.dtable).toEqual(viaHost.dtable);
      if (c.position === 'learned') {
        expectClose(viaHost.dpos!, ref.dpos, { atol: 1e-5, rtol: 1e-5, label: `${c.name} dpos` });
        expect(viaGpu.dpos).toEqual(viaHost.dpos);
      }
    });
  }

  for (const c of [cases[0]!, cases[1]!]) {
    it(`passes a directional-derivative check: ${c.name}`, async () => {
      const d = makeData(c);
      const g = await runGpu(gpu(), c, d, d.table, d.pos, { hostIds: true, backward: true });
      await checkDirectional({
        forward: async ([t, p]) => (await runGpu(gpu(), c, d, t!, p!, { hostIds: true, backward: false })).out,
        inputs: [d.table, d.pos],
        grads: [g.dtable!, g.dpos!],
        dout: d.dout,
        label: c.name,
      });
    });
  }

  it("keeps the sinusoidal code accurate across MNIST's 784 positions", async () => {
    const c: Case = { name: 'mnist code', batch: 1, seq: 784, vocab: 1, dim: 1, position: 'sinusoidal', posDim: 128, posRows: 0, combine: 'concat' };
    const d = makeData(c);
    const got = (await runGpu(gpu(), c, d, d.table, d.pos, { hostIds: true, backward: false })).out;
    const want = cpuReference(c, d).out;
    // f32 cannot hold the angle n * freq closer than about n * 6e-8; allow twice that per position.
    for (let n = 0; n < c.seq; n++) {
      const row = (k: Float32Array | Float64Array) => k.subarray(n * d.width, (n + 1) * d.width);
      expectClose(row(got), row(want), { atol: 1e-6 + 1.2e-7 * n, rtol: 0, label: `code at position ${n}` });
    }
  });

  it('sums the gradient of heavily repeated ids bit-identically from run to run', async () => {
    // 2 ids over 700 positions, id 0 on 90% of them: long chains across many segments and chunks.
    const c: Case = { name: 'repeats', batch: 7, seq: 100, vocab: 2, dim: 9, position: null, posDim: 0, posRows: 0, combine: 'add' };
    const d = makeData(c);
    const r = rng(3);
    d.ids = Uint32Array.from(d.ids, () => (r() < 0.9 ? 0 : 1));
    const runs = [];
    for (let k = 0; k < 3; k++) runs.push((await runGpu(gpu(), c, d, d.table, d.pos, { hostIds: k !== 1, backward: true })).dtable!);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    expectClose(runs[0]!, cpuReference(c, d).dtable, { atol: 1e-4, rtol: 1e-5, label: 'repeats dtable' });
  });

  it('differentiates a learned position table alone when the token table is frozen', async () => {
    const c = cases[0]!;
    const d = makeData(c);
    const tape = new Tape(gpu());
    const ids = tape.own(fromArray(gpu(), d.ids, [c.batch, c.seq], 'ids'));
    const table = tape.own(fromArray(gpu(), d.table, [c.vocab, c.dim], 'frozen table'));
    const pos = tape.own(variable(gpu(), d.pos, [c.posRows, c.posDim], 'pos'));
    const before = gpu().pool.inUseBytes;
    const out = embed(tape, ids, table, { position: { kind: 'learned', table: pos }, combine: c.combine });
    // Only the output was allocated: no index for a table that needs no gradient.
    expect(gpu().pool.inUseBytes - before).toBe(out.buffer.size);
    tape.backward(out, tape.own(fromArray(gpu(), d.dout, out.shape, 'dout')));
    expect(table.grad).toBeNull();
    expectClose(await pos.grad!.read(), cpuReference(c, d).dpos, { atol: 1e-5, rtol: 1e-5, label: 'dpos alone' });
    tape.dispose();
  });

  it('builds the same index on the GPU as on the host, leaving out ids >= V', async () => {
    const vocab = 7;
    const ids = randomIds(3 * 211, vocab + 2, 9); // some ids are 7 or 8: out of range
    const want = buildEmbeddingIndex(ids, vocab);
    const tIds = fromArray(gpu(), ids, [3, 211], 'ids');
    const index = emptyEmbeddingIndex(gpu(), ids.length, vocab, 'test.index');
    embeddingIndexOnGpu(gpu(), tIds, vocab, index);
    const valid = want.offsets[vocab]!;
    expect(valid).toBeLessThan(ids.length);
    expect(Array.from(await index.offsets.readU32())).toEqual(Array.from(want.offsets));
    expect(Array.from((await index.order.readU32()).subarray(0, valid))).toEqual(Array.from(want.order.subarray(0, valid)));
    expect(Array.from((await index.sortedIds.readU32()).subarray(0, valid))).toEqual(Array.from(want.sortedIds.subarray(0, valid)));
    for (const t of [tIds, index.offsets, index.order, index.sortedIds]) t.dispose();
  });

  it('keeps the table backward bounded when the index holds garbage offsets', async () => {
    // What a replay of the kernels over a reused pooled buffer sees (the profile's 'alone' timing):
    // offsets far past the positions made the reduce loop for billions of iterations and hang.
    const [rows, vocab, dim] = [300, 16, 16];
    const index = uploadEmbeddingIndex(gpu(), randomIds(rows, vocab, 4), vocab, 'garbage.index');
    // Every id's range starts at 0 and ends near 2^32 (one id's at 7, one's at 0x80000000).
    const garbage = Uint32Array.from({ length: vocab + 1 }, (_, v) => (v % 2 ? 0xfffffff0 : 0));
    garbage[5] = 7;
    garbage[9] = 0x80000000;
    index.offsets.write(garbage);
    const dout = fromArray(gpu(), randn(rows * dim, 5), [1, rows, dim], 'dout');
    const dtable = empty(gpu(), [vocab, dim], 'dtable');
    embeddingTableBackward(gpu(), dout, index, 0, dtable);
    const got = await dtable.read();
    expect(got.every(Number.isFinite)).toBe(true);
    for (const t of [dout, dtable, index.offsets, index.order, index.sortedIds]) t.dispose();
  }, 20_000);

  // Sampling embeds one token at a time at its position: offset o, N tokens give the codes of
  // o .. o + N - 1, bit for bit the rows of the whole sequence embedded at once.
  for (const c of [cases[0]!, cases[1]!, cases[2]!, cases[3]!]) {
    it(`embeds from a position offset as the CPU reference does, and as rows of the whole sequence: ${c.name}`, async () => {
      const g = gpu();
      const d = makeData(c);
      const whole = await runGpu(g, c, d, d.table, d.pos, { hostIds: true, backward: false });
      const seq = 3;
      for (const offset of [0, 4, c.seq - seq]) {
        const tape = new Tape(g, { grad: false });
        const ids = new Uint32Array(c.batch * seq); // [B, seq]: tokens offset .. offset + seq - 1
        for (let b = 0; b < c.batch; b++) ids.set(d.ids.subarray(b * c.seq + offset, b * c.seq + offset + seq), b * seq);
        const tIds = tape.own(fromArray(g, ids, [c.batch, seq], 'ids'));
        const tTable = tape.own(fromArray(g, d.table, [c.vocab, c.dim], 'table'));
        const tPos = c.position === 'learned' ? tape.own(fromArray(g, d.pos, [c.posRows, c.posDim], 'pos')) : null;
        const position: PositionCode = tPos ? { kind: 'learned', table: tPos } : { kind: 'sinusoidal', dim: c.posDim };
        const got = await embed(tape, tIds, tTable, { position, combine: c.combine, positionOffset: offset }).read();
        tape.dispose();

        const cpuPos: CpuPosition<Float64Array> =
          c.position === 'learned' ? { kind: 'learned', table: toF64(d.pos), rows: c.posRows, dim: c.posDim } : { kind: 'sinusoidal', dim: c.posDim };
        const want = new Float64Array(c.batch * seq * d.width);
        cpuForward(ids, toF64(d.table), cpuPos, c.combine, want, { batch: c.batch, seq, vocab: c.vocab, dim: c.dim }, offset);
        const atol = c.position === 'sinusoidal' ? 1e-6 + 2e-7 * (offset + seq) : 1e-6;
        expectClose(got, want, { atol, rtol: 1e-6, label: `${c.name} offset ${offset}` });
        const rows = new Float32Array(c.batch * seq * d.width); // the same rows of the whole sequence
        for (let b = 0; b < c.batch; b++) {
          rows.set(whole.out.subarray((b * c.seq + offset) * d.width, (b * c.seq + offset + seq) * d.width), b * seq * d.width);
        }
        expect(got).toEqual(rows);
      }
    });
  }

  it('refuses a position offset past a learned table, or with a learned table that needs a gradient', () => {
    const tape = new Tape(gpu());
    const ids = tape.own(fromArray(gpu(), Uint32Array.from([0, 1]), [1, 2], 'ids'));
    const table = tape.own(fromArray(gpu(), new Float32Array(8), [4, 2], 'table'));
    const pos = tape.own(fromArray(gpu(), new Float32Array(10), [5, 2], 'pos'));
    const learned = { kind: 'learned' as const, table: pos };
    const before = gpu().dispatchCount;
    expect(() => embed(tape, ids, table, { position: learned, combine: 'concat', positionOffset: 4 })).toThrow(
      /2 positions from offset 4 but the learned position table has 5 rows/,
    );
    expect(() => embed(tape, ids, table, { position: learned, combine: 'concat', positionOffset: -1 })).toThrow(
      /positionOffset must be a non-negative integer, got -1/,
    );
    const trained = tape.own(variable(gpu(), new Float32Array(10), [5, 2], 'trained pos'));
    expect(() => embed(tape, ids, table, { position: { kind: 'learned', table: trained }, combine: 'concat', positionOffset: 1 })).toThrow(
      /positionOffset 1 is for inference; the learned position table 'trained pos' needs a gradient/,
    );
    expect(gpu().dispatchCount).toBe(before);
    tape.dispose();
  });

  it('writes NaN rows for GPU-side ids outside the vocabulary', async () => {
    const tape = new Tape(gpu(), { grad: false });
    const ids = tape.own(fromArray(gpu(), Uint32Array.from([1, 5, 0]), [1, 3], 'ids'));
    const table = tape.own(fromArray(gpu(), Float32Array.from([1, 2, 3, 4]), [2, 2], 'table'));
    const out = await embed(tape, ids, table, { position: null, combine: 'add' }).read();
    expect(Array.from(out.subarray(0, 2))).toEqual([3, 4]);
    expect(out.subarray(2, 4).every(Number.isNaN)).toBe(true);
    expect(Array.from(out.subarray(4, 6))).toEqual([1, 2]);
    tape.dispose();
  });

  it('rejects bad inputs with messages that say what is wrong', () => {
    const tape = new Tape(gpu());
    const ids = tape.own(fromArray(gpu(), Uint32Array.from([0, 4]), [1, 2], 'ids'));
    const table = tape.own(variable(gpu(), new Float32Array(8), [4, 2], 'table'));
    const before = gpu().dispatchCount;
    expect(() => embed(tape, ids, table, { position: null, combine: 'add', hostIds: Uint32Array.from([0, 4]) })).toThrow(
      /id 4 at position 1 is outside the vocabulary \[0, 4\)/,
    );
    expect(() => embed(tape, ids, table, { position: { kind: 'sinusoidal', dim: 3 }, combine: 'add' })).toThrow(
      /'add' needs a position code of the table's 2 features, got 3/,
    );
    const pos = tape.own(variable(gpu(), new Float32Array(2), [1, 2], 'pos'));
    expect(() => embed(tape, ids, table, { position: { kind: 'learned', table: pos }, combine: 'concat' })).toThrow(
      /2 positions but the learned position table has 1 rows/,
    );
    expect(() => embed(tape, table, table, { position: null, combine: 'add' })).toThrow(/ids 'table' must be u32/);
    const dout = tape.own(fromArray(gpu(), new Float32Array(6), [1, 2, 3], 'dout'));
    const index = { offsets: ids, order: ids, sortedIds: ids };
    expect(() => embeddingTableBackward(gpu(), dout, index, 2, table)).toThrow(/2 features at column 2 do not fit in dout's 3/);
    expect(gpu().dispatchCount).toBe(before);
    tape.dispose();
  });
});
