// Chart thinning: a trace keeps every stride-th finite point, within MAX_POINTS, smoothing over all.
import { describe, expect, it } from 'vitest';
import { MAX_POINTS, newCursor, strideFor, takePoints } from '../../src/ui/traces.ts';

describe('chart traces', () => {
  it('keeps long runs under the point budget and extends incrementally', () => {
    const n = 10_000;
    const xs = Float64Array.from({ length: n }, (_, i) => i + 1);
    const ys = Float64Array.from({ length: n }, (_, i) => (i % 50 === 0 ? i : NaN)); // eval steps only
    const stride = strideFor(200);
    expect(stride).toBe(1);
    expect(strideFor(3 * MAX_POINTS)).toBe(4);
    const cur = newCursor(stride);
    const first = takePoints(cur, xs.subarray(0, 5000), ys.subarray(0, 5000), 0);
    const rest = takePoints(cur, xs, ys, 0);
    expect(first.x.length + rest.x.length).toBe(200);
    expect(rest.x[0]).toBe(5001);
  });

  it('smooths with an exponential moving average over every raw point', () => {
    const cur = newCursor(2);
    const p = takePoints(cur, Float64Array.of(1, 2, 3), Float64Array.of(0, 10, 10), 0.5);
    expect(p.x).toEqual([1, 3]);
    expect(p.y).toEqual([0, 7.5]);
  });
});
