import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/heads.ts';
import { dot, expectClose, finiteDiff, randn, toF64 } from '../helpers.ts';

const dims = { B: 2, N: 5, H: 3, D: 2 };
const size = dims.B * dims.N * dims.H * dims.D;

describe('CPU head reshapes', () => {
  it('splitHeads backward (with a part lacking a gradient) against finite differences', () => {
    const P = 3;
    const x = toF64(randn(size * P, 1));
    const douts = [toF64(randn(size, 2)), null, toF64(randn(size, 3))];
    const loss = ([v]: Float64Array[]) =>
      cpu.splitHeadsForward(v!, dims, P).reduce((acc, out, q) => acc + (douts[q] ? dot(out, douts[q]!) : 0), 0);
    const [numeric] = finiteDiff(loss, [x]);
    const dx = cpu.splitHeadsBackward(douts, dims);
    expect(dx).toBeInstanceOf(Float64Array);
    expectClose(dx, numeric!, { atol: 1e-8, label: 'split dx' });
  });

  it('mergeHeads backward against finite differences', () => {
    const x = toF64(randn(size, 4));
    const dy = toF64(randn(size, 5));
    const [numeric] = finiteDiff(([v]) => dot(cpu.mergeHeadsForward(v!, dims), dy), [x]);
    expectClose(cpu.mergeHeadsBackward(dy, dims), numeric!, { atol: 1e-8, label: 'merge dx' });
  });

  it('places (b, n, part, h, d) of the fused layout at (b, h, n, d) of the part', () => {
    const P = 2;
    const x = Float64Array.from({ length: size * P }, (_, i) => i);
    const outs = cpu.splitHeadsForward(x, dims, P);
    const { N, H, D } = dims;
    // b = 1, n = 4, part 1, h = 2, d = 1
    expect(outs[1]![((1 * H + 2) * N + 4) * D + 1]).toBe((((1 * N + 4) * P + 1) * H + 2) * D + 1);
  });

  it('merging each split part back gives the fused input, part by part', () => {
    const P = 3;
    const x = toF64(randn(size * P, 6));
    const outs = cpu.splitHeadsForward(x, dims, P);
    expectClose(cpu.splitHeadsBackward(outs, dims), x, { atol: 0, label: 'round trip' });
    const wide = { ...dims, D: dims.D * P };
    expectClose(cpu.mergeHeadsForward(cpu.splitHeadsForward(x, wide, 1)[0]!, wide), x, { atol: 0, label: 'split P=1 then merge' });
  });
});
