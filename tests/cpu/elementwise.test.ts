import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/elementwise.ts';
import { dot, expectClose, finiteDiff, randn, toF64 } from '../helpers.ts';

/**
 * Checks analytic gradients against central differences of sum(forward(inputs) * dout) in float64.
 * `backward(inputs, dout)` returns one gradient per input.
 */
function checkGrads(
  label: string,
  inputs: Float64Array[],
  forward: (xs: Float64Array[]) => Float64Array,
  backward: (xs: Float64Array[], dout: Float64Array) => Float64Array[],
): void {
  const dout = toF64(randn(forward(inputs).length, 99));
  const numeric = finiteDiff((xs) => dot(forward(xs), dout), inputs);
  const analytic = backward(inputs, dout);
  analytic.forEach((g, i) => {
    expect(g).toBeInstanceOf(Float64Array);
    expectClose(g, numeric[i]!, { atol: 1e-7, rtol: 1e-6, label: `${label} d input ${i}` });
  });
}

const N = 37;
const C = 5;
const x64 = (seed: number, n = N, scale = 2) => toF64(randn(n, seed, scale));

describe('CPU elementwise backwards against float64 finite differences', () => {
  it('gelu', () => checkGrads('gelu', [x64(1)], ([x]) => cpu.geluForward(x!), ([x], d) => [cpu.geluBackward(x!, d)]));

  it('relu', () => checkGrads('relu', [x64(2)], ([x]) => cpu.reluForward(x!), ([x], d) => [cpu.reluBackward(x!, d)]));

  it('add', () =>
    checkGrads('add', [x64(3), x64(4)], ([a, b]) => cpu.addForward(a!, b!), (_xs, d) => {
      const { da, db } = cpu.addBackward(d);
      return [da, db];
    }));

  it('scale', () =>
    checkGrads('scale', [x64(5)], ([x]) => cpu.scaleForward(x!, -0.7), (_xs, d) => [cpu.scaleBackward(d, -0.7)]));

  it('addBroadcast', () =>
    checkGrads('addBroadcast', [x64(6, N * C), x64(7, C)], ([x, r]) => cpu.addBroadcastForward(x!, r!), (_xs, d) => {
      const { dx, drow } = cpu.addBroadcastBackward(d, C);
      return [dx, drow];
    }));

  it('dropout', () =>
    checkGrads('dropout', [x64(8, 101)], ([x]) => cpu.dropoutForward(x!, 0.3, 17, 5), (_xs, d) => [
      cpu.dropoutBackward(d, 0.3, 17, 5),
    ]));
});

describe('dropout RNG (CPU reference)', () => {
  const hexWords = (text: string) => text.split(' ').map((h) => parseInt(h, 16));
  // Known-answer vectors of philox4x32-10 from Random123's tests/kat_vectors: counter, key, output.
  const KAT = [
    ['00000000 00000000 00000000 00000000', '00000000 00000000', '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    ['ffffffff ffffffff ffffffff ffffffff', 'ffffffff ffffffff', '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    ['243f6a88 85a308d3 13198a2e 03707344', 'a4093822 299f31d0', 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ] as const;
  for (const [counter, key, out] of KAT) {
    it(`Philox4x32-10 matches Random123 for counter ${counter}`, () => {
      expect(Array.from(cpu.philox4x32(hexWords(counter), hexWords(key)))).toEqual(hexWords(out));
    });
  }

  it('the mask at offset o + s is the mask at o shifted by s, across a 64-bit counter carry', () => {
    const base = 4 * (2 ** 32 - 2) - 3;
    const whole = cpu.dropoutMask(64, 0.5, 3, base);
    for (const s of [1, 2, 3, 4, 7, 13]) {
      expect(Array.from(cpu.dropoutMask(64 - s, 0.5, 3, base + s))).toEqual(Array.from(whole.subarray(s)));
    }
  });

  it('keeps about 1 - p, uses inverted scaling, and p = 0 keeps everything', () => {
    const n = 10_000;
    for (const p of [0.1, 0.5, 0.9]) {
      const kept = cpu.dropoutMask(n, p, 1, 0).reduce((a, m) => a + m, 0) / n;
      expect(Math.abs(kept - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    }
    expect(cpu.dropoutMask(n, 0, 1, 0).every((m) => m === 1)).toBe(true);
    const y = cpu.dropoutForward(new Float64Array(8).fill(1), 0.2, 1, 0);
    for (const v of y) expect([0, 1 / 0.8]).toContain(v);
  });

  it('float32 inputs give float32 outputs, float64 give float64', () => {
    expect(cpu.geluForward(new Float32Array(3))).toBeInstanceOf(Float32Array);
    expect(cpu.dropoutForward(new Float64Array(3), 0.5, 1, 0)).toBeInstanceOf(Float64Array);
  });
});
