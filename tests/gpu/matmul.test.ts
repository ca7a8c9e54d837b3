// The matmul family on a real WebGPU adapter: both kernel variants against the CPU reference on
// odd shapes (none a multiple of a tile; 67 x 130 x 33 spans several tiles in M, N and K), every
// transpose, bias, accumulate, shared operands, batch sums and split-K; the column sum; the
// differentiable ops against the CPU backward and by directional derivatives.
import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/matmul.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import { ROW_CHUNK, matmulGflops, matmulInto, planMatmul, planSumRows, sumRowsInto, type MatmulVariant } from '../../src/engine/kernels/matmul.ts';
import { linear, matmul } from '../../src/engine/ops/matmul.ts';
import { Tape, fromArray, variable, type Tensor } from '../../src/engine/tensor.ts';
import { checkDirectional, expectClose, uniform, useGpu } from '../helpers.ts';
import { CASES, TOL, TRANSPOSES, VARIANTS, VEC4_CASES, requireSubgroups, runCase, tag, type Case } from './matmulCases.ts';

describe('matmulInto against the CPU reference', () => {
  const gpu = useGpu();
  for (const variant of VARIANTS) {
    for (const c of CASES) {
      it(`${variant}: ${c.name}`, async () => {
        const { got, want } = await runCase(gpu(), c, variant);
        expectClose(got, want, { ...TOL, label: `${variant} ${c.name}` });
      });
    }
  }

  for (const variant of VARIANTS) {
    for (const c of VEC4_CASES) {
      it(`${variant}: ${c.name}`, async () => {
        const { got, want } = await runCase(gpu(), c, variant);
        expectClose(got, want, { ...TOL, label: `${variant} ${c.name}` });
      });
    }
  }

  // Where the device has subgroups of 4 the cases above ran matmul_register_vec4_sg; these force
  // matmul_register_vec4 and check that both give the same bits (same products, same order).
  for (const c of VEC4_CASES) {
    it(`swiftshader without subgroups: ${c.name}, and the same bits with them`, async () => {
      const plain = await runCase(gpu(), { ...c, subgroups: false }, 'swiftshader');
      expectClose(plain.got, plain.want, { ...TOL, label: `swiftshader ${c.name}` });
      requireSubgroups(gpu());
      const shared = await runCase(gpu(), { ...c, subgroups: true }, 'swiftshader');
      expect(Array.from(shared.got)).toEqual(Array.from(plain.got));
    });
  }

  it('picks matmul_register_vec4_sg by the subgroup size, and refuses subgroups the device lacks', () => {
    const g = gpu();
    const shape = { batch: 1, m: 32, n: 32, k: 8, variant: 'swiftshader' as const };
    expect(planMatmul('test', g, { ...shape, subgroups: false }).launch.entry).toBe('matmul_register_vec4');
    requireSubgroups(g);
    expect(planMatmul('test', g, shape).launch.entry).toBe('matmul_register_vec4_sg');
    // One workgroup per 16 x 64 superblock: 32 x 132 is 2 x 3 of them.
    expect(planMatmul('test', g, { ...shape, n: 132 }).launch.grid).toEqual([6, 1, 1]);
    const without = Object.create(g, { subgroupSize: { value: null } }) as Gpu;
    expect(planMatmul('test', without, shape).launch.entry).toBe('matmul_register_vec4');
    expect(() => planMatmul('test', without, { ...shape, subgroups: true })).toThrow(/subgroups: true needs the 'subgroups' feature with subgroups of 4; this device has none/);
  });

  it("'swiftshader' reads the vec4 cases as vec4s and the others one float at a time", () => {
    const entry = (c: Case) => planMatmul('test', gpu(), { ...c, variant: 'swiftshader' }).launch.entry;
    for (const c of VEC4_CASES) expect(entry({ ...c, subgroups: false }), c.name).toBe('matmul_register_vec4');
    for (const c of CASES.filter((c) => c.k % 4 !== 0 && c.m % 4 !== 0)) expect(entry(c), c.name).toBe('matmul_register_gather');
    // A^T B reads both operands as vec4s along M and N, but the vec4 kernel has no k tail.
    expect(entry({ name: 'odd K', batch: 1, m: 20, n: 12, k: 37, transA: true })).toBe('matmul_register_gather');
    expect(planMatmul('test', gpu(), { batch: 1, m: 16, n: 16, k: 16, variant: 'gpu' }).launch.entry).toBe('matmul_tiled');
  });

  // matmul_register_gather (the 'swiftshader' default for shapes not read as vec4s) and
  // matmul_register (the 4 x 4 blocks it replaced, kept as the reference), each forced on every
  // odd case (k tails of 1 to 3, blocks past every edge, batches, split-K, sums): both add k in
  // order by fma, so the bits agree.
  for (const c of CASES) {
    it(`swiftshader gather and 4 x 4 blocks give the same bits: ${c.name}`, async () => {
      const gather = await runCase(gpu(), { ...c, entry: 'matmul_register_gather' }, 'swiftshader', 7);
      expectClose(gather.got, gather.want, { ...TOL, label: `gather ${c.name}` });
      const plain = await runCase(gpu(), { ...c, entry: 'matmul_register' }, 'swiftshader', 7);
      expect(Array.from(gather.got)).toEqual(Array.from(plain.got));
    });
  }

  // matmul_subgroup ('gpu' with subgroups: a workgroup of one subgroup, A passed between lanes by
  // shuffles), forced on every case; on SwiftShader its subgroups are 4 lanes, so tiles of 16 x 16
  // and k slices of 4, with every edge, k tail, batch, split-K and sum of the cases. Its
  // accumulators add k in order by fma, as matmul_register's: the same bits.
  for (const c of [...CASES, ...VEC4_CASES]) {
    it(`gpu subgroup kernel and 4 x 4 blocks give the same bits: ${c.name}`, async () => {
      requireSubgroups(gpu());
      const shuffled = await runCase(gpu(), { ...c, subgroups: true }, 'gpu', 11);
      expectClose(shuffled.got, shuffled.want, { ...TOL, label: `subgroup ${c.name}` });
      const plain = await runCase(gpu(), { ...c, entry: 'matmul_register' }, 'swiftshader', 11);
      expect(Array.from(shuffled.got)).toEqual(Array.from(plain.got));
    });
  }

  it("'gpu' runs matmul_tiled by default and matmul_subgroup with subgroups: true, where the device has them", () => {
    const g = gpu();
    const shape = { batch: 1, m: 37, n: 130, k: 33, variant: 'gpu' as const };
    expect(planMatmul('test', g, shape).launch.entry).toBe('matmul_tiled');
    expect(planMatmul('test', g, { ...shape, subgroups: false }).launch.entry).toBe('matmul_tiled');
    requireSubgroups(g);
    // Tiles of 16 rows x 4 SG = 16 columns: 9 x 3 workgroups.
    expect(planMatmul('test', g, { ...shape, subgroups: true }).launch).toMatchObject({ entry: 'matmul_subgroup', grid: [9, 3, 1] });
    expect(planMatmul('test', g, { ...shape, entry: 'matmul_subgroup' }).launch.entry).toBe('matmul_subgroup');
    const without = Object.create(g, { subgroupSize: { value: null } }) as Gpu;
    expect(() => planMatmul('test', without, { ...shape, subgroups: true })).toThrow(/subgroups: true needs the 'subgroups' feature with one fixed subgroup size of at least 4; this device has none/);
    expect(() => planMatmul('test', without, { ...shape, entry: 'matmul_subgroup' })).toThrow(/entry 'matmul_subgroup' needs one fixed subgroup size of at least 4; this device has none/);
  });

  it('sizes the blocks of matmul_register_gather and matmul_register_vec4 to a small C, 16 x 16 otherwise', () => {
    const g = gpu();
    const plan = (m: number, n: number, k = 11) => planMatmul('test', g, { batch: 1, m, n, k, variant: 'swiftshader' }).launch;
    for (const [size, quads] of [[1, 1], [4, 1], [5, 2], [8, 2], [9, 3], [11, 3], [12, 3], [13, 4], [16, 4], [64, 4]] as const) {
      expect(plan(1024, size).colQuads, `N ${size}`).toBe(quads);
      expect(plan(size, 64).rowQuads, `M ${size}`).toBe(quads);
      expect(plan(1024, size).rowQuads).toBe(4);
    }
    // 64 row blocks of one 12-column block, 4 a workgroup; 13 columns take one 16-column block.
    expect(plan(1024, 11).grid).toEqual([16, 1, 1]);
    expect(plan(1024, 13).grid).toEqual([16, 1, 1]);
    expect(plan(1024, 17).grid).toEqual([32, 1, 1]);
    // A sampling step's 8 rows: 8 x 16 blocks, 12 of them along 192 columns, read as vec4s
    // without subgroups (the subgroup kernel's blocks are 16 rows) unless they are asked for.
    expect(plan(8, 192, 64)).toMatchObject({ entry: 'matmul_register_vec4', rowQuads: 2, colQuads: 4, grid: [3, 1, 1] });
    expect(plan(8, 8, 8)).toMatchObject({ entry: 'matmul_register_vec4', rowQuads: 2, colQuads: 2, grid: [1, 1, 1] });
    expect(plan(16, 192, 64)).toMatchObject({ rowQuads: 4, colQuads: 4 });
    requireSubgroups(g);
    expect(plan(16, 192, 64).entry).toBe('matmul_register_vec4_sg');
    expect(planMatmul('test', g, { batch: 1, m: 8, n: 192, k: 64, variant: 'swiftshader', subgroups: true }).launch).toMatchObject({ entry: 'matmul_register_vec4_sg', rowQuads: 4 });
  });

  it('forces a kernel with entry, and refuses one the variant or the shape cannot run', () => {
    const g = gpu();
    const odd = { batch: 1, m: 37, n: 11, k: 13, variant: 'swiftshader' as const };
    expect(planMatmul('test', g, { ...odd, entry: 'matmul_register' }).launch.entry).toBe('matmul_register');
    expect(planMatmul('test', g, { ...odd, n: 12, k: 12, entry: 'matmul_register_gather' }).launch.entry).toBe('matmul_register_gather');
    expect(() => planMatmul('test', g, { ...odd, entry: 'matmul_tiled' })).toThrow(/entry 'matmul_tiled' is not a kernel of the 'swiftshader' variant/);
    expect(() => planMatmul('test', g, { ...odd, variant: 'gpu', entry: 'matmul_register_gather' })).toThrow(/not a kernel of the 'gpu' variant \(matmul_tiled, matmul_subgroup\)/);
    expect(() => planMatmul('test', g, { ...odd, entry: 'matmul_register_vec4' })).toThrow(/reads vec4s: it needs K and the operands' contiguous dimensions multiples of 4 \(M 37, N 11, K 13\)/);
  });

  // Both add k in the same order by fma and the bias after; each case as AB (vec4) and, padded to
  // N + 1 columns, as scalar (matmul_register_gather).
  for (const c of [VEC4_CASES[4]!, VEC4_CASES[10]!]) {
    it(`vec4 and scalar reads give the same bits: ${c.name}`, async () => {
      const vec4 = await runCase(gpu(), c, 'swiftshader', 9);
      const m = c.m, n = c.n, k = c.k;
      const a = uniform(c.batch * m * k, 9);
      const b = uniform(c.batch * k * n, 10);
      const wide = new Float32Array(c.batch * k * (n + 1));
      for (let i = 0; i < c.batch * k; i++) wide.set(b.subarray(i * n, (i + 1) * n), i * (n + 1));
      const bias = new Float32Array(n + 1);
      if (c.bias) bias.set(uniform(n, 12));
      const ta = fromArray(gpu(), a, [a.length], 'a');
      const tb = fromArray(gpu(), wide, [wide.length], 'b wide');
      const tc = fromArray(gpu(), new Float32Array(c.batch * m * (n + 1)), [c.batch * m * (n + 1)], 'c wide');
      const tbias = c.bias ? fromArray(gpu(), bias, [n + 1], 'bias wide') : null;
      const plan = planMatmul('test', gpu(), { batch: c.batch, m, n: n + 1, k, variant: 'swiftshader' });
      expect(plan.launch.entry).toBe('matmul_register_gather');
      matmulInto(gpu(), { batch: c.batch, m, n: n + 1, k, a: ta, b: tb, c: tc, bias: tbias, variant: 'swiftshader' });
      const got = await tc.read();
      const scalar = new Float32Array(c.batch * m * n);
      for (let i = 0; i < c.batch * m; i++) scalar.set(got.subarray(i * (n + 1), i * (n + 1) + n), i * n);
      expect(Array.from(scalar)).toEqual(Array.from(vec4.got));
      for (const t of [ta, tb, tc, tbias]) t?.dispose();
    });
  }

  it('repeats bit for bit (split-K partials and batch sums included)', async () => {
    for (const c of [CASES.at(-2)!, CASES.at(-4)!]) {
      const first = await runCase(gpu(), c, 'gpu', 5);
      const second = await runCase(gpu(), c, 'gpu', 5);
      expect(Array.from(second.got)).toEqual(Array.from(first.got));
    }
  });

  it('rejects bad arguments with a message, before dispatching anything', () => {
    const g = gpu();
    const t = (n: number, label: string) => fromArray(g, new Float32Array(n), [n], label);
    const [a, b, c, bias] = [t(6, 'a'), t(12, 'b'), t(8, 'c'), t(3, 'bias')];
    const before = g.dispatchCount;
    const base = { a, b, c, batch: 1, m: 2, n: 4, k: 3 };
    expect(() => matmulInto(g, { ...base, k: 4 })).toThrow(/A \(a, shape \[6\]\) has 6 values, expected batch x \[M, K\] = 8/);
    expect(() => matmulInto(g, { ...base, bias })).toThrow(/bias \(bias.*expected \[N\] = 4/);
    expect(() => matmulInto(g, { ...base, m: 0 })).toThrow(/m must be a positive integer/);
    expect(() => matmulInto(g, { ...base, batch: 2, splitK: 2, bShared: true, aShared: true, c: t(16, 'c2') })).toThrow(
      /splitK applies to a single product/,
    );
    expect(() => matmulInto(g, { a, b: t(9, 'b9'), c: a, batch: 1, m: 2, n: 3, k: 3 })).toThrow(/A \(a\) and C \(a\) share a buffer/);
    expect(() => matmulInto(g, { ...base, variant: 'fast' as MatmulVariant })).toThrow(/variant must be/);
    expect(() => sumRowsInto(g, { x: b, out: c, rows: 3, cols: 4 })).toThrow(/out \(c.*expected \[cols\] = 4/);
    expect(g.dispatchCount).toBe(before);
  });
});

describe('sumRowsInto (bias gradient)', () => {
  const gpu = useGpu();
  const cases = [
    { rows: 1, cols: 1 },
    { rows: 37, cols: 5 },
    { rows: 13, cols: 300, accumulate: true },
    // Two passes: ROW_CHUNK rows per partial, then the partials in order.
    { rows: 2 * ROW_CHUNK + 37, cols: 7, rowChunk: ROW_CHUNK },
    { rows: 2 * ROW_CHUNK + 37, cols: 7, rowChunk: ROW_CHUNK, accumulate: true },
    { rows: 2 * ROW_CHUNK + 37, cols: 7, rowChunk: 2 * ROW_CHUNK + 37 },
  ];
  for (const s of cases) {
    it(`${s.rows} x ${s.cols}${s.rowChunk ? `, chunks of ${s.rowChunk}` : ''}${s.accumulate ? ', accumulate' : ''}`, async () => {
      const x = uniform(s.rows * s.cols, 3);
      const out0 = uniform(s.cols, 4);
      const want = out0.slice();
      cpu.sumRowsInto({ ...s, x, out: want });
      const tx = fromArray(gpu(), x, [s.rows, s.cols], 'x');
      const tout = fromArray(gpu(), out0, [s.cols], 'out');
      sumRowsInto(gpu(), { ...s, x: tx, out: tout });
      expectClose(await tout.read(), want, { atol: 1e-4, rtol: 1e-5, label: 'column sums' });
      tx.dispose();
      tout.dispose();
    });
  }

  // Each kernel forced, in each variant, on columns a multiple of 4 and not: both kernels add a
  // column's rows in the same order, so where both apply the bits agree.
  const forced = [
    { rows: 37, cols: 12 },
    { rows: 1, cols: 4, accumulate: true },
    { rows: 2 * ROW_CHUNK + 37, cols: 20, accumulate: true },
  ];
  for (const variant of ['gpu', 'swiftshader'] as const) {
    for (const s of forced) {
      it(`${variant}: sum_rows and sum_rows_vec4 agree bit for bit on ${s.rows} x ${s.cols}${s.accumulate ? ', accumulate' : ''}`, async () => {
        const g = gpu();
        const x = uniform(s.rows * s.cols, 5);
        const out0 = uniform(s.cols, 6);
        const want = out0.slice();
        cpu.sumRowsInto({ ...s, x, out: want });
        const tx = fromArray(g, x, [s.rows, s.cols], 'x');
        const got: Float32Array[] = [];
        for (const vec4 of [false, true]) {
          const tout = fromArray(g, out0, [s.cols], 'out');
          const ran = new Set<string>();
          g.observer = (info) => void ran.add(info.label);
          try {
            sumRowsInto(g, { ...s, x: tx, out: tout, variant, vec4 });
          } finally {
            g.observer = null;
          }
          expect([...ran]).toEqual([vec4 ? 'matmul:sum_rows_vec4' : 'matmul:sum_rows']);
          got.push(await tout.read());
          tout.dispose();
        }
        expectClose(got[1]!, want, { atol: 1e-4, rtol: 1e-5, label: 'vec4 column sums' });
        expect(got[1]!.every((v, i) => Object.is(v, got[0]![i]))).toBe(true);
        tx.dispose();
      });
    }
  }

  it('picks sum_rows_vec4 on SwiftShader where cols is a multiple of 4, and refuses it where not', () => {
    expect(planSumRows('t', gpu(), { rows: 1024, cols: 192, variant: 'swiftshader' }).entry).toBe('sum_rows_vec4');
    expect(planSumRows('t', gpu(), { rows: 1024, cols: 11, variant: 'swiftshader' }).entry).toBe('sum_rows');
    expect(planSumRows('t', gpu(), { rows: 1024, cols: 192, variant: 'gpu' }).entry).toBe('sum_rows');
    expect(() => planSumRows('t', gpu(), { rows: 4, cols: 11, vec4: true })).toThrow(/vec4 column sums need cols a multiple of 4; got 11/);
  });
});

/** Runs an op forward and backward with a seeded dout; returns the output and input gradients. */
async function opGrads(
  gpu: Gpu,
  inputs: { data: Float32Array; shape: number[] }[],
  forward: (tape: Tape, xs: Tensor[]) => Tensor,
  dout: Float32Array,
): Promise<{ out: Float32Array; grads: Float32Array[] }> {
  const tape = new Tape(gpu);
  const xs = inputs.map((x, i) => variable(gpu, x.data, x.shape, `input${i}`));
  const y = forward(tape, xs);
  tape.backward(y, tape.own(fromArray(gpu, dout, y.shape, 'dout')));
  const out = await y.read();
  const grads = await Promise.all(xs.map((x) => x.grad!.read()));
  tape.dispose();
  xs.forEach((x) => x.dispose());
  return { out, grads };
}

/** Forward only, for directional derivatives. */
async function opForward(gpu: Gpu, inputs: { shape: number[] }[], forward: (tape: Tape, xs: Tensor[]) => Tensor, data: Float32Array[]) {
  const tape = new Tape(gpu, { grad: false });
  const xs = inputs.map((x, i) => tape.own(fromArray(gpu, data[i]!, x.shape, `input${i}`)));
  const out = await forward(tape, xs).read();
  tape.dispose();
  return out;
}

describe('each variant: gradients by the same primitive pass directional derivatives', () => {
  const gpu = useGpu();
  // 21 x 12 x 8: on 'swiftshader' AB and AB^T read vec4s in their forwards and some gradient
  // products, A^T B and A^T B^T in some gradient products (M = 21 keeps their forwards on
  // matmul_register); products with K = 21 run matmul_register. On 'gpu' all are tiled.
  const [m, n, k] = [21, 12, 8];
  for (const variant of VARIANTS) {
    for (const t of TRANSPOSES) {
      it(`${variant}: ${m}x${n}x${k} ${tag(t)}`, async () => {
        const g = gpu();
        const run = async (x: Float32Array, y: Float32Array, shape: { m: number; n: number; k: number; transA: boolean; transB: boolean }) => {
          const [ta, tb] = [fromArray(g, x, [x.length], 'a'), fromArray(g, y, [y.length], 'b')];
          const tc = fromArray(g, new Float32Array(shape.m * shape.n), [shape.m * shape.n], 'c');
          matmulInto(g, { batch: 1, ...shape, a: ta, b: tb, c: tc, variant });
          const out = await tc.read();
          for (const u of [ta, tb, tc]) u.dispose();
          return out;
        };
        const a = uniform(m * k, 41);
        const b = uniform(k * n, 42);
        const dout = uniform(m * n, 43);
        // dA = dC op(B)^T (or its transpose), dB = op(A)^T dC (or its transpose): as ops/matmul.ts.
        const da = t.transA
          ? await run(b, dout, { m: k, n: m, k: n, transA: t.transB, transB: true })
          : await run(dout, b, { m, n: k, k: n, transA: false, transB: !t.transB });
        const db = t.transB
          ? await run(dout, a, { m: n, n: k, k: m, transA: true, transB: t.transA })
          : await run(a, dout, { m: k, n, k: m, transA: !t.transA, transB: false });
        await checkDirectional({
          forward: ([x, y]) => run(x!, y!, { m, n, k, ...t }),
          inputs: [a, b],
          grads: [da, db],
          dout,
          label: `${variant} ${tag(t)}`,
        });
      });
    }
  }
});

describe('differentiable matmul and linear', () => {
  const gpu = useGpu();

  for (const t of TRANSPOSES) {
    for (const shared of [false, true]) {
      const [lead, m, n, k] = [[2, 3], 7, 5, 9];
      const batch = lead[0]! * lead[1]!;
      it(`matmul ${tag(t)}, [2, 3] batch${shared ? ', shared B' : ''}: forward and backward vs CPU`, async () => {
        const aShape = [...lead, ...(t.transA ? [k, m] : [m, k])];
        const bShape = [...(shared ? [] : lead), ...(t.transB ? [n, k] : [k, n])];
        const inputs = [
          { data: uniform(batch * m * k, 1), shape: aShape },
          { data: uniform((shared ? 1 : batch) * k * n, 2), shape: bShape },
        ];
        const dout = uniform(batch * m * n, 3);
        const { out, grads } = await opGrads(gpu(), inputs, (tape, [a, b]) => matmul(tape, a!, b!, t), dout);
        const s = { batch, m, n, k, ...t, bShared: shared };
        expectClose(out, cpu.matmulForward(inputs[0]!.data, inputs[1]!.data, s), { ...TOL, label: 'C' });
        const { da, db } = cpu.matmulBackward(inputs[0]!.data, inputs[1]!.data, dout, s);
        expectClose(grads[0]!, da, { ...TOL, label: 'dA' });
        expectClose(grads[1]!, db, { ...TOL, label: 'dB' });
      });
    }
  }

  it('linear: [2, 37, 13] x [13, 5] + bias, forward and backward vs CPU, and directional derivatives', async () => {
    const [rows, k, n] = [2 * 37, 13, 5];
    const inputs = [
      { data: uniform(rows * k, 11), shape: [2, 37, k] },
      { data: uniform(k * n, 12), shape: [k, n] },
      { data: uniform(n, 13), shape: [n] },
    ];
    const fwd = (tape: Tape, [x, w, b]: Tensor[]) => linear(tape, x!, w!, b!);
    const dout = uniform(rows * n, 14);
    const { out, grads } = await opGrads(gpu(), inputs, fwd, dout);
    const [x, w, b] = inputs.map((i) => i.data) as [Float32Array, Float32Array, Float32Array];
    expectClose(out, cpu.linearForward(x, w, b, rows, k, n), { ...TOL, label: 'y' });
    const ref = cpu.linearBackward(x, w, dout, rows, k, n);
    expectClose(grads[0]!, ref.dx, { ...TOL, label: 'dx' });
    expectClose(grads[1]!, ref.dw, { ...TOL, label: 'dW' });
    expectClose(grads[2]!, ref.dbias, { ...TOL, label: 'dbias' });
    await checkDirectional({
      forward: (data) => opForward(gpu(), inputs, fwd, data),
      inputs: [x, w, b],
      grads,
      dout,
      label: 'linear',
    });
  });

  it('matmul A^T B^T with shared B: directional derivatives', async () => {
    const inputs = [
      { data: uniform(3 * 9 * 7, 21), shape: [3, 9, 7] }, // [batch, K, M]
      { data: uniform(5 * 9, 22), shape: [5, 9] }, // [N, K]
    ];
    const fwd = (tape: Tape, [a, b]: Tensor[]) => matmul(tape, a!, b!, { transA: true, transB: true });
    const dout = uniform(3 * 7 * 5, 23);
    const { grads } = await opGrads(gpu(), inputs, fwd, dout);
    await checkDirectional({
      forward: (data) => opForward(gpu(), inputs, fwd, data),
      inputs: inputs.map((i) => i.data),
      grads,
      dout,
      label: 'matmul',
    });
  });

  it('sums the gradient of an input used on both sides (X X^T)', async () => {
    const x = uniform(4 * 6, 31);
    const dout = uniform(4 * 4, 32);
    const { grads } = await opGrads(gpu(), [{ data: x, shape: [4, 6] }], (tape, [a]) => matmul(tape, a!, a!, { transB: true }), dout);
    const s = { batch: 1, m: 4, n: 4, k: 6, transB: true };
    const { da, db } = cpu.matmulBackward(x, x, dout, s);
    expectClose(grads[0]!, da.map((v, i) => v + db[i]!), { ...TOL, label: 'dX' });
  });

  it('rejects mismatched shapes before allocating', () => {
    const g = gpu();
    const tape = new Tape(g);
    const t = (shape: number[], label: string) => tape.own(fromArray(g, new Float32Array(shape.reduce((p, d) => p * d)), shape, label));
    const [a, b, a3, b3, w] = [t([2, 3], 'a'), t([4, 2], 'b'), t([2, 2, 3], 'a3'), t([3, 3, 2], 'b3'), t([3, 4], 'w')];
    const before = g.pool.inUseBytes;
    expect(() => matmul(tape, a, b)).toThrow(/inner dimensions differ: op\(A\) is \[2, 3\] and op\(B\) is \[4, 2\]/);
    expect(() => linear(tape, a, b)).toThrow(/x \[2, 3\] ends in 3 features but W \[4, 2\] expects 4/);
    expect(() => matmul(tape, a3, b3)).toThrow(/leading dimensions of A \[2, 2, 3\] and B \[3, 3, 2\] differ/);
    expect(() => linear(tape, a3, w, b)).toThrow(/bias \[4, 2\] must be \[4\] to match W \[3, 4\]/);
    expect(g.pool.inUseBytes).toBe(before);
    tape.dispose();
  });

  it('times itself for the benchmark', async () => {
    const r = await matmulGflops(gpu(), 33, 17, 9, 2);
    expect(r.gflops).toBeGreaterThan(0);
    expect(r.variant).toBe(gpu().backend);
  });
});
