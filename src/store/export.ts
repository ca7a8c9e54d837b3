// Metrics export: one CSV with a row per (run, step), or JSON with each run's config and columns;
// every row carries the run's id, so runs are told apart even where names repeat.
import { METRIC_COLUMNS, type MetricsHub } from './metrics.ts';
import type { RunView } from './store.ts';

function quote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function cell(v: number): string {
  return Number.isNaN(v) ? '' : String(v);
}

export function metricsCsv(runs: RunView[], hub: MetricsHub): string {
  const layers = Math.max(0, ...runs.map((r) => (hub.has(r.id) ? hub.get(r.id).betaTilde.length : 0)));
  const bt = Array.from({ length: layers }, (_, l) => `betaTilde_layer${l + 2}`);
  const lines = [['run_id', 'run', 'variant', 'seed', 'group', ...METRIC_COLUMNS, ...bt].join(',')];
  for (const r of runs) {
    if (!hub.has(r.id)) continue;
    const s = hub.get(r.id);
    const cols = METRIC_COLUMNS.map((c) => s.col(c));
    const name = quote(r.name);
    const group = r.group ? quote(r.group.key) : '';
    for (let i = 0; i < s.length; i++) {
      const bts = Array.from({ length: layers }, (_, l) => cell(s.betaTilde[l]?.[i] ?? NaN));
      lines.push([quote(r.id), name, r.config.variant, r.config.seed, group, ...cols.map((c) => cell(c[i]!)), ...bts].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

export function metricsJson(runs: RunView[], hub: MetricsHub): string {
  return JSON.stringify(
    runs.map((r) => {
      const s = hub.has(r.id) ? hub.get(r.id) : null;
      const columns = Object.fromEntries(METRIC_COLUMNS.map((c) => [c, s ? Array.from(s.col(c), (v) => (Number.isNaN(v) ? null : v)) : []]));
      return {
        id: r.id,
        name: r.name,
        seed: r.config.seed,
        group: r.group ?? null,
        config: r.config,
        state: r.state,
        step: r.step,
        metrics: columns,
        betaTilde: s ? s.betaTilde.map((_, l) => Array.from(s.layerBetaTilde(l), (v) => (Number.isNaN(v) ? null : v))) : [],
        changes: s?.changes ?? [],
      };
    }),
    null,
    1,
  );
}
