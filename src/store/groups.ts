// Seed groups: the runs of one variant in one comparison, which differ only by seed. Their curves
// are drawn as a mean with a band (min-max, +-1 std or +-1 standard error) over the member runs at
// each step, and their final metrics summarised in the results table (results.ts).
import { mean, std } from '../util/stats.ts';
import type { MetricColumn, MetricsHub } from './metrics.ts';
import type { BandKind, RunView } from './store.ts';

export interface RunGroupView {
  key: string;
  label: string;
  comparison: string | null;
  colorIndex: number;
  members: RunView[];
}

/** Runs by group in list order; a run outside any group is a group of its own. */
export function groupsOf(runs: Record<string, RunView>, order: string[]): RunGroupView[] {
  const out: RunGroupView[] = [];
  const byKey = new Map<string, RunGroupView>();
  for (const id of order) {
    const r = runs[id];
    if (!r) continue;
    const key = r.group?.key ?? `run:${r.id}`;
    let g = byKey.get(key);
    if (!g) {
      g = { key, label: r.group?.label ?? r.name, comparison: r.group?.comparison ?? null, colorIndex: r.colorIndex, members: [] };
      byKey.set(key, g);
      out.push(g);
    }
    g.members.push(r);
  }
  return out;
}

export interface Band {
  x: number[];
  mean: number[];
  low: number[];
  high: number[];
  /** Members with a value at each x. */
  n: number[];
}

/** A column's finite points, smoothed by an exponential moving average (0: raw). */
export function finitePoints(xs: Float64Array, ys: Float64Array, smoothing: number, steps?: Float64Array): { x: number[]; y: number[]; step: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const step: number[] = [];
  let ema: number | null = null;
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const v = ys[i]!;
    if (!Number.isFinite(v)) continue;
    ema = ema === null || smoothing <= 0 ? v : smoothing * ema + (1 - smoothing) * v;
    x.push(xs[i]!);
    y.push(ema);
    step.push(steps ? steps[i]! : xs[i]!);
  }
  return { x, y, step };
}

/**
 * The group's mean and band per step over the members that have a finite value there (x is the
 * step, or the members' mean wall-clock seconds at that step), at most `maxPoints` points.
 */
export function groupBand(
  members: { id: string }[],
  hub: MetricsHub,
  y: MetricColumn | ((s: ReturnType<MetricsHub['get']>) => Float64Array),
  opts: { x: 'step' | 'time'; smoothing: number; band: BandKind },
  maxPoints = 300,
): Band {
  const at = new Map<number, { v: number[]; t: number[] }>();
  for (const m of members) {
    if (!hub.has(m.id)) continue;
    const s = hub.get(m.id);
    const ys = typeof y === 'string' ? s.col(y) : y(s);
    const p = finitePoints(s.col('wallSeconds'), ys, opts.smoothing, s.col('step'));
    for (let i = 0; i < p.y.length; i++) {
      let e = at.get(p.step[i]!);
      if (!e) at.set(p.step[i]!, (e = { v: [], t: [] }));
      e.v.push(p.y[i]!);
      e.t.push(p.x[i]!);
    }
  }
  const steps = [...at.keys()].sort((a, b) => a - b);
  const stride = Math.max(1, Math.ceil(steps.length / maxPoints));
  const band: Band = { x: [], mean: [], low: [], high: [], n: [] };
  steps.forEach((st, i) => {
    if (i % stride !== 0 && i !== steps.length - 1) return;
    const e = at.get(st)!;
    const m = mean(e.v);
    let lo = m;
    let hi = m;
    if (e.v.length > 1) {
      if (opts.band === 'minmax') {
        lo = Math.min(...e.v);
        hi = Math.max(...e.v);
      } else {
        const d = opts.band === 'std' ? std(e.v) : std(e.v) / Math.sqrt(e.v.length);
        lo = m - d;
        hi = m + d;
      }
    }
    band.x.push(opts.x === 'step' ? st : mean(e.t));
    band.mean.push(m);
    band.low.push(lo);
    band.high.push(hi);
    band.n.push(e.v.length);
  });
  return band;
}
