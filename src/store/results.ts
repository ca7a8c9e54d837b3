// The results table of a comparison: per variant (seed group), each run's final metrics and the
// steps and wall seconds it took to reach a test-loss threshold, as mean +- std over seeds with n,
// and the paired difference to a baseline variant (same seeds) with its 95% t-interval and the
// number of seeds on which the variant did better.
import { mean, pairedDifference, std, type PairedDifference } from '../util/stats.ts';
import type { RunGroupView } from './groups.ts';
import type { MetricsHub } from './metrics.ts';
import type { RunView } from './store.ts';

export type ResultMetric = 'trainLoss' | 'testLoss' | 'accuracy' | 'bitsPerDim' | 'stepsTo' | 'secondsTo';

export const RESULT_METRICS: { id: ResultMetric; label: string; lowerIsBetter: boolean }[] = [
  { id: 'trainLoss', label: 'final train loss', lowerIsBetter: true },
  { id: 'testLoss', label: 'final test loss', lowerIsBetter: true },
  { id: 'accuracy', label: 'final accuracy', lowerIsBetter: false },
  { id: 'bitsPerDim', label: 'final bits/dim', lowerIsBetter: true },
  { id: 'stepsTo', label: 'steps to threshold', lowerIsBetter: true },
  { id: 'secondsTo', label: 'wall seconds to threshold', lowerIsBetter: true },
];

/** One run's figures (NaN where it has none: no evaluation yet, or the threshold never reached). */
export function runFigures(run: RunView, hub: MetricsHub, threshold: number | null): Record<ResultMetric, number> {
  const out: Record<ResultMetric, number> = { trainLoss: NaN, testLoss: NaN, accuracy: NaN, bitsPerDim: NaN, stepsTo: NaN, secondsTo: NaN };
  if (!hub.has(run.id)) return out;
  const s = hub.get(run.id);
  const last = (c: 'trainLoss' | 'testLoss' | 'accuracy' | 'bitsPerDim') => {
    const col = s.col(c);
    for (let i = col.length - 1; i >= 0; i--) if (Number.isFinite(col[i]!)) return col[i]!;
    return NaN;
  };
  out.trainLoss = last('trainLoss');
  out.testLoss = last('testLoss');
  out.accuracy = last('accuracy');
  out.bitsPerDim = last('bitsPerDim');
  if (threshold !== null) {
    const test = s.col('testLoss');
    for (let i = 0; i < test.length; i++) {
      if (test[i]! <= threshold) {
        out.stepsTo = s.col('step')[i]!;
        out.secondsTo = s.col('wallSeconds')[i]!;
        break;
      }
    }
  }
  return out;
}

export interface ResultRow {
  variant: string;
  metric: ResultMetric;
  n: number;
  mean: number;
  std: number;
  /** Per seed, in seed order (NaN where a run has no value). */
  values: number[];
  seeds: number[];
  /** Against the baseline variant on the same seeds (absent for the baseline itself). */
  pairedDiff?: PairedDifference;
}

export interface ResultsTable {
  comparison: string;
  baseline: string;
  threshold: number | null;
  metrics: ResultMetric[];
  rows: ResultRow[];
}

/** The table of one comparison's groups; metrics that no run has are left out. */
export function resultsTable(groups: RunGroupView[], hub: MetricsHub, opts: { baseline: string | null; threshold: number | null }): ResultsTable | null {
  if (groups.length === 0) return null;
  const comparison = groups[0]!.comparison ?? groups[0]!.key;
  const figs = new Map<string, { seeds: number[]; f: Record<ResultMetric, number>[] }>();
  for (const g of groups) {
    const members = [...g.members].sort((a, b) => a.config.seed - b.config.seed);
    figs.set(g.label, { seeds: members.map((m) => m.config.seed), f: members.map((m) => runFigures(m, hub, opts.threshold)) });
  }
  const baseline = opts.baseline && figs.has(opts.baseline) ? opts.baseline : groups[0]!.label;
  const metrics = RESULT_METRICS.filter(
    (m) =>
      (m.id !== 'stepsTo' && m.id !== 'secondsTo') || opts.threshold !== null,
  )
    .filter((m) => m.id === 'stepsTo' || m.id === 'secondsTo' || [...figs.values()].some((g) => g.f.some((f) => Number.isFinite(f[m.id]))))
    .map((m) => m.id);
  const base = figs.get(baseline)!;
  const rows: ResultRow[] = [];
  for (const g of groups) {
    const { seeds, f } = figs.get(g.label)!;
    for (const metric of metrics) {
      const values = f.map((x) => x[metric]);
      const finite = values.filter(Number.isFinite);
      const row: ResultRow = { variant: g.label, metric, n: finite.length, mean: mean(finite), std: std(finite), values, seeds };
      if (g.label !== baseline) {
        const shared = seeds.filter((s) => base.seeds.includes(s));
        const a = shared.map((s) => values[seeds.indexOf(s)]!);
        const b = shared.map((s) => base.f[base.seeds.indexOf(s)]![metric]);
        row.pairedDiff = pairedDifference(a, b, RESULT_METRICS.find((m) => m.id === metric)!.lowerIsBetter);
      }
      rows.push(row);
    }
  }
  return { comparison, baseline, threshold: opts.threshold, metrics, rows };
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : '');

export function resultsCsv(t: ResultsTable): string {
  const head = ['variant', 'metric', 'n', 'mean', 'std', 'baseline', 'diff_mean', 'diff_low95', 'diff_high95', 'better_seeds', 'paired_n', 'interval_contains_0', 'seeds', 'values'];
  const lines = [head.join(',')];
  for (const r of t.rows) {
    const d = r.pairedDiff;
    lines.push(
      [
        r.variant,
        r.metric,
        r.n,
        num(r.mean),
        num(r.std),
        t.baseline,
        d ? num(d.mean) : '',
        d ? num(d.low) : '',
        d ? num(d.high) : '',
        d ? d.better : '',
        d ? d.n : '',
        d ? String(d.containsZero) : '',
        `"${r.seeds.join(' ')}"`,
        `"${r.values.map(num).join(' ')}"`,
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

export function resultsJson(t: ResultsTable): string {
  const clean = (v: number) => (Number.isFinite(v) ? v : null);
  return JSON.stringify(
    {
      comparison: t.comparison,
      baseline: t.baseline,
      threshold: t.threshold,
      rows: t.rows.map((r) => ({
        variant: r.variant,
        metric: r.metric,
        n: r.n,
        mean: clean(r.mean),
        std: clean(r.std),
        values: r.values.map(clean),
        seeds: r.seeds,
        ...(r.pairedDiff
          ? {
              pairedDiff: {
                mean: clean(r.pairedDiff.mean),
                low: clean(r.pairedDiff.low),
                high: clean(r.pairedDiff.high),
                n: r.pairedDiff.n,
                better: r.pairedDiff.better,
                containsZero: r.pairedDiff.containsZero,
              },
            }
          : {}),
      })),
    },
    null,
    1,
  );
}
