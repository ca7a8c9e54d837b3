// Statistics over seeds: mean, sample standard deviation, standard error and Student-t intervals
// for paired differences. The t quantiles come from stdlib (a well-kept numerical library) rather
// than a hand-written inverse incomplete beta function.
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Sample standard deviation (n - 1 in the denominator); NaN for fewer than two values. */
export function std(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return NaN;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return Math.sqrt(s / (n - 1));
}

/** Standard error of the mean, std / sqrt(n). */
export function standardError(values: readonly number[]): number {
  return std(values) / Math.sqrt(values.length);
}

/** The two-sided Student-t critical value for `level` (e.g. 0.95) with `df` degrees of freedom. */
export function tCritical(level: number, df: number): number {
  if (!(level > 0 && level < 1)) throw new Error(`confidence level must be in (0, 1); got ${level}`);
  if (!(df >= 1)) return NaN;
  return tQuantile(1 - (1 - level) / 2, df);
}

export interface Interval {
  mean: number;
  low: number;
  high: number;
}

/** Mean with its two-sided t-interval (NaN bounds for fewer than two values). */
export function tInterval(values: readonly number[], level = 0.95): Interval {
  const m = mean(values);
  const half = tCritical(level, values.length - 1) * standardError(values);
  return { mean: m, low: m - half, high: m + half };
}

export interface PairedDifference extends Interval {
  n: number;
  /** Seeds on which the variant beat the baseline (by `lowerIsBetter`). */
  better: number;
  /** True when the interval contains 0: no difference shown at this level. */
  containsZero: boolean;
}

/**
 * The paired difference a - b over seeds (a[i] and b[i] from the same seed), its t-interval, and
 * on how many seeds a was better than b. Non-finite pairs (a diverged run) are left out of the
 * interval and counted as not better.
 */
export function pairedDifference(
  a: readonly number[],
  b: readonly number[],
  lowerIsBetter: boolean,
  level = 0.95,
): PairedDifference {
  if (a.length !== b.length) throw new Error(`paired difference: ${a.length} values against ${b.length}`);
  const diffs: number[] = [];
  let better = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (!Number.isFinite(d)) continue;
    diffs.push(d);
    if (lowerIsBetter ? d < 0 : d > 0) better++;
  }
  const iv = tInterval(diffs, level);
  return { ...iv, n: diffs.length, better, containsZero: !(iv.low > 0 || iv.high < 0) };
}
