// One live chart. A run outside a seed group is a line in its colour; a group of several seeds is
// its mean with a band (min-max, +-1 std or +-1 standard error) in the variant's colour, its member
// runs drawn thin on demand. The traces are Plotly-shaped (chartData) and drawn on a canvas
// (livePlot.ts: a redraw costs a few milliseconds where Plotly's took 20-200, over the 50 ms a
// main-thread task may take while runs train). New metrics ask the shared frame scheduler
// (frames.ts) for an update, so a visible chart is redrawn at most once a second whatever the
// number of runs, one chart a frame, round-robin; an update whose traces did not change (test loss
// between evaluations) skips the drawing. Traces with few points get markers, so a single
// evaluation shows.
import { useEffect, useRef } from 'react';
import { finitePoints, groupBand, groupsOf } from '../store/groups.ts';
import { metrics as defaultHub, type MetricsHub } from '../store/metrics.ts';
import { runColor, useApp, type ChartOptions, type RunView } from '../store/store.ts';
import { cancel, newJob, request, setVisible } from './frames.ts';
import type { Trace } from './canvasPlot.ts';
import { LivePlot } from './livePlot.ts';
import { MARKERS_BELOW, MAX_POINTS, thin, xColumn, type MetricDef } from './traces.ts';

/** What changes the set of traces (not their points). */
function signature(runs: Record<string, RunView>, order: string[]): string {
  return order
    .map((id) => {
      const r = runs[id]!;
      return `${id}|${r.name}|${r.colorIndex}|${r.group?.key ?? ''}|${r.config.task.kind}|${r.config.model.connection.kind}|${r.config.model.layers}`;
    })
    .join(';');
}

/** '#1f77b4' -> 'rgba(31, 119, 180, a)'. */
function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

const BAND_TEXT = { minmax: 'min–max', std: '±1 std', se: '±1 s.e.' } as const;

/** Plotly traces of every run and group for one metric, and the points each main trace has. */
export function chartData(def: MetricDef, hub: MetricsHub, runs: Record<string, RunView>, order: string[], opts: ChartOptions) {
  const data: object[] = [];
  const points: number[] = [];
  const bands: string[] = [];
  const line = (name: string, x: number[], y: number[], color: string, extra: object = {}) => ({
    type: 'scatter',
    mode: x.length <= MARKERS_BELOW ? 'lines+markers' : 'lines',
    marker: { size: 5, color },
    name,
    x,
    y,
    line: { color, width: 1.5 },
    ...extra,
  });
  for (const g of groupsOf(runs, order)) {
    const color = runColor(g.colorIndex);
    const members = g.members.filter((r) => def.traces(r, hub.get(r.id)).length > 0);
    if (members.length === 0) continue;
    const subs = def.traces(members[0]!, hub.get(members[0]!.id));
    if (members.length > 1 && subs.length === 1) {
      const band = groupBand(members, hub, subs[0]!.y, opts, MAX_POINTS);
      const legend = `${g.label} (mean of ${members.length}, ${BAND_TEXT[opts.band]})`;
      // The band as one closed shape (high forwards, low backwards): one trace, not two.
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: band.x.concat(band.x.slice().reverse()),
        y: band.high.concat(band.low.slice().reverse()),
        fill: 'toself',
        fillcolor: alpha(color, 0.22),
        line: { width: 0, color },
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: g.key,
      });
      data.push(line(legend, band.x, band.mean, color, { legendgroup: g.key }));
      points.push(band.x.length);
      bands.push(`${g.label}:${members.length}:${band.x.length}`);
      if (opts.members) {
        for (const r of members) {
          const s = hub.get(r.id);
          const p = thin(...xy(finitePoints(xColumn(s, opts), subs[0]!.y(s), opts.smoothing)));
          data.push(line(r.name, p.x, p.y, color, { line: { color, width: 0.8, dash: 'dot' }, opacity: 0.6, legendgroup: g.key, showlegend: false }));
        }
      }
      continue;
    }
    for (const r of members) {
      const s = hub.get(r.id);
      for (const sub of def.traces(r, s)) {
        const p = thin(...xy(finitePoints(xColumn(s, opts), sub.y(s), opts.smoothing)));
        data.push(line(sub.name, p.x, p.y, color, { line: { color, width: 1.5, dash: sub.dash ?? 'solid' } }));
        points.push(p.x.length);
      }
    }
  }
  return { data, points, bands };
}

/** What a redraw would show, in short: each trace's name, length and ends (equal keys: nothing new to draw). */
export function drawnKey(data: object[], shapes: number): string {
  let k = `${shapes}`;
  for (const t of data as { name?: string; x: number[]; y: number[] }[]) {
    const n = t.x.length;
    k += `;${t.name ?? ''}|${n}|${t.x[0]}|${t.x[n - 1]}|${t.y[0]}|${t.y[n - 1]}`;
  }
  return k;
}

function xy(p: { x: number[]; y: number[] }): [number[], number[]] {
  return [p.x, p.y];
}

export function Chart({ def, hub = defaultHub }: { def: MetricDef; hub?: MetricsHub }) {
  const el = useRef<HTMLDivElement>(null);
  const sig = useApp((s) => signature(s.runs, s.order));
  const chart = useApp((s) => s.chart);

  useEffect(() => {
    const div = el.current;
    if (!div) return;
    const plot = new LivePlot(div);
    let drawn = false;
    const opts: ChartOptions = chart;

    /** Each live hyper-parameter change: a dotted vertical line in the run's colour. */
    const vlines = () => {
      const { runs, order } = useApp.getState();
      const out: { x: number; color: string }[] = [];
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
          out.push({ x, color: runColor(runs[id]!.colorIndex) });
        }
      }
      return out;
    };

    let drawnAs = '';
    /** One redraw with the newest data; false (and no drawing) when nothing changed since the last. */
    const draw = (): boolean => {
      const t0 = performance.now();
      const { runs, order } = useApp.getState();
      const { data, points, bands } = chartData(def, hub, runs, order, opts);
      const lines = vlines();
      const key = drawnKey(data, lines.length);
      if (drawn && key === drawnAs) return false;
      drawnAs = key;
      div.dataset.points = points.join(',');
      div.dataset.bands = bands.join(',');
      plot.update({
        title: def.title,
        xTitle: opts.x === 'step' ? 'step' : 'wall-clock seconds',
        yTitle: def.yTitle,
        logY: opts.logY && def.allowLog,
        traces: data as Trace[],
        vlines: lines,
      });
      drawn = true;
      // The whole update (the traces' data and the drawing), for the e2e test's account of main-thread time.
      performance.measure?.('chart-draw', { start: t0, detail: def.id });
      return true;
    };
    const job = newJob(draw);
    const unsub = hub.subscribe(() => request(job));
    const seen = typeof IntersectionObserver === 'undefined' ? null : new IntersectionObserver((es) => setVisible(job, es.some((e) => e.isIntersecting)));
    seen?.observe(div);
    draw();

    return () => {
      unsub();
      seen?.disconnect();
      cancel(job);
      plot.destroy();
    };
  }, [sig, chart, def, hub]);

  return <div className="chart" ref={el} data-chart={def.id} role="figure" aria-label={def.title} />;
}
