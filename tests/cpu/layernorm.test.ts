import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/layernorm.ts';
import { dot, expectClose, finiteDiff, randn, toF64, uniform } from '../helpers.ts';

describe('CPU LayerNorm backward against float64 finite differences', () => {
  // [R, C]: one element per row (the output is just bias), odd sizes, a long row.
  const SHAPES: [number, number][] = [
    [3, 1],
    [7, 5],
    [4, 37],
    [2, 257],
  ];
  for (const [R, C] of SHAPES) {
    it(`dx, dgain, dbias for [${R}, ${C}]`, () => {
      const x = toF64(randn(R * C, R + C, 2)).map((v) => v + 3);
      const gain = toF64(uniform(C, 2, 0.5, 1.5));
      const bias = toF64(uniform(C, 3));
      const dy = toF64(randn(R * C, 4));
      const eps = 1e-5;
      const { mean, rstd } = cpu.layerNormForward(x, gain, bias, eps);
      const { dx, dgain, dbias } = cpu.layerNormBackward(x, gain, mean, rstd, dy);
      expect(dx).toBeInstanceOf(Float64Array);
      const [nx, ng, nb] = finiteDiff(([a, g, b]) => dot(cpu.layerNormForward(a!, g!, b!, eps).y, dy), [x, gain, bias]);
      expectClose(dx, nx!, { atol: 1e-7, rtol: 1e-6, label: 'dx' });
      expectClose(dgain, ng!, { atol: 1e-7, rtol: 1e-6, label: 'dgain' });
      expectClose(dbias, nb!, { atol: 1e-7, rtol: 1e-6, label: 'dbias' });
    });
  }

  it('normalizes each row to mean 0 and variance 1 / (1 + eps / var)', () => {
    const C = 37;
    const x = toF64(randn(3 * C, 9, 4));
    const { y, mean, rstd } = cpu.layerNormForward(x, new Float64Array(C).fill(1), new Float64Array(C), 0);
    for (let r = 0; r < 3; r++) {
      const row = y.subarray(r * C, (r + 1) * C);
      expect(Math.abs(row.reduce((a, v) => a + v, 0) / C)).toBeLessThan(1e-12);
      expect(Math.abs(row.reduce((a, v) => a + v * v, 0) / C - 1)).toBeLessThan(1e-12);
      expect(rstd[r]).toBeGreaterThan(0);
      expect(Number.isFinite(mean[r])).toBe(true);
    }
  });

  it('keeps float32 in float32', () => {
    const out = cpu.layerNormForward(new Float32Array(10).fill(1), new Float32Array(5), new Float32Array(5));
    expect(out.y).toBeInstanceOf(Float32Array);
    expect(out.rstd).toBeInstanceOf(Float32Array);
  });
});
