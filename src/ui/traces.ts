// Chart traces from metric columns, thinned so a long run stays light: a trace keeps every
// `stride`-th finite point, and the stride doubles (one full redraw) when it would exceed
// MAX_POINTS. Smoothing is an exponential moving average over every raw point, not the kept ones.
import type { RunSeries } from '../store/metrics.ts';
import type { ChartOptions, RunView } from '../store/store.ts';

export const MAX_POINTS = 1500;

export interface SubSeries {
  /** Unique within a chart: run id plus a suffix for multi-trace metrics. */
  key: string;
  name: string;
  y: (s: RunSeries) => Float64Array;
  dash?: 'solid' | 'dot' | 'dash';
}

export interface MetricDef {
  id: string;
  title: string;
  yTitle: string;
  /** The traces of one run in this chart (none when the metric does not apply). */
  traces(run: RunView, s: RunSeries): SubSeries[];
  /** Log scale makes no sense for bounded metrics (accuracy, beta~). */
  allowLog: boolean;
}

export interface TraceCursor {
  stride: number;
  /** Raw points read so far (the next append starts here). */
  read: number;
  /** Finite points seen, to pick every stride-th. */
  seen: number;
  kept: number;
  ema: number | null;
}

export function newCursor(stride = 1): TraceCursor {
  return { stride, read: 0, seen: 0, kept: 0, ema: null };
}

/** Points from cursor.read to the end of the series; advances the cursor. */
export function takePoints(
  cur: TraceCursor,
  xs: Float64Array,
  ys: Float64Array,
  smoothing: number,
): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const n = Math.min(xs.length, ys.length);
  for (let i = cur.read; i < n; i++) {
    const v = ys[i]!;
    if (!Number.isFinite(v)) continue;
    cur.ema = cur.ema === null || smoothing <= 0 ? v : smoothing * cur.ema + (1 - smoothing) * v;
    if (cur.seen % cur.stride === 0) {
      x.push(xs[i]!);
      y.push(cur.ema);
      cur.kept++;
    }
    cur.seen++;
  }
  cur.read = Math.max(cur.read, n);
  return { x, y };
}

/** The stride that keeps `finite` points under MAX_POINTS. */
export function strideFor(finite: number, max = MAX_POINTS): number {
  let stride = 1;
  while (Math.ceil(finite / stride) > max) stride *= 2;
  return stride;
}

export function countFinite(ys: Float64Array): number {
  let n = 0;
  for (const v of ys) if (Number.isFinite(v)) n++;
  return n;
}

export function xColumn(s: RunSeries, opts: ChartOptions): Float64Array {
  return opts.x === 'step' ? s.col('step') : s.col('wallSeconds');
}

const LAYER_DASH = ['solid', 'dot', 'dash'] as const;

export const METRICS: MetricDef[] = [
  {
    id: 'train-loss',
    title: 'Training loss',
    yTitle: 'loss (nats)',
    allowLog: true,
    traces: (r) => [{ key: r.id, name: r.name, y: (s) => s.col('trainLoss') }],
  },
  {
    id: 'test-loss',
    title: 'Test loss',
    yTitle: 'loss (nats)',
    allowLog: true,
    traces: (r) => [{ key: r.id, name: r.name, y: (s) => s.col('testLoss') }],
  },
  {
    id: 'accuracy',
    title: 'Copy accuracy (held-out, copied half)',
    yTitle: 'token accuracy',
    allowLog: false,
    traces: (r) => (r.config.task.kind === 'copy' ? [{ key: r.id, name: r.name, y: (s) => s.col('accuracy') }] : []),
  },
  {
    id: 'bits-per-dim',
    title: 'MNIST bits/dim (test)',
    yTitle: 'bits/dim',
    allowLog: true,
    traces: (r) => (r.config.task.kind === 'mnist' ? [{ key: r.id, name: r.name, y: (s) => s.col('bitsPerDim') }] : []),
  },
  {
    id: 'throughput',
    title: 'Throughput',
    yTitle: 'tokens/s',
    allowLog: true,
    traces: (r) => [{ key: r.id, name: r.name, y: (s) => s.col('tokensPerSec') }],
  },
  {
    id: 'beta-tilde',
    title: 'Adaptive β̃ per layer',
    yTitle: 'mean β̃',
    allowLog: false,
    traces: (r, s) =>
      r.config.model.connection.kind === 'adaptive'
        ? Array.from({ length: Math.max(s.betaTilde.length, r.config.model.layers - 1) }, (_, l) => ({
            key: `${r.id}:${l}`,
            name: `${r.name} · layer ${l + 2}`,
            y: (ss: RunSeries) => ss.layerBetaTilde(l),
            dash: LAYER_DASH[l % LAYER_DASH.length]!,
          }))
        : [],
  },
];
