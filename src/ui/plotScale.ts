// Axes of the live curves' canvas plots (canvasPlot.ts): the range the data spans, "nice" ticks
// (1, 2 or 5 x 10^k apart; powers of ten on a log axis), their labels, and the point of a trace
// nearest to an x value (the hover readout). Pure, so the tests check them without a canvas.

export interface Scale {
  /** Data range shown (on a log axis: still in data units, both > 0). */
  min: number;
  max: number;
  log: boolean;
  /** Pixels of the range's ends (pxMax < pxMin on a vertical axis). */
  pxMin: number;
  pxMax: number;
}

const tf = (s: Scale, v: number) => (s.log ? Math.log10(v) : v);

/** Pixel of a data value (NaN where a log axis has no place for it). */
export function toPx(s: Scale, v: number): number {
  if (s.log && !(v > 0)) return NaN;
  const a = tf(s, s.min);
  const b = tf(s, s.max);
  return s.pxMin + ((tf(s, v) - a) / (b - a)) * (s.pxMax - s.pxMin);
}

/** Data value at a pixel. */
export function fromPx(s: Scale, px: number): number {
  const a = tf(s, s.min);
  const b = tf(s, s.max);
  const t = a + ((px - s.pxMin) / (s.pxMax - s.pxMin)) * (b - a);
  return s.log ? 10 ** t : t;
}

/**
 * The range that holds every value (non-finite ones and, on a log axis, values <= 0 left out),
 * widened by `pad` of its length on each side (in log space on a log axis); a single value gets a
 * range around it; no value at all gives [0, 1] ([1, 10] on a log axis).
 */
export function extent(values: Iterable<number>, log: boolean, pad: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    const t = log ? Math.log10(v) : v;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  if (lo > hi) return log ? [1, 10] : [0, 1];
  if (lo === hi) {
    const d = log ? 0.5 : Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  } else {
    const d = (hi - lo) * pad;
    lo -= d;
    hi += d;
  }
  return log ? [10 ** lo, 10 ** hi] : [lo, hi];
}

/** 1, 2 or 5 x 10^k, the smallest at least `raw`. */
export function niceStep(raw: number): number {
  const e = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * e >= raw * (1 - 1e-9)) return m * e;
  return 10 * e;
}

/** Ticks about `target` apart-counts over [min, max] on a linear axis, nice steps. */
export function linearTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) return [min];
  const step = niceStep((max - min) / target);
  const out: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** Ticks on a log axis: powers of ten, with 2 and 5 between them over less than three decades. */
export function logTicks(min: number, max: number): number[] {
  const a = Math.floor(Math.log10(min));
  const b = Math.ceil(Math.log10(max));
  const mults = Math.log10(max / min) <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = a; e <= b; e++) for (const m of mults) {
    const v = Number((m * 10 ** e).toPrecision(12));
    if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
  }
  if (out.length >= 2) return out;
  // Less than a decade with no 1-2-5 inside it: evenly spaced values, in log space.
  return linearTicks(min, max, 4).filter((v) => v > 0);
}

export function ticks(s: Scale, target = 5): number[] {
  return s.log ? logTicks(s.min, s.max) : linearTicks(s.min, s.max, target);
}

/** A tick label: 10k for 10000, 0.001, 2.5, 1e-7 (short, like Plotly's defaults). */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a < 1e-4) return v.toExponential(0);
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/** A value in a hover readout: four significant digits. */
export function valueLabel(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Index of the element of ascending `xs` nearest to `x` (-1 when empty). */
export function nearest(xs: ArrayLike<number>, x: number): number {
  const n = xs.length;
  if (n === 0) return -1;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[lo]! - x) <= Math.abs(xs[hi]! - x) ? lo : hi;
}
