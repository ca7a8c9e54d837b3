// Statistics over seeds: mean, sample standard deviation, standard error and Student-t intervals
// for paired differences. The t quantiles come from stdlib (a well-kept numerical library) rather
// than a hand-written inverse incomplete beta function; so does the binomial CDF behind the
// distribution-free interval of a median (the benchmarks' interleaved timing pairs).
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
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

/** The median (the mean of the two middle values for an even count); an empty list is an error. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface MedianInterval {
  median: number;
  /** The order statistics that bound the median with at least `level` coverage (NaN when n is too small). */
  low: number;
  high: number;
  /** The coverage those two order statistics actually give (binomial, exact). */
  coverage: number;
}

/**
 * The median of `values` and its distribution-free confidence interval: the order statistics
 * x(k) and x(n + 1 - k) with the largest k whose coverage 1 - 2 P(Bin(n, 1/2) <= k - 1) is still
 * at least `level`. It assumes only independent draws from one distribution (for a ratio of two
 * interleaved timings, the pairs), not a normal one. With n = 15 it is x(4) .. x(12), 96.5%; below
 * n = 6 no pair of order statistics reaches 95%, and low and high are NaN.
 */
export function medianInterval(values: readonly number[], level = 0.95): MedianInterval {
  if (!(level > 0 && level < 1)) throw new Error(`confidence level must be in (0, 1); got ${level}`);
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { median: NaN, low: NaN, high: NaN, coverage: NaN };
  const mid = median(s);
  let k = 0;
  let coverage = NaN;
  for (let j = 1; 2 * j <= n; j++) {
    const c = 1 - 2 * binomialCdf(j - 1, n, 0.5);
    if (c < level) break;
    k = j;
    coverage = c;
  }
  if (k === 0) return { median: mid, low: NaN, high: NaN, coverage: NaN };
  return { median: mid, low: s[k - 1]!, high: s[n - k]!, coverage };
}
