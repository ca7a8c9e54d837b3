// The sweep view: a sweep's final metric against the swept value, its mean as a line with the
// seeds' min-max band, diverged runs marked with a cross; for two parameters a heatmap table. A
// point (or cell) selects its first run and opens its group in the run list, so its curves show.
import { useEffect, useRef, useState } from 'react';
import { groupsOf } from '../store/groups.ts';
import { metrics as defaultHub, type MetricsHub } from '../store/metrics.ts';
import { RESULT_METRICS, type ResultMetric } from '../store/results.ts';
import { runColor, useApp } from '../store/store.ts';
import { sweepSummary, type SweepSummary } from '../store/sweep.ts';
import { Select } from './fields.tsx';
import { loadPlotly } from './plotly.ts';
import { useHubTick } from './useHubTick.ts';

function openRun(id: string) {
  const s = useApp.getState();
  const r = s.runs[id];
  s.selectRun(id);
  if (r?.group && s.collapsed[r.group.key]) s.toggleGroup(r.group.key);
  document.querySelector(`li.run[data-run-id="${id}"]`)?.scrollIntoView({ block: 'nearest' });
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(3) : '–');

function LinePlot({ sum }: { sum: SweepSummary }) {
  const el = useRef<HTMLDivElement>(null);
  // Redrawn when a figure changes, not on every update of the page.
  const sig = JSON.stringify([sum.metric, sum.points.map((q) => [q.values, q.mean, q.min, q.max, q.runs.map((r) => [r.value, r.diverged])])]);
  useEffect(() => {
    const div = el.current;
    if (!div) return;
    let cancelled = false;
    const p = sum.params[0]!;
    const pts = [...sum.points].sort((a, b) => a.values[p]! - b.values[p]!);
    const x = pts.map((q) => q.values[p]!);
    const div_ = pts.flatMap((q) => q.runs.filter((r) => r.diverged).map((r) => ({ x: q.values[p]!, y: Number.isFinite(r.value) ? r.value : q.max, id: r.id })));
    const data = [
      { type: 'scatter', mode: 'lines', x, y: pts.map((q) => q.min), line: { width: 0 }, hoverinfo: 'skip', showlegend: false },
      { type: 'scatter', mode: 'lines', x, y: pts.map((q) => q.max), fill: 'tonexty', fillcolor: 'rgba(31, 119, 180, 0.2)', line: { width: 0 }, hoverinfo: 'skip', showlegend: false },
      { type: 'scatter', mode: 'lines+markers', x, y: pts.map((q) => q.mean), name: 'mean over seeds (band: min–max)', customdata: pts.map((q) => q.runs[0]?.id ?? ''), line: { color: runColor(0) } },
      { type: 'scatter', mode: 'markers', x: div_.map((d) => d.x), y: div_.map((d) => d.y), name: 'diverged run', customdata: div_.map((d) => d.id), marker: { symbol: 'x', size: 10, color: '#d62728' } },
    ];
    const layout = {
      title: { text: `final ${sum.metric} against ${p}`, font: { size: 14 } },
      height: 300,
      margin: { l: 56, r: 12, t: 36, b: 48 },
      xaxis: { title: { text: p } },
      yaxis: { title: { text: sum.metric } },
      legend: { orientation: 'h', y: -0.25, font: { size: 10 } },
    };
    void loadPlotly().then(async (plotly) => {
      if (cancelled) return;
      await plotly.react(div, data, layout, { displaylogo: false, responsive: true });
      const gd = div as unknown as { on?(ev: string, fn: (e: { points: { customdata?: string }[] }) => void): void; removeAllListeners?(ev: string): void };
      gd.removeAllListeners?.('plotly_click');
      gd.on?.('plotly_click', (e) => {
        const id = e.points[0]?.customdata;
        if (id) openRun(id);
      });
    });
    return () => {
      cancelled = true;
    };
  }, [sig]);
  return <div className="chart" ref={el} data-chart="sweep" data-points={sum.points.length} role="img" aria-label={`Sweep: final ${sum.metric} against ${sum.params[0]}`} />;
}

function HeatTable({ sum }: { sum: SweepSummary }) {
  const [p, q] = sum.params as [string, string];
  const xs = [...new Set(sum.points.map((s) => s.values[p]!))].sort((a, b) => a - b);
  const ys = [...new Set(sum.points.map((s) => s.values[q]!))].sort((a, b) => a - b);
  const finite = sum.points.map((s) => s.mean).filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const lower = RESULT_METRICS.find((m) => m.id === sum.metric)!.lowerIsBetter;
  const shade = (v: number) => {
    if (!Number.isFinite(v) || hi === lo) return '#f4f4f4';
    const t = (v - lo) / (hi - lo);
    const good = lower ? 1 - t : t;
    return `rgba(31, 119, 180, ${0.1 + 0.6 * good})`;
  };
  return (
    <table className="results-table sweep-heat" aria-label={`Sweep: final ${sum.metric} over ${p} and ${q}`}>
      <thead>
        <tr>
          <th scope="col">
            {q} ↓ · {p} →
          </th>
          {xs.map((x) => (
            <th key={x} scope="col">
              {x}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {ys.map((y) => (
          <tr key={y}>
            <th scope="row">{y}</th>
            {xs.map((x) => {
              const s = sum.points.find((t) => t.values[p] === x && t.values[q] === y);
              if (!s) return <td key={x}>–</td>;
              return (
                <td key={x} style={{ background: shade(s.mean) }}>
                  <button type="button" className="link" onClick={() => s.runs[0] && openRun(s.runs[0].id)}>
                    {fmt(s.mean)}
                    {s.n > 1 ? ` ± ${fmt(s.std)}` : ''} (n = {s.n})
                  </button>
                  {s.diverged > 0 && <span className="diverged"> ✕ {s.diverged} diverged</span>}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SweepView({ hub = defaultHub }: { hub?: MetricsHub }) {
  useHubTick(hub, 1000);
  const runs = useApp((s) => s.runs);
  const order = useApp((s) => s.order);
  const [metric, setMetric] = useState<ResultMetric>('testLoss');
  const groups = groupsOf(runs, order).filter((g) => g.members[0]?.group?.sweep);
  if (groups.length === 0) return null;
  const latest = groups[groups.length - 1]!.comparison;
  const sum = sweepSummary(
    groups.filter((g) => g.comparison === latest),
    hub,
    metric,
  );
  if (!sum) return null;
  return (
    <section className="panel sweep" aria-labelledby="sweep-title">
      <h2 id="sweep-title">Sweep over {sum.params.join(' and ')}</h2>
      <Select
        label="Final metric"
        value={metric}
        options={RESULT_METRICS.filter((m) => m.id !== 'stepsTo' && m.id !== 'secondsTo').map((m) => ({ value: m.id, label: m.label }))}
        onChange={(v) => setMetric(v as ResultMetric)}
      />
      {sum.params.length === 1 ? <LinePlot sum={sum} /> : <HeatTable sum={sum} />}
      <p className="note">
        Each point is the mean over seeds of the runs' last evaluation; diverged runs are marked and left out of the mean. Click a point to open its run.
      </p>
    </section>
  );
}
