import { describe, expect, it } from 'vitest';
import { globalNorm, globalSumSquares, reduceSum, reduceSumSquares } from '../../src/engine/cpu/reduce.ts';

// The reductions have no backward; these pin the references the GPU is compared against.
describe('CPU reduction references', () => {
  const cases: { name: string; x: number[]; sum: number; sumSq: number }[] = [
    { name: 'empty', x: [], sum: 0, sumSq: 0 },
    { name: 'one value', x: [-3], sum: -3, sumSq: 9 },
    { name: 'mixed signs', x: [1, -2, 3.5, 0.25], sum: 2.75, sumSq: 1 + 4 + 12.25 + 0.0625 },
  ];
  for (const c of cases) {
    it(`sum and sum of squares: ${c.name}`, () => {
      for (const Ctor of [Float32Array, Float64Array]) {
        const out = new Ctor(1);
        reduceSum(Ctor.from(c.x), out);
        expect(out[0]).toBe(c.sum);
        reduceSumSquares(Ctor.from(c.x), out);
        expect(out[0]).toBe(c.sumSq);
      }
    });
  }

  it('adds in float64 even for float32 input (no float32 rounding drift)', () => {
    // 2^24 + 1 + 1 + ... is lost in float32 accumulation, kept in float64.
    const x = new Float32Array([2 ** 24, 1, 1, 1, 1]);
    const out = new Float64Array(1);
    reduceSum(new Float64Array(x), out);
    expect(out[0]).toBe(2 ** 24 + 4);
    const out32 = new Float32Array(1);
    reduceSum(x, out32);
    expect(out32[0]).toBe(2 ** 24 + 4);
  });

  it('global sum of squares and norm over a list', () => {
    const xs = [new Float64Array([3]), new Float64Array([]), new Float64Array([4, 0])];
    const out = new Float64Array(1);
    globalSumSquares(xs, out);
    expect(out[0]).toBe(25);
    globalNorm(xs, out);
    expect(out[0]).toBe(5);
    globalNorm([], out);
    expect(out[0]).toBe(0);
  });

  it('refuses an empty output', () => {
    expect(() => reduceSum(new Float32Array(3), new Float32Array(0))).toThrow(/at least 1 value/);
  });
});
