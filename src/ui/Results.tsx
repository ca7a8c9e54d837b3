// The results table of a comparison: per variant, final losses and accuracy or bits/dim, steps and
// seconds to a test-loss threshold, as mean +- std over seeds (n); the paired difference to a
// baseline variant with its 95% t-interval and on how many seeds the variant did better.
import { groupsOf } from '../store/groups.ts';
import { metrics as defaultHub, type MetricsHub } from '../store/metrics.ts';
import { RESULT_METRICS, resultsCsv, resultsJson, resultsTable, type ResultRow } from '../store/results.ts';
import { runColor, useApp } from '../store/store.ts';
import { checkNumber } from '../store/validate.ts';
import { download } from './download.ts';
import { NumberField, Select } from './fields.tsx';
import { useHubTick } from './useHubTick.ts';
import { useMemo } from 'react';

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1e5) ? v.toExponential(2) : a >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

function Cell({ row, baseline }: { row: ResultRow | undefined; baseline: string }) {
  if (!row) return <td>–</td>;
  const d = row.pairedDiff;
  const missing = row.values.length - row.n;
  return (
    <td data-metric={row.metric}>
      <span className="result-mean">
        {fmt(row.mean)}
        {row.n > 1 ? ` ± ${fmt(row.std)}` : ''} <span className="note">(n = {row.n}{missing > 0 ? `, ${missing} without a value` : ''})</span>
      </span>
      {d && (
        <span className={`result-diff${d.containsZero ? ' zero' : ''}`} data-testid="paired-diff">
          <br />Δ vs {baseline}: {fmt(d.mean)}
          {d.n > 1 ? ` [${fmt(d.low)}, ${fmt(d.high)}]` : ''}, better on {d.better} of {d.n} seed{d.n === 1 ? '' : 's'}
          {d.n < 2 ? ' (one seed: no interval)' : d.containsZero ? ' — the 95% interval contains 0: no difference shown' : ''}
        </span>
      )}
    </td>
  );
}

export function Results({ hub = defaultHub }: { hub?: MetricsHub }) {
  const tick = useHubTick(hub, 1000);
  // The runs as of the last metrics tick (or a change of groups or states): the table is not
  // recomputed for every step counter update.
  const shape = useApp((s) => s.order.map((id) => `${id}:${s.runs[id]!.group?.key}:${s.runs[id]!.state}`).join(','));
  const { runs, order } = useMemo(() => {
    const s = useApp.getState();
    return { runs: s.runs, order: s.order };
  }, [tick, shape]);
  const opts = useApp((s) => s.results);
  const setResults = useApp((s) => s.setResults);
  const all = groupsOf(runs, order).filter((g) => g.comparison !== null);
  const comparisons = [...new Set(all.map((g) => g.comparison!))];
  if (comparisons.length === 0) return null;
  const comparison = opts.comparison && comparisons.includes(opts.comparison) ? opts.comparison : comparisons[comparisons.length - 1]!;
  const groups = all.filter((g) => g.comparison === comparison);
  const thresholdError = opts.threshold !== null ? checkNumber(opts.threshold, { label: 'Threshold', min: 0, max: 1e6, minExclusive: true }) : null;
  const table = resultsTable(groups, hub, { baseline: opts.baseline, threshold: thresholdError ? null : opts.threshold });
  if (!table) return null;
  const first = groups[0]!.members[0]!;
  const title = `${first.config.task.kind}, ${groups.length} variant${groups.length === 1 ? '' : 's'} x ${Math.max(...groups.map((g) => g.members.length))} seeds`;
  return (
    <section className="panel results" aria-labelledby="results-title">
      <h2 id="results-title">Results over seeds</h2>
      <div className="row">
        {comparisons.length > 1 && (
          <Select
            label="Comparison"
            value={comparison}
            options={comparisons.map((c, i) => ({ value: c, label: `comparison ${i + 1}` }))}
            onChange={(c) => setResults({ comparison: c })}
          />
        )}
        <Select label="Baseline variant" value={table.baseline} options={groups.map((g) => ({ value: g.label, label: g.label }))} onChange={(b) => setResults({ baseline: b })} />
        <NumberField
          label="Test-loss threshold"
          value={opts.threshold}
          placeholder="none"
          range="> 0"
          error={thresholdError}
          onChange={(t) => setResults({ threshold: t })}
        />
        <button type="button" onClick={() => download('results.csv', resultsCsv(table), 'text/csv')}>
          Export results (CSV)
        </button>
        <button type="button" onClick={() => download('results.json', resultsJson(table), 'application/json')}>
          Export results (JSON)
        </button>
      </div>
      <table className="results-table" aria-label={`Results: ${title}`}>
        <caption>
          {title}: each run's last evaluation; mean ± std over seeds; Δ = variant − {table.baseline} on the same seeds with its 95% t-interval
        </caption>
        <thead>
          <tr>
            <th scope="col">variant</th>
            {table.metrics.map((m) => (
              <th key={m} scope="col">
                {RESULT_METRICS.find((x) => x.id === m)!.label}
                {(m === 'stepsTo' || m === 'secondsTo') && table.threshold !== null ? ` (test loss ≤ ${table.threshold})` : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.key} data-variant={g.label}>
              <th scope="row">
                <span className="swatch" style={{ background: runColor(g.colorIndex) }} aria-hidden="true" /> {g.label}
                {g.label === table.baseline ? ' (baseline)' : ''}
              </th>
              {table.metrics.map((m) => (
                <Cell key={m} row={table.rows.find((r) => r.variant === g.label && r.metric === m)} baseline={table.baseline} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
