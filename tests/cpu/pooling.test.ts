import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/pooling.ts';
import { dot, expectClose, finiteDiff, randn, toF64 } from '../helpers.ts';

describe('CPU mean pooling', () => {
  const dims = { B: 3, N: 7, C: 5 };
  const lengths = [7, 1, 4];

  it('backward against finite differences', () => {
    const x = toF64(randn(dims.B * dims.N * dims.C, 1));
    const dy = toF64(randn(dims.B * dims.C, 2));
    const [numeric] = finiteDiff(([v]) => dot(cpu.meanPoolForward(v!, lengths, dims), dy), [x]);
    const dx = cpu.meanPoolBackward(dy, lengths, dims);
    expect(dx).toBeInstanceOf(Float64Array);
    expectClose(dx, numeric!, { atol: 1e-8, label: 'meanPool dx' });
  });

  it('averages the first L_b tokens; padding changes nothing', () => {
    const x = toF64(randn(dims.B * dims.N * dims.C, 3));
    const y = cpu.meanPoolForward(x, lengths, dims);
    // row 1 pools its first token alone (a CLS token)
    expectClose(y.subarray(5, 10), x.subarray(1 * 35, 1 * 35 + 5), { atol: 0, label: 'length 1' });
    const padded = x.slice();
    for (let t = 4; t < 7; t++) for (let c = 0; c < 5; c++) padded[(2 * 7 + t) * 5 + c] = 1e6;
    expectClose(cpu.meanPoolForward(padded, lengths, dims), y, { atol: 0, label: 'padding ignored' });
  });
});
