import { describe, expect, it } from 'vitest';
import { mean, median, medianInterval, pairedDifference, standardError, std, tCritical, tInterval } from '../../src/util/stats.ts';

describe('statistics over seeds', () => {
  it('mean, sample std and standard error by hand', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // sum of squares about 2.5: 2.25 + 0.25 + 0.25 + 2.25 = 5, / 3
    expect(std([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(standardError([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12);
    expect(std([7])).toBeNaN();
    expect(mean([])).toBeNaN();
  });

  it('t critical values match the tables (two-sided 95%)', () => {
    expect(tCritical(0.95, 1)).toBeCloseTo(12.7062, 3);
    expect(tCritical(0.95, 2)).toBeCloseTo(4.3027, 3);
    expect(tCritical(0.95, 4)).toBeCloseTo(2.7764, 3);
    expect(tCritical(0.99, 4)).toBeCloseTo(4.6041, 3);
    expect(() => tCritical(1.5, 3)).toThrow(/level/);
  });

  it('t-intervals for n = 2, 3, 5 by hand', () => {
    // n = 2: values 1, 3: mean 2, std sqrt(2), se 1, half-width 12.7062
    const two = tInterval([1, 3]);
    expect(two.mean).toBe(2);
    expect(two.high - two.mean).toBeCloseTo(12.7062, 3);
    // n = 3: values 1, 2, 6: mean 3, std sqrt(7), se sqrt(7/3), half 4.3027 * 1.5275
    const three = tInterval([1, 2, 6]);
    expect(three.low).toBeCloseTo(3 - 4.30265 * Math.sqrt(7 / 3), 3);
    // n = 5: values 2, 4, 4, 4, 6: mean 4, std sqrt(2), se sqrt(2/5), half 2.7764 * 0.63246
    const five = tInterval([2, 4, 4, 4, 6]);
    expect(five.high).toBeCloseTo(4 + 2.77645 * Math.sqrt(2 / 5), 3);
    expect(tInterval([5]).low).toBeNaN();
  });

  it('paired differences count wins and say when the interval contains 0', () => {
    const variant = [0.1, 0.1, 0.15, 0.12, 0.29];
    const baseline = [0.3, 0.25, 0.35, 0.3, 0.28];
    const d = pairedDifference(variant, baseline, true);
    expect(d.n).toBe(5);
    expect(d.better).toBe(4);
    expect(d.mean).toBeCloseTo(mean([-0.2, -0.15, -0.2, -0.18, 0.01]), 12);
    expect(d.containsZero).toBe(false);
    expect(d.high).toBeLessThan(0);
    // 4 of 5 better, but one seed against: -0.2, -0.05, -0.2, -0.18, +0.02 is not shown to differ
    expect(pairedDifference([0.1, 0.2, 0.15, 0.12, 0.3], baseline, true).containsZero).toBe(true);
    const noisy = pairedDifference([1, 3], [2, 2], true);
    expect(noisy.better).toBe(1);
    expect(noisy.containsZero).toBe(true);
    const higher = pairedDifference([0.9, 0.8], [0.5, 0.6], false);
    expect(higher.better).toBe(2);
    // a diverged run is left out of the interval and does not count as a win
    const div = pairedDifference([NaN, 0.1, 0.2], [0.5, 0.4, 0.3], true);
    expect(div.n).toBe(2);
    expect(div.better).toBe(2);
    expect(() => pairedDifference([1], [1, 2], true)).toThrow(/1 values against 2/);
  });
});

describe('median', () => {
  it('takes the middle value, the mean of the middle two for an even count, and leaves its input unsorted', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(/median of no values/);
  });
});

describe('medianInterval (distribution-free, binomial order statistics)', () => {
  // 1..n shuffled: the order statistics are the values themselves.
  const shuffled = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7) % n) + 1);

  it('takes x(4) .. x(12) for n = 15: coverage 1 - 2 P(Bin(15, 1/2) <= 3) = 1 - 2 x 576 / 32768', () => {
    const r = medianInterval(shuffled(15));
    expect(r.median).toBe(8);
    expect([r.low, r.high]).toEqual([4, 12]);
    expect(r.coverage).toBeCloseTo(1 - (2 * 576) / 32768, 12);
  });

  it('takes x(2) .. x(9) for n = 10 (1 - 2 x 11 / 1024), the middle two averaged for the median', () => {
    const r = medianInterval(shuffled(10));
    expect(r.median).toBe(5.5);
    expect([r.low, r.high]).toEqual([2, 9]);
    expect(r.coverage).toBeCloseTo(1 - 22 / 1024, 12);
  });

  it('is the whole range at n = 6 (1 - 2 / 64) and has no 95% interval at n = 5 (1 - 2 / 32 = 93.75%)', () => {
    expect(medianInterval(shuffled(6))).toMatchObject({ low: 1, high: 6, coverage: 1 - 2 / 64 });
    const five = medianInterval(shuffled(5));
    expect(five.median).toBe(3);
    expect(Number.isNaN(five.low) && Number.isNaN(five.high)).toBe(true);
    expect(medianInterval(shuffled(5), 0.9)).toMatchObject({ low: 1, high: 5 });
  });

  it('refuses a level outside (0, 1)', () => {
    expect(() => medianInterval([1, 2, 3], 1)).toThrow(/confidence level/);
  });
});
