import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/reduce.ts';
import {
  REDUCE_TILES,
  blockCount,
  globalNorm,
  globalSumSquares,
  reduceSum,
  reduceSumSquares,
  type ReduceOptions,
  type ReduceVariant,
} from '../../src/engine/kernels/reduce.ts';
import { empty, fromArray, type Tensor } from '../../src/engine/tensor.ts';
import { expectClose, toF64, uniform, useGpu } from '../helpers.ts';

/**
 * Worst-case error of this float32 summation order: every term passes through at most
 * `itemsPerThread` serial adds, a tree of log2(workgroupSize), a serial run over the partials
 * (ceil(partials / workgroupSize)) and a second tree, each rounding by at most F32_EPS of the sum
 * of magnitudes (Higham's bound for recursive summation, applied per level).
 */
const F32_EPS = 2 ** -24;

function tolerance(values: ArrayLike<number>[], square: boolean, variant: ReduceVariant): number {
  const t = REDUCE_TILES[variant];
  let mag = 0;
  let partials = 0;
  for (const x of values) {
    for (let i = 0; i < x.length; i++) mag += square ? x[i]! * x[i]! : Math.abs(x[i]!);
    partials += blockCount(x.length, t);
  }
  const tree = Math.log2(t.workgroupSize);
  const depth = t.itemsPerThread + tree + Math.ceil(partials / t.workgroupSize) + tree;
  // The square of each float32 input rounds once more before it is added.
  return (depth + (square ? 1 : 0)) * F32_EPS * mag;
}

async function readOne(t: Tensor): Promise<number> {
  return (await t.read())[0]!;
}

describe('deterministic reductions on the GPU', () => {
  const gpu = useGpu();
  const variants: ReduceVariant[] = ['gpu', 'swiftshader'];

  // Sizes: empty, 1, odd below a block, just past one and several blocks of either variant.
  const sizes = [0, 1, 37, 1023, 1025, 4097, 70001];

  for (const variant of variants) {
    it(`sum and sum of squares match float64 (${variant} tiles)`, async () => {
      for (const n of sizes) {
        const x = uniform(n, 100 + n, -1, 2);
        const tx = fromArray(gpu(), x, [n], 'x'); // [n]
        const out = empty(gpu(), [1], 'out'); // [1]
        const ref = new Float64Array(1);
        for (const square of [false, true]) {
          (square ? reduceSumSquares : reduceSum)(gpu(), tx, out, { variant });
          (square ? cpu.reduceSumSquares : cpu.reduceSum)(toF64(x), ref);
          expectClose([await readOne(out)], ref, {
            atol: tolerance([x], square, variant),
            rtol: 0,
            label: `${square ? 'sumSq' : 'sum'} n=${n} ${variant}`,
          });
        }
        tx.dispose();
        out.dispose();
      }
    });
  }

  it('crosses 65535 workgroups through the 2-D grid (tiny tiles force it)', async () => {
    const n = 70001;
    const tiny: ReduceOptions = { workgroupSize: 1, itemsPerThread: 1 };
    expect(blockCount(n, { workgroupSize: 1, itemsPerThread: 1 })).toBeGreaterThan(gpu().limits.maxComputeWorkgroupsPerDimension);
    // Small integers add exactly in float32 (every partial sum stays below 2^24), so the result
    // must be exact: one block missed or counted twice would show.
    const x = uniform(n, 5, -3, 3).map(Math.round);
    const tx = fromArray(gpu(), x, [n], 'x'); // [n]
    const out = empty(gpu(), [1], 'out'); // [1]
    const ref = new Float64Array(1);
    reduceSum(gpu(), tx, out, tiny);
    cpu.reduceSum(toF64(x), ref);
    expectClose([await readOne(out)], ref, { atol: 0, rtol: 0, label: 'grid sum' });
    reduceSumSquares(gpu(), tx, out, tiny);
    cpu.reduceSumSquares(toF64(x), ref);
    expect(ref[0]).toBeLessThan(2 ** 24);
    expectClose([await readOne(out)], ref, { atol: 0, rtol: 0, label: 'grid sumSq' });
    tx.dispose();
    out.dispose();
  });

  for (const variant of variants) {
    it(`global sum of squares and norm over a list of odd tensors (${variant} tiles)`, async () => {
      const shapes = [[37], [1000], [5], [70001], [1], [0], [3, 7]];
      const xs = shapes.map((s, i) => uniform(s.reduce((a, b) => a * b, 1), 40 + i, -3, 3));
      const ts = xs.map((x, i) => fromArray(gpu(), x, shapes[i]!, `g${i}`));
      const out = empty(gpu(), [1], 'out'); // [1]
      const ref = new Float64Array(1);
      globalSumSquares(gpu(), ts, out, { variant });
      cpu.globalSumSquares(xs.map(toF64), ref);
      expectClose([await readOne(out)], ref, { atol: tolerance(xs, true, variant), rtol: 0, label: `global sumSq ${variant}` });
      globalNorm(gpu(), ts, out, { variant });
      cpu.globalNorm(xs.map(toF64), ref);
      expectClose([await readOne(out)], ref, { atol: 0, rtol: 1e-5, label: `global norm ${variant}` });
      // The norm of an empty list is 0 (stale data in out must not survive).
      globalNorm(gpu(), [], out, { variant });
      expect(await readOne(out)).toBe(0);
      ts.forEach((t) => t.dispose());
      out.dispose();
    });
  }

  it('repeats bit for bit from run to run', async () => {
    const xs = [uniform(70001, 9, -1, 1), uniform(1000, 10, -1, 1), uniform(37, 11, -1, 1)];
    const ts = xs.map((x, i) => fromArray(gpu(), x, [x.length], `d${i}`));
    const bits = async (f: (out: Tensor) => void): Promise<number[]> => {
      const runs: number[] = [];
      for (let r = 0; r < 2; r++) {
        const out = empty(gpu(), [1], 'out'); // [1]
        f(out);
        runs.push((await out.readU32())[0]!);
        out.dispose();
      }
      return runs;
    };
    for (const variant of variants) {
      const cases: [string, (out: Tensor) => void][] = [
        ['sum', (o) => reduceSum(gpu(), ts[0]!, o, { variant })],
        ['sumSq', (o) => reduceSumSquares(gpu(), ts[0]!, o, { variant })],
        ['norm', (o) => globalNorm(gpu(), ts, o, { variant })],
      ];
      for (const [name, f] of cases) {
        const [a, b] = await bits(f);
        expect(b, `${name} ${variant}: run 2 differs from run 1`).toBe(a);
      }
    }
    ts.forEach((t) => t.dispose());
  });

  it('rejects bad arguments before dispatching', () => {
    const x = fromArray(gpu(), new Float32Array(8), [8], 'x'); // [8]
    const out0 = empty(gpu(), [0], 'out0'); // [0]
    const out = empty(gpu(), [1], 'out'); // [1]
    const u = fromArray(gpu(), new Uint32Array(4), [4], 'u'); // [4]
    const before = gpu().dispatchCount;
    expect(() => reduceSum(gpu(), x, out0)).toThrow(/out 'out0' must hold at least 1 value/);
    expect(() => reduceSum(gpu(), u, out)).toThrow(/x 'u' must be f32/);
    expect(() => reduceSum(gpu(), x, x)).toThrow(/shares its buffer/);
    expect(() => reduceSum(gpu(), x, out, { workgroupSize: 48 })).toThrow(/power of two/);
    expect(() => reduceSum(gpu(), x, out, { itemsPerThread: 0 })).toThrow(/itemsPerThread/);
    expect(() => globalNorm(gpu(), [x, u], out)).toThrow(/xs\[1\] 'u' must be f32/);
    expect(gpu().dispatchCount).toBe(before);
    for (const t of [x, out0, out, u]) t.dispose();
    expect(REDUCE_TILES.gpu.workgroupSize).toBeGreaterThan(REDUCE_TILES.swiftshader.workgroupSize);
  });
});
