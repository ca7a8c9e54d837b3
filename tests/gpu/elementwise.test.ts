import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/elementwise.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import * as k from '../../src/engine/kernels/elementwise.ts';
import { add, addBroadcast, dropout, gelu, relu, scale } from '../../src/engine/ops/elementwise.ts';
import { fromArray, Tape, variable, type Shape, type Tensor } from '../../src/engine/tensor.ts';
import { checkDirectional, expectClose, randn, uniform, useGpu } from '../helpers.ts';

/** Uploads inputs, records `fn` on fresh outputs, reads the outputs back and frees everything. */
async function onGpu(
  gpu: Gpu,
  inputs: { data: Float32Array; shape: Shape }[],
  outShapes: Shape[],
  fn: (ins: Tensor[], outs: Tensor[]) => void,
): Promise<Float32Array[]> {
  const ins = inputs.map((v, i) => fromArray(gpu, v.data, v.shape, `in${i}`));
  const outs = outShapes.map((s, i) => fromArray(gpu, new Float32Array(s.reduce((a, b) => a * b, 1)), s, `out${i}`));
  fn(ins, outs);
  const res = await Promise.all(outs.map((t) => t.read()));
  for (const t of [...ins, ...outs]) t.dispose();
  return res;
}

// Odd sizes (one value per invocation) and multiples of 4 (four per invocation, map.wgsl): one
// vec4, and several workgroups of them.
const SIZES = [1, 37, 257, 4099, 4, 1028, 4100];

interface UnaryCase {
  name: string;
  cpuF: (x: Float32Array) => Float32Array;
  cpuB: (x: Float32Array, dy: Float32Array) => Float32Array;
  gpuF: (g: Gpu, x: Tensor, y: Tensor) => void;
  gpuB: (g: Gpu, x: Tensor, dy: Tensor, dx: Tensor) => void;
  atol: number;
}

const S = -1.7;
const UNARY: UnaryCase[] = [
  { name: 'gelu', cpuF: cpu.geluForward, cpuB: cpu.geluBackward, gpuF: k.geluForward, gpuB: k.geluBackward, atol: 1e-5 },
  { name: 'relu', cpuF: cpu.reluForward, cpuB: cpu.reluBackward, gpuF: k.reluForward, gpuB: k.reluBackward, atol: 0 },
  {
    name: 'scale',
    cpuF: (x) => cpu.scaleForward(x, S),
    cpuB: (_x, dy) => cpu.scaleBackward(dy, S),
    gpuF: (g, x, y) => k.scaleForward(g, x, S, y),
    gpuB: (g, _x, dy, dx) => k.scaleBackward(g, dy, S, dx),
    atol: 1e-6,
  },
];

describe('elementwise kernels against the CPU reference', () => {
  const gpu = useGpu();

  for (const c of UNARY) {
    it(`${c.name} forward and backward on odd sizes`, async () => {
      for (const n of SIZES) {
        const x = randn(n, n, 3); // wide enough to reach GELU's tails
        const dy = randn(n, n + 1);
        const [y] = await onGpu(gpu(), [{ data: x, shape: [n] }], [[n]], ([tx], [ty]) => c.gpuF(gpu(), tx!, ty!));
        expectClose(y!, c.cpuF(x), { atol: c.atol, label: `${c.name} forward n=${n}` });
        const [dx] = await onGpu(gpu(), [{ data: x, shape: [n] }, { data: dy, shape: [n] }], [[n]], ([tx, tdy], [tdx]) =>
          c.gpuB(gpu(), tx!, tdy!, tdx!),
        );
        expectClose(dx!, c.cpuB(x, dy), { atol: c.atol, label: `${c.name} backward n=${n}` });
      }
    });
  }

  it('GELU stays finite and exact in its tails', async () => {
    const x = Float32Array.of(-1e4, -60, -20, -9, 9, 20, 60, 1e4);
    const [y] = await onGpu(gpu(), [{ data: x, shape: [x.length] }], [[x.length]], ([tx], [ty]) => k.geluForward(gpu(), tx!, ty!));
    expectClose(y!, cpu.geluForward(x), { atol: 1e-6, label: 'gelu tails' });
  });

  it('add forward and backward', async () => {
    for (const n of SIZES) {
      const a = uniform(n, 1);
      const b = uniform(n, 2);
      const [y] = await onGpu(gpu(), [{ data: a, shape: [n] }, { data: b, shape: [n] }], [[n]], ([ta, tb], [ty]) =>
        k.addForward(gpu(), ta!, tb!, ty!),
      );
      expectClose(y!, cpu.addForward(a, b), { atol: 0, label: `add n=${n}` });
      const [da, db] = await onGpu(gpu(), [{ data: a, shape: [n] }], [[n], [n]], ([tdy], [tda, tdb]) =>
        k.addBackward(gpu(), tdy!, tda!, tdb!),
      );
      expectClose(da!, a, { atol: 0, label: 'add da' });
      expectClose(db!, a, { atol: 0, label: 'add db' });
    }
  });

  // [R, C]: one column group and one chunk; several column groups (C > 64) and chunks (R > 32).
  const BROADCAST: { R: number; C: number; rowsPerChunk?: number }[] = [
    { R: 1, C: 5 },
    { R: 37, C: 5 },
    { R: 301, C: 70 },
    { R: 301, C: 70, rowsPerChunk: 7 },
    { R: 301, C: 70, rowsPerChunk: 1000 },
  ];
  it('never makes more column-sum chunks than a grid dimension holds', () => {
    const small = { limits: { maxComputeWorkgroupsPerDimension: 4 } } as unknown as Gpu;
    expect(k.columnChunks(small, 100)).toEqual({ rowsPerChunk: 32, chunks: 4 });
    expect(k.columnChunks(small, 1000)).toEqual({ rowsPerChunk: 250, chunks: 4 });
    expect(k.columnChunks(gpu(), 301, 7)).toEqual({ rowsPerChunk: 7, chunks: 43 });
    expect(() => k.columnChunks(gpu(), 10, 0)).toThrow(/rowsPerChunk must be a positive integer/);
  });

  for (const { R, C, rowsPerChunk } of BROADCAST) {
    it(`addBroadcast forward and backward [${R}, ${C}] rowsPerChunk=${rowsPerChunk ?? 'default'}`, async () => {
      const x = uniform(R * C, 3);
      const row = uniform(C, 4);
      const dy = randn(R * C, 5);
      const [y] = await onGpu(gpu(), [{ data: x, shape: [R, C] }, { data: row, shape: [C] }], [[R, C]], ([tx, tr], [ty]) =>
        k.addBroadcastForward(gpu(), tx!, tr!, ty!),
      );
      expectClose(y!, cpu.addBroadcastForward(x, row), { atol: 0, label: 'addBroadcast y' });
      const [dx, drow] = await onGpu(gpu(), [{ data: dy, shape: [R, C] }], [[R, C], [C]], ([tdy], [tdx, tdr]) =>
        k.addBroadcastBackward(gpu(), tdy!, tdx!, tdr!, { rowsPerChunk }),
      );
      const ref = cpu.addBroadcastBackward(dy, C);
      expectClose(dx!, ref.dx, { atol: 0, label: 'addBroadcast dx' });
      expectClose(drow!, ref.drow, { atol: 1e-5, label: 'addBroadcast drow' });
    });
  }
});

describe('dropout on the GPU', () => {
  const gpu = useGpu();
  const drop = (x: Float32Array, p: number, seed: number, offset: number) =>
    onGpu(gpu(), [{ data: x, shape: [x.length] }], [[x.length]], ([tx], [ty]) => k.dropoutForward(gpu(), tx!, ty!, p, seed, offset));

  // Offsets at every phase of a Philox block, and one whose counter carries into the high word.
  const CARRY_OFFSET = 4 * (2 ** 32 - 3) + 2;
  const CASES = [
    { n: 37, p: 0.5, seed: 1, offset: 0 },
    { n: 37, p: 0.5, seed: 1, offset: 1 },
    { n: 38, p: 0.3, seed: 7, offset: 2 },
    { n: 257, p: 0.1, seed: 2 ** 40 + 5, offset: 3 },
    { n: 1, p: 0.9, seed: 3, offset: 5 },
    { n: 41, p: 0.5, seed: 9, offset: CARRY_OFFSET },
  ];
  for (const c of CASES) {
    it(`mask equals the CPU Philox bit for bit: ${JSON.stringify(c)}`, async () => {
      const ones = new Float32Array(c.n).fill(1);
      const [y] = await drop(ones, c.p, c.seed, c.offset);
      const mask = cpu.dropoutMask(c.n, c.p, c.seed, c.offset);
      const s = cpu.dropoutScale(c.p, true);
      const expected = Float32Array.from(mask, (m) => m * s);
      expectClose(y!, expected, { atol: 0, rtol: 0, label: 'dropout of ones' });
      const x = randn(c.n, 11);
      const [yx] = await drop(x, c.p, c.seed, c.offset);
      expectClose(yx!, cpu.dropoutForward(x, c.p, c.seed, c.offset), { atol: 0, rtol: 0, label: 'dropout of x' });
    });
  }

  it('is reproducible, depends on seed and offset, and keeps about 1 - p', async () => {
    const n = 10_000;
    const ones = new Float32Array(n).fill(1);
    for (const p of [0.1, 0.5]) {
      const [a] = await drop(ones, p, 42, 1000);
      const [b] = await drop(ones, p, 42, 1000);
      expect(Array.from(a!)).toEqual(Array.from(b!));
      const kept = a!.reduce((acc, v) => acc + (v !== 0 ? 1 : 0), 0) / n;
      // 5 standard deviations of a binomial fraction: a wrong threshold would miss by far more.
      expect(Math.abs(kept - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
      const [other] = await drop(ones, p, 42, 1000 + n);
      const [seed2] = await drop(ones, p, 43, 1000);
      const agree = (u: Float32Array, v: Float32Array) => u.reduce((acc, x, i) => acc + (x === v[i] ? 1 : 0), 0) / n;
      const chance = p * p + (1 - p) * (1 - p);
      expect(Math.abs(agree(a!, other!) - chance)).toBeLessThan(0.03);
      expect(Math.abs(agree(a!, seed2!) - chance)).toBeLessThan(0.03);
      // Counter-based: offset + 1 is the same stream shifted by one element.
      const [shifted] = await drop(ones, p, 42, 1001);
      expect(Array.from(shifted!.subarray(0, n - 1))).toEqual(Array.from(a!.subarray(1)));
    }
  });

  it('backward applies the forward mask to dy', async () => {
    const n = 301;
    const [p, seed, offset] = [0.25, 5, 17];
    const dy = randn(n, 3);
    const [dx] = await onGpu(gpu(), [{ data: dy, shape: [n] }], [[n]], ([tdy], [tdx]) =>
      k.dropoutBackward(gpu(), tdy!, tdx!, p, seed, offset),
    );
    const mask = cpu.dropoutMask(n, p, seed, offset);
    const s = cpu.dropoutScale(p, true);
    expectClose(dx!, Float32Array.from(dy, (v, i) => (mask[i] ? Math.fround(v * s) : 0)), { atol: 0, rtol: 0, label: 'dropout dx' });
  });
});

describe('elementwise ops on the tape', () => {
  const gpu = useGpu();

  /** Runs op on variables, backpropagates dout, returns the output and every input's gradient. */
  async function opGrads(inputs: { data: Float32Array; shape: Shape }[], op: (tape: Tape, xs: Tensor[]) => Tensor, dout: Float32Array) {
    const tape = new Tape(gpu());
    const xs = inputs.map((v, i) => tape.own(variable(gpu(), v.data, v.shape, `x${i}`)));
    const y = op(tape, xs);
    const seed = tape.own(fromArray(gpu(), dout, y.shape, 'dout'));
    tape.backward(y, seed);
    const out = await y.read();
    const grads = await Promise.all(xs.map((x) => x.grad!.read()));
    tape.dispose();
    return { out, grads };
  }

  async function forwardOnly(inputs: { data: Float32Array; shape: Shape }[], op: (tape: Tape, xs: Tensor[]) => Tensor) {
    const tape = new Tape(gpu(), { grad: false });
    const xs = inputs.map((v, i) => tape.own(fromArray(gpu(), v.data, v.shape, `x${i}`)));
    const out = await op(tape, xs).read();
    tape.dispose();
    return out;
  }

  const R = 37;
  const C = 5;
  const OPS: { name: string; shapes: Shape[]; op: (tape: Tape, xs: Tensor[]) => Tensor }[] = [
    { name: 'gelu', shapes: [[R, C]], op: (t, [x]) => gelu(t, x!) },
    { name: 'relu', shapes: [[R, C]], op: (t, [x]) => relu(t, x!) },
    { name: 'add', shapes: [[R, C], [R, C]], op: (t, [a, b]) => add(t, a!, b!) },
    { name: 'scale', shapes: [[R, C]], op: (t, [x]) => scale(t, x!, 0.3) },
    { name: 'addBroadcast', shapes: [[3, R, C], [C]], op: (t, [x, r]) => addBroadcast(t, x!, r!) },
    { name: 'dropout', shapes: [[R, C]], op: (t, [x]) => dropout(t, x!, 0.4, 99, 12345) },
  ];
  for (const c of OPS) {
    it(`${c.name}: backward passes a directional-derivative check`, async () => {
      const inputs = c.shapes.map((shape, i) => ({ data: randn(shape.reduce((a, b) => a * b, 1), 20 + i), shape }));
      const n = c.shapes[0]!.reduce((a, b) => a * b, 1);
      const dout = randn(n, 30);
      const { grads } = await opGrads(inputs, c.op, dout);
      await checkDirectional({
        forward: (xs) => forwardOnly(xs.map((data, i) => ({ data, shape: c.shapes[i]! })), c.op),
        inputs: inputs.map((v) => v.data),
        grads,
        dout,
        label: c.name,
      });
    });
  }

  it('a tensor added to itself gets twice the gradient', async () => {
    const x = randn(37, 1);
    const dout = randn(37, 2);
    const { grads } = await opGrads([{ data: x, shape: [37] }], (t, [a]) => add(t, a!, a!), dout);
    expectClose(grads[0]!, dout.map((v) => 2 * v), { atol: 0, label: 'd(x + x)' });
  });

  it('dropout with p = 0 is the identity', () => {
    const tape = new Tape(gpu());
    const x = tape.own(variable(gpu(), randn(5, 1), [5], 'x'));
    expect(dropout(tape, x, 0, 1, 0)).toBe(x);
    tape.dispose();
  });

  it('rejects bad arguments before allocating anything', () => {
    const tape = new Tape(gpu());
    const a = tape.own(fromArray(gpu(), new Float32Array(6), [2, 3], 'a'));
    const b = tape.own(fromArray(gpu(), new Float32Array(6), [3, 2], 'b'));
    const r = tape.own(fromArray(gpu(), new Float32Array(2), [2], 'r'));
    const before = gpu().pool.inUseBytes;
    expect(() => add(tape, a, b)).toThrow(/add: b has shape \[3, 2\], expected \[2, 3\]/);
    expect(() => addBroadcast(tape, a, r)).toThrow(/r has shape \[2\], expected \[3\]/);
    for (const p of [1, -0.1, NaN, 1.5]) expect(() => dropout(tape, a, p, 1, 0)).toThrow(/p must be in \[0, 1\)/);
    expect(() => dropout(tape, a, 0.5, -1, 0)).toThrow(/seed/);
    expect(() => dropout(tape, a, 0.5, 1, 0.5)).toThrow(/offset/);
    expect(() => scale(tape, a, Infinity)).toThrow(/finite/);
    expect(() => k.geluForward(gpu(), a, a)).toThrow(/shares a buffer/);
    expect(gpu().pool.inUseBytes).toBe(before);
    tape.dispose();
  });
});
