// A sweep's summary: per point (the swept values), the final metric over seeds as mean, std,
// min and max, and how many of its runs diverged (marked, not dropped: their last finite value
// stays in `values`, left out of the mean).
import { mean, std } from '../util/stats.ts';
import type { RunGroupView } from './groups.ts';
import type { MetricsHub } from './metrics.ts';
import { runFigures, type ResultMetric } from './results.ts';

export interface SweepPoint {
  key: string;
  values: Record<string, number>;
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  diverged: number;
  /** Each run's final value (NaN: none) and whether it diverged, with its id. */
  runs: { id: string; value: number; diverged: boolean }[];
}

export interface SweepSummary {
  comparison: string;
  params: string[];
  metric: ResultMetric;
  points: SweepPoint[];
}

/** The groups of one sweep comparison, summarised; null when the groups are not a sweep. */
export function sweepSummary(groups: RunGroupView[], hub: MetricsHub, metric: ResultMetric): SweepSummary | null {
  const swept = groups.filter((g) => g.members[0]?.group?.sweep);
  if (swept.length === 0) return null;
  const params = Object.keys(swept[0]!.members[0]!.group!.sweep!);
  const points = swept.map((g): SweepPoint => {
    const runs = g.members.map((r) => ({ id: r.id, value: runFigures(r, hub, null)[metric], diverged: r.state === 'diverged' }));
    const ok = runs.filter((r) => !r.diverged && Number.isFinite(r.value)).map((r) => r.value);
    return {
      key: g.key,
      values: g.members[0]!.group!.sweep!,
      n: ok.length,
      mean: mean(ok),
      std: std(ok),
      min: ok.length ? Math.min(...ok) : NaN,
      max: ok.length ? Math.max(...ok) : NaN,
      diverged: runs.filter((r) => r.diverged).length,
      runs,
    };
  });
  return { comparison: swept[0]!.comparison ?? swept[0]!.key, params, metric, points };
}
