import { describe, expect, it } from 'vitest';
import {
  softmaxAttentionBackwardCpu,
  softmaxAttentionForwardCpu,
  type SoftmaxAttentionDims,
} from '../../src/engine/cpu/softmaxAttention.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import {
  SoftmaxKVCache,
  softmaxAttentionBackward,
  softmaxAttentionForward,
  type SoftmaxAttentionTiles,
  type SoftmaxAttentionVariant,
} from '../../src/engine/kernels/softmaxAttention.ts';
import { softmaxAttention } from '../../src/engine/ops/softmaxAttention.ts';
import { Tape, empty, fromArray, variable } from '../../src/engine/tensor.ts';
import { checkDirectional, expectClose, randn, toF64, uniform, useGpu } from '../helpers.ts';

const VARIANTS: SoftmaxAttentionVariant[] = ['gpu', 'swiftshader'];

interface Data {
  q: Float32Array; // [B, H, N, D]
  k: Float32Array; // [B, H, N, D]
  v: Float32Array; // [B, H, N, Dv]
  dOut: Float32Array; // [B, H, N, Dv]
}

function makeData(dims: SoftmaxAttentionDims, seed: number, qScale = 1): Data {
  const rows = dims.batch * dims.heads * dims.seq;
  return {
    q: randn(rows * dims.dim, seed, qScale),
    k: randn(rows * dims.dim, seed + 1),
    v: uniform(rows * dims.dimV, seed + 2),
    dOut: randn(rows * dims.dimV, seed + 3),
  };
}

function shapes(d: SoftmaxAttentionDims) {
  return { qk: [d.batch, d.heads, d.seq, d.dim], v: [d.batch, d.heads, d.seq, d.dimV], rows: [d.batch, d.heads, d.seq] };
}

interface RunOpts {
  variant: SoftmaxAttentionVariant;
  tiles?: SoftmaxAttentionTiles;
}

async function gpuForward(gpu: Gpu, dims: SoftmaxAttentionDims, causal: boolean, x: Data, o: RunOpts) {
  const s = shapes(dims);
  const q = fromArray(gpu, x.q, s.qk, 'q');
  const k = fromArray(gpu, x.k, s.qk, 'k');
  const v = fromArray(gpu, x.v, s.v, 'v');
  const out = empty(gpu, s.v, 'out'); // [B, H, N, Dv]
  const lse = empty(gpu, s.rows, 'lse'); // [B, H, N]
  softmaxAttentionForward(gpu, { q, k, v, out, lse, dims, causal, ...o });
  const res = { out: await out.read(), lse: await lse.read() };
  for (const t of [q, k, v, out, lse]) t.dispose();
  return res;
}

async function gpuForwardBackward(gpu: Gpu, dims: SoftmaxAttentionDims, causal: boolean, x: Data, o: RunOpts) {
  const s = shapes(dims);
  const q = fromArray(gpu, x.q, s.qk, 'q');
  const k = fromArray(gpu, x.k, s.qk, 'k');
  const v = fromArray(gpu, x.v, s.v, 'v');
  const dOut = fromArray(gpu, x.dOut, s.v, 'dOut');
  const out = empty(gpu, s.v, 'out'); // [B, H, N, Dv]
  const lse = empty(gpu, s.rows, 'lse'); // [B, H, N]
  const dq = empty(gpu, s.qk, 'dq'); // [B, H, N, D]
  const dk = empty(gpu, s.qk, 'dk'); // [B, H, N, D]
  const dv = empty(gpu, s.v, 'dv'); // [B, H, N, Dv]
  softmaxAttentionForward(gpu, { q, k, v, out, lse, dims, causal, ...o });
  softmaxAttentionBackward(gpu, { q, k, v, out, lse, dOut, dq, dk, dv, dims, causal, ...o });
  const res = { out: await out.read(), lse: await lse.read(), dq: await dq.read(), dk: await dk.read(), dv: await dv.read() };
  for (const t of [q, k, v, dOut, out, lse, dq, dk, dv]) t.dispose();
  return res;
}

function cpuForwardBackward(dims: SoftmaxAttentionDims, causal: boolean, x: Data) {
  const q = toF64(x.q);
  const k = toF64(x.k);
  const v = toF64(x.v);
  const dOut = toF64(x.dOut);
  const out = new Float64Array(v.length); // [B, H, N, Dv]
  const lse = new Float64Array(dims.batch * dims.heads * dims.seq); // [B, H, N]
  softmaxAttentionForwardCpu({ q, k, v, out, lse, dims, causal });
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  softmaxAttentionBackwardCpu({ q, k, v, out, lse, dOut, dq, dk, dv, dims, causal });
  return { out, lse, dq, dk, dv };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** float32 against float64: errors grow with the values' size, so atol scales with the largest. */
function compare(got: Record<string, Float32Array>, ref: Record<string, Float64Array>, names: string[], label: string) {
  for (const name of names) {
    const r = ref[name]!;
    expectClose(got[name]!, r, { atol: 2e-5 * Math.max(1, maxAbs(r)), rtol: 1e-4, label: `${label} ${name}` });
  }
}

const dims = (batch: number, heads: number, seq: number, dim: number, dimV: number): SoftmaxAttentionDims => ({
  batch,
  heads,
  seq,
  dim,
  dimV,
});

/** Every case runs causal and not, through both variants (and forced tiles where given). */
const CASES: { name: string; dims: SoftmaxAttentionDims; qScale?: number; tiles?: SoftmaxAttentionTiles }[] = [
  { name: 'B=2 H=3 N=37 D=5 Dv=7', dims: dims(2, 3, 37, 5, 7) },
  { name: 'N=1', dims: dims(1, 2, 1, 5, 7) },
  { name: 'N=70 (3 blocks of 32)', dims: dims(1, 2, 70, 5, 7) },
  // Scores past +-88 overflow exp in float32 without the max subtraction.
  { name: 'q scaled by 30', dims: dims(1, 2, 37, 5, 7), qScale: 30 },
  // bq != bk: causal key blocks that some rows of the query block cannot see at all.
  { name: 'tiles 8x4', dims: dims(1, 2, 37, 5, 7), tiles: { bq: 8, bk: 4 } },
  { name: 'tiles 4x8', dims: dims(1, 2, 37, 5, 7), tiles: { bq: 4, bk: 8 } },
  // Several accumulator slots per thread (D=33: 5, Dv=66: 9) and even-stride padding.
  { name: 'D=33 Dv=66', dims: dims(1, 1, 41, 33, 66) },
  // The largest heads take the smallest tiles.
  { name: 'D=Dv=128', dims: dims(1, 1, 19, 128, 128) },
];

describe('softmax attention on the GPU', () => {
  const gpu = useGpu();

  for (const c of CASES) {
    for (const causal of [false, true]) {
      it(`forward and backward match the CPU (${c.name}, ${causal ? 'causal' : 'full'})`, async () => {
        const x = makeData(c.dims, 17, c.qScale);
        const ref = cpuForwardBackward(c.dims, causal, x);
        if (c.qScale) expect(maxAbs(ref.lse)).toBeGreaterThan(88);
        for (const variant of VARIANTS) {
          if (c.tiles && variant === 'swiftshader') continue; // tiles apply to the tiled kernels only
          const got = await gpuForwardBackward(gpu(), c.dims, causal, x, { variant, tiles: c.tiles });
          compare(got, ref, ['out', 'lse', 'dq', 'dk', 'dv'], `${variant} ${c.name} causal=${causal}`);
        }
      });
    }
  }

  for (const variant of VARIANTS) {
    for (const causal of [false, true]) {
      it(`backward matches directional derivatives of the forward (${variant}, ${causal ? 'causal' : 'full'})`, async () => {
        const d = dims(1, 2, 37, 5, 7);
        const x = makeData(d, 23);
        const g = await gpuForwardBackward(gpu(), d, causal, x, { variant });
        await checkDirectional({
          forward: async ([q, k, v]) => (await gpuForward(gpu(), d, causal, { ...x, q: q!, k: k!, v: v! }, { variant })).out,
          inputs: [x.q, x.k, x.v],
          grads: [g.dq, g.dk, g.dv],
          dout: x.dOut,
          label: `${variant} causal=${causal}`,
        });
      });
    }
  }

  it('repeats bit for bit', async () => {
    const d = dims(2, 3, 37, 5, 7);
    const x = makeData(d, 31);
    for (const variant of VARIANTS) {
      const a = await gpuForwardBackward(gpu(), d, true, x, { variant });
      const b = await gpuForwardBackward(gpu(), d, true, x, { variant });
      for (const name of ['out', 'lse', 'dq', 'dk', 'dv'] as const) {
        expectClose(a[name], b[name], { atol: 0, rtol: 0, label: `${variant} ${name} rerun` });
      }
    }
  });

  it('runs the tiled forward at N=4096 (B=1, H=2, D=16, causal)', async () => {
    const d = dims(1, 2, 4096, 16, 16);
    const x = makeData(d, 41);
    const got = await gpuForward(gpu(), d, true, x, { variant: 'gpu' });
    // The reference costs O(N) per row: check rows across the sequence, both heads, first and last.
    const rowsToCheck = [0, 1, 31, 32, 1000, 2047, 2048, 4095];
    const n = d.seq;
    const q = toF64(x.q);
    const k = toF64(x.k);
    const v = toF64(x.v);
    for (const h of [0, 1]) {
      for (const i of rowsToCheck) {
        // Row i of a causal head is the last row of the attention over its prefix 0..i.
        const pre = dims(1, 1, i + 1, d.dim, d.dimV);
        const base = h * n;
        const out = new Float64Array((i + 1) * d.dimV); // [1, 1, i + 1, Dv]
        const lse = new Float64Array(i + 1); // [1, 1, i + 1]
        softmaxAttentionForwardCpu({
          q: q.subarray(base * d.dim, (base + i + 1) * d.dim),
          k: k.subarray(base * d.dim, (base + i + 1) * d.dim),
          v: v.subarray(base * d.dimV, (base + i + 1) * d.dimV),
          out,
          lse,
          dims: pre,
          causal: false,
        });
        const g = base + i;
        expectClose(got.out.subarray(g * d.dimV, (g + 1) * d.dimV), out.subarray(i * d.dimV), {
          atol: 2e-5,
          rtol: 1e-4,
          label: `N=4096 head ${h} row ${i} out`,
        });
        expectClose([got.lse[g]!], [lse[i]!], { atol: 2e-5, rtol: 1e-5, label: `N=4096 head ${h} row ${i} lse` });
      }
    }
  });

  it('differentiates through the tape like the primitives', async () => {
    const d = dims(2, 1, 13, 5, 3);
    const x = makeData(d, 51);
    const s = shapes(d);
    const ref = cpuForwardBackward(d, true, x);
    const tape = new Tape(gpu());
    const q = variable(gpu(), x.q, s.qk, 'q');
    const k = variable(gpu(), x.k, s.qk, 'k');
    const v = variable(gpu(), x.v, s.v, 'v');
    const out = softmaxAttention(tape, q, k, v, { causal: true });
    const seed = tape.own(fromArray(gpu(), x.dOut, s.v, 'dOut'));
    tape.backward(out, seed);
    const got = { out: await out.read(), dq: await q.grad!.read(), dk: await k.grad!.read(), dv: await v.grad!.read() };
    compare(got, ref, ['out', 'dq', 'dk', 'dv'], 'op');
    tape.dispose();
    for (const t of [q, k, v]) t.dispose();
  });

  it('records nothing on an inference tape', async () => {
    const d = dims(1, 1, 5, 3, 3);
    const x = makeData(d, 53);
    const s = shapes(d);
    const tape = new Tape(gpu(), { grad: false });
    const q = variable(gpu(), x.q, s.qk, 'q');
    const out = softmaxAttention(tape, q, q, fromArray(gpu(), x.v, s.v, 'v'), { causal: false });
    expect(tape.needsGrad(out)).toBe(false);
    expect((await out.read()).length).toBe(15);
    tape.dispose();
    q.dispose();
  });

  it('rejects bad inputs before allocating anything', () => {
    const d = dims(1, 2, 5, 3, 4);
    const s = shapes(d);
    const q = empty(gpu(), s.qk, 'q');
    const v = empty(gpu(), s.v, 'v');
    const wrong = empty(gpu(), [1, 2, 5, 4], 'wrong');
    const out = empty(gpu(), s.v, 'out');
    const lse = empty(gpu(), s.rows, 'lse');
    const used = gpu().pool.inUseBytes;
    const tape = new Tape(gpu());
    expect(() => softmaxAttention(tape, q, wrong, v, { causal: true })).toThrow(/k has shape \[1, 2, 5, 4\]; q has \[1, 2, 5, 3\]/);
    expect(() => softmaxAttention(tape, q, q, v, { causal: 1 as unknown as boolean })).toThrow(/causal must be true or false/);
    expect(() => softmaxAttention(tape, q, q, v, { causal: true, tiles: { bq: 32, bk: 64 } })).toThrow(/tiles.bk must be/);
    expect(gpu().pool.inUseBytes).toBe(used);
    expect(() => softmaxAttentionForward(gpu(), { q, k: q, v, out: v, lse, dims: d, causal: false })).toThrow(
      /out 'v' shares its buffer with v/,
    );
    expect(() => softmaxAttentionForward(gpu(), { q, k: q, v, out, lse: out, dims: d, causal: false })).toThrow(
      /lse 'out' has shape \[1, 2, 5, 4\]; expected \[1, 2, 5\]/,
    );
    expect(() =>
      softmaxAttentionForward(gpu(), { q, k: q, v, out, lse, dims: { ...d, dim: 129 }, causal: false }),
    ).toThrow(/dims.dim = 129 exceeds the largest head size 128/);
    const big = dims(1, 1, 4, 128, 128);
    const qb = empty(gpu(), shapes(big).qk, 'qb');
    expect(() =>
      softmaxAttentionForward(gpu(), {
        q: qb, k: qb, v: qb, out: empty(gpu(), shapes(big).v, 'ob'), lse: empty(gpu(), shapes(big).rows, 'lb'),
        dims: big, causal: true, variant: 'gpu', tiles: { bq: 32, bk: 32 },
      }),
    ).toThrow(/need \d+ bytes of workgroup memory for dim 128, dimV 128; the limit is 16384/);
    for (const t of [q, v, wrong, out, lse, qb]) t.dispose();
  });

  describe('KV cache decoding', () => {
    async function decode(d: SoftmaxAttentionDims, x: Data, cache: SoftmaxKVCache) {
      const { batch: b, heads: h, seq: n, dim, dimV } = d;
      const rows = new Float32Array(b * h * n * dimV); // [B, H, N, Dv]
      const token = (src: Float32Array, width: number, t: number) => {
        const a = new Float32Array(b * h * width); // [B, H, 1, width]
        for (let g = 0; g < b * h; g++) a.set(src.subarray((g * n + t) * width, (g * n + t + 1) * width), g * width);
        return a;
      };
      for (let t = 0; t < n; t++) {
        const q = fromArray(gpu(), token(x.q, dim, t), [b, h, 1, dim], 'q_t');
        const k = fromArray(gpu(), token(x.k, dim, t), [b, h, 1, dim], 'k_t');
        const v = fromArray(gpu(), token(x.v, dimV, t), [b, h, 1, dimV], 'v_t');
        const out = cache.step(q, k, v);
        const o = await out.read();
        for (let g = 0; g < b * h; g++) rows.set(o.subarray(g * dimV, (g + 1) * dimV), (g * n + t) * dimV);
        for (const z of [q, k, v, out]) z.dispose();
      }
      return rows;
    }

    const DECODE_CASES = [
      { name: 'B=2 H=3 D=5 Dv=7, 37 steps', dims: dims(2, 3, 37, 5, 7) },
      // More than one block of 64 keys per step, and two output columns per thread (Dv > 64).
      { name: 'B=1 H=1 D=3 Dv=70, 70 steps', dims: dims(1, 1, 70, 3, 70) },
    ];
    for (const c of DECODE_CASES) {
      it(`reproduces the causal parallel forward step by step (${c.name})`, async () => {
        const x = makeData(c.dims, 61, 3);
        const parallel = await gpuForward(gpu(), c.dims, true, x, { variant: 'gpu' });
        const cache = new SoftmaxKVCache(gpu(), { ...c.dims, maxSeq: c.dims.seq + 3 });
        const stepped = await decode(c.dims, x, cache);
        expect(cache.length).toBe(c.dims.seq);
        expectClose(stepped, parallel.out, { atol: 1e-5, rtol: 1e-5, label: `decode ${c.name}` });
        cache.dispose();
      });
    }

    it('refuses a token past maxSeq and starts over after reset()', async () => {
      const d = dims(1, 2, 4, 3, 2);
      const x = makeData(d, 71);
      const cache = new SoftmaxKVCache(gpu(), { batch: 1, heads: 2, dim: 3, dimV: 2, maxSeq: 4 });
      const first = await decode(d, x, cache);
      const q = empty(gpu(), [1, 2, 1, 3], 'q');
      const v = empty(gpu(), [1, 2, 1, 2], 'v');
      expect(() => cache.step(q, q, v)).toThrow(/the cache is full \(4 tokens\)/);
      expect(() => cache.step(q, q, q)).toThrow(/v 'q' has shape \[1, 2, 1, 3\]; expected \[1, 2, 1, 2\]/);
      cache.reset();
      expect(cache.length).toBe(0);
      expectClose(await decode(d, x, cache), first, { atol: 0, rtol: 0, label: 'after reset' });
      for (const t of [q, v]) t.dispose();
      cache.dispose();
      expect(() => new SoftmaxKVCache(gpu(), { batch: 1, heads: 1, dim: 3, dimV: 2, maxSeq: 0 })).toThrow(
        /maxSeq must be a positive integer; got 0/,
      );
    });
  });
});
