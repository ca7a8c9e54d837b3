// The CPU reference of the matmul family against float64 finite differences of
// L = sum(forward(inputs) * dout), and its forward against a direct triple loop.
import { describe, expect, it } from 'vitest';
import {
  linearBackward,
  linearForward,
  matmulBackward,
  matmulForward,
  matmulInto,
  sumRowsInto,
  type MatmulShape,
} from '../../src/engine/cpu/matmul.ts';
import { dot, expectClose, finiteDiff, toF64, uniform } from '../helpers.ts';

/** Finite differences in float64 reach ~1e-9 here; the tolerance leaves room for larger sums. */
const FD_TOL = { atol: 1e-7, rtol: 1e-6 };

const shapes: [string, MatmulShape][] = [
  ['1x1x1', { batch: 1, m: 1, n: 1, k: 1 }],
  ['3x4x5', { batch: 1, m: 3, n: 4, k: 5 }],
  ['batch 2, 3x2x5, transA', { batch: 2, m: 3, n: 2, k: 5, transA: true }],
  ['batch 2, 4x3x2, transB', { batch: 2, m: 4, n: 3, k: 2, transB: true }],
  ['batch 3, 2x5x3, both transposed', { batch: 3, m: 2, n: 5, k: 3, transA: true, transB: true }],
  ['batch 3, 3x4x2, shared B', { batch: 3, m: 3, n: 4, k: 2, bShared: true }],
  ['batch 2, 3x2x4, shared B^T, A^T', { batch: 2, m: 3, n: 2, k: 4, bShared: true, transA: true, transB: true }],
];

describe('cpu matmul reference', () => {
  it('matches a direct product of the logical matrices', () => {
    const [m, n, k] = [3, 4, 5];
    const a = toF64(uniform(k * m, 1)); // stored [K, M]
    const b = toF64(uniform(n * k, 2)); // stored [N, K]
    const bias = toF64(uniform(n, 3));
    const c = toF64(uniform(m * n, 4));
    const c0 = c.slice();
    matmulInto({ a, b, c, bias, batch: 1, m, n, k, transA: true, transB: true, accumulate: true });
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = c0[i * n + j]! + bias[j]!;
        for (let p = 0; p < k; p++) s += a[p * m + i]! * b[j * k + p]!;
        want[i * n + j] = s;
      }
    }
    expectClose(c, want, { atol: 1e-12, label: 'A^T B^T + bias + C' });
  });

  it('sums over the batch with sumBatch, and over rows with sumRowsInto', () => {
    const [batch, m, n, k] = [3, 2, 3, 4];
    const a = toF64(uniform(batch * m * k, 5));
    const b = toF64(uniform(batch * k * n, 6));
    const summed = new Float64Array(m * n);
    matmulInto({ a, b, c: summed, batch, m, n, k, sumBatch: true });
    const each = matmulForward(a, b, { batch, m, n, k });
    const want = new Float64Array(m * n);
    sumRowsInto({ x: each, out: want, rows: batch, cols: m * n });
    expectClose(summed, want, { atol: 1e-12, label: 'sumBatch' });
    expect(() => sumRowsInto({ x: each, out: new Float64Array(5), rows: batch, cols: m * n })).toThrow(/expected 6/);
  });

  for (const [name, s] of shapes) {
    it(`matmulBackward matches finite differences: ${name}`, () => {
      const a = toF64(uniform(s.batch * s.m * s.k, 10));
      const b = toF64(uniform((s.bShared ? 1 : s.batch) * s.k * s.n, 11));
      const dout = toF64(uniform(s.batch * s.m * s.n, 12));
      const { da, db } = matmulBackward(a, b, dout, s);
      const [na, nb] = finiteDiff(([x, y]) => dot(matmulForward(x!, y!, s), dout), [a, b]);
      expectClose(da, na!, { ...FD_TOL, label: 'dA' });
      expectClose(db, nb!, { ...FD_TOL, label: 'dB' });
    });
  }

  it('linearBackward matches finite differences (dx, dW, dbias)', () => {
    const [rows, k, n] = [5, 3, 4];
    const x = toF64(uniform(rows * k, 20));
    const w = toF64(uniform(k * n, 21));
    const bias = toF64(uniform(n, 22));
    const dout = toF64(uniform(rows * n, 23));
    const { dx, dw, dbias } = linearBackward(x, w, dout, rows, k, n);
    const num = finiteDiff(([xx, ww, bb]) => dot(linearForward(xx!, ww!, bb!, rows, k, n), dout), [x, w, bias]);
    expectClose(dx, num[0]!, { ...FD_TOL, label: 'dx' });
    expectClose(dw, num[1]!, { ...FD_TOL, label: 'dW' });
    expectClose(dbias, num[2]!, { ...FD_TOL, label: 'dbias' });
  });

  it('keeps the input type and rejects wrong lengths', () => {
    const c32 = matmulForward(new Float32Array(6), new Float32Array(6), { batch: 1, m: 2, n: 2, k: 3 });
    expect(c32).toBeInstanceOf(Float32Array);
    expect(() => matmulForward(new Float64Array(5), new Float64Array(6), { batch: 1, m: 2, n: 2, k: 3 })).toThrow(
      /matmul A: has 5 values, expected 6/,
    );
  });
});
