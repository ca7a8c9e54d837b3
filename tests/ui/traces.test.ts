// Chart thinning and smoothing: a trace keeps at most MAX_POINTS (the last point always), and
// smoothing is an exponential moving average over every raw finite point.
import { describe, expect, it } from 'vitest';
import { finitePoints } from '../../src/store/groups.ts';
import { MAX_POINTS, thin } from '../../src/ui/traces.ts';

describe('chart traces', () => {
  it('keeps long runs under the point budget, with the last point', () => {
    const n = 10_000;
    const x = Array.from({ length: n }, (_, i) => i + 1);
    const t = thin(x, x);
    expect(t.x.length).toBeLessThanOrEqual(MAX_POINTS + 1);
    expect(t.x.at(-1)).toBe(n);
    expect(thin([1, 2], [3, 4])).toEqual({ x: [1, 2], y: [3, 4] });
  });

  it('smooths with an exponential moving average over the finite points only', () => {
    const p = finitePoints(Float64Array.of(1, 2, 3), Float64Array.of(0, NaN, 10), 0.5);
    expect(p.x).toEqual([1, 3]);
    expect(p.y).toEqual([0, 5]);
  });
});
