// One live chart: every run overlaid in its colour. A new batch extends the traces (Plotly's
// extendTraces, at most once per frame); only a change of runs, options or stride redraws them.
import { useEffect, useRef } from 'react';
import { metrics as defaultHub, type MetricsHub } from '../store/metrics.ts';
import { runColor, useApp, type ChartOptions, type RunView } from '../store/store.ts';
import { loadPlotly, type PlotlyLike } from './plotly.ts';
import { MAX_POINTS, countFinite, newCursor, strideFor, takePoints, xColumn, type MetricDef, type SubSeries, type TraceCursor } from './traces.ts';

interface Trace {
  runId: string;
  sub: SubSeries;
  cursor: TraceCursor;
}

/** What changes the set of traces (not their points). */
function signature(runs: Record<string, RunView>, order: string[]): string {
  return order
    .map((id) => {
      const r = runs[id]!;
      return `${id}|${r.name}|${r.colorIndex}|${r.config.task.kind}|${r.config.model.connection.kind}|${r.config.model.layers}`;
    })
    .join(';');
}

export function Chart({ def, hub = defaultHub }: { def: MetricDef; hub?: MetricsHub }) {
  const el = useRef<HTMLDivElement>(null);
  const sig = useApp((s) => signature(s.runs, s.order));
  const chart = useApp((s) => s.chart);

  useEffect(() => {
    const div = el.current;
    if (!div) return;
    let plotly: PlotlyLike | null = null;
    let cancelled = false;
    let traces: Trace[] = [];
    let changeCount = -1;
    let frame = 0;
    let dirty = new Set<string>();
    let needRedraw = false;
    const opts: ChartOptions = chart;

    const build = () => {
      const { runs, order } = useApp.getState();
      traces = [];
      for (const id of order) {
        const run = runs[id]!;
        const s = hub.get(id);
        for (const sub of def.traces(run, s)) traces.push({ runId: id, sub, cursor: newCursor(strideFor(countFinite(sub.y(s)))) });
      }
      const data = traces.map((t) => {
        const run = runs[t.runId]!;
        const s = hub.get(t.runId);
        const p = takePoints(t.cursor, xColumn(s, opts), t.sub.y(s), opts.smoothing);
        return {
          type: 'scatter',
          mode: 'lines',
          name: t.sub.name,
          x: p.x,
          y: p.y,
          line: { color: runColor(run.colorIndex), width: 1.5, dash: t.sub.dash ?? 'solid' },
        };
      });
      changeCount = totalChanges();
      div.dataset.points = traces.map((t) => t.cursor.kept).join(',');
      return { data, layout: layout() };
    };

    const totalChanges = () => useApp.getState().order.reduce((n, id) => n + hub.get(id).changes.length, 0);

    /** Each live hyper-parameter change: a dotted vertical line in the run's colour. */
    const shapes = () => {
      const { runs, order } = useApp.getState();
      const out: object[] = [];
      for (const id of order) {
        const s = hub.get(id);
        if (s.changes.length === 0 || def.traces(runs[id]!, s).length === 0) continue;
        const steps = s.col('step');
        const wall = s.col('wallSeconds');
        for (const c of s.changes) {
          let x = c.step;
          if (opts.x === 'time') {
            const i = steps.indexOf(c.step);
            if (i < 0) continue;
            x = wall[i]!;
          }
          out.push({ type: 'line', xref: 'x', yref: 'paper', x0: x, x1: x, y0: 0, y1: 1, line: { color: runColor(runs[id]!.colorIndex), width: 1, dash: 'dot' } });
        }
      }
      return out;
    };

    const layout = () => ({
      title: { text: def.title, font: { size: 14 } },
      margin: { l: 56, r: 12, t: 36, b: 64 },
      height: 280,
      showlegend: true,
      legend: { orientation: 'h', y: -0.32, font: { size: 10 } },
      xaxis: { title: { text: opts.x === 'step' ? 'step' : 'wall-clock seconds' } },
      yaxis: { title: { text: def.yTitle }, type: opts.logY && def.allowLog ? 'log' : 'linear' },
      shapes: shapes(),
      uirevision: 'keep',
    });

    const config = { responsive: true, displaylogo: false };

    const redraw = () => {
      if (!plotly) return;
      const { data, layout: l } = build();
      void plotly.react(div, data, l, config);
    };

    const flush = () => {
      frame = 0;
      if (!plotly || cancelled) return;
      if (needRedraw) {
        needRedraw = false;
        dirty.clear();
        redraw();
        return;
      }
      const xs: number[][] = [];
      const ys: number[][] = [];
      const idx: number[] = [];
      traces.forEach((t, i) => {
        if (!dirty.has(t.runId)) return;
        const s = hub.get(t.runId);
        const y = t.sub.y(s);
        const p = takePoints(t.cursor, xColumn(s, opts), y, opts.smoothing);
        if (p.x.length === 0) return;
        xs.push(p.x);
        ys.push(p.y);
        idx.push(i);
      });
      dirty = new Set();
      if (traces.some((t) => t.cursor.kept > MAX_POINTS)) {
        redraw(); // thinner stride for everything, once
        return;
      }
      if (idx.length > 0) void plotly.extendTraces(div, { x: xs, y: ys }, idx);
      div.dataset.points = traces.map((t) => t.cursor.kept).join(',');
      const n = totalChanges();
      if (n !== changeCount) {
        changeCount = n;
        void plotly.relayout(div, { shapes: shapes() });
      }
    };

    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(flush);
    };

    const unsub = hub.subscribe((e) => {
      if (e.kind === 'reset') needRedraw = true;
      else dirty.add(e.runId);
      // A run whose traces depend on the data (beta~ layers appearing) needs a redraw.
      schedule();
    });

    void loadPlotly().then((p) => {
      if (cancelled) return;
      plotly = p;
      const { data, layout: l } = build();
      void p.newPlot(div, data, l, config);
    });

    return () => {
      cancelled = true;
      unsub();
      if (frame) cancelAnimationFrame(frame);
      if (plotly) plotly.purge(div);
    };
  }, [sig, chart, def, hub]);

  return <div className="chart" ref={el} data-chart={def.id} role="img" aria-label={def.title} />;
}
