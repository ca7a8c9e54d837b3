// Chart traces from metric columns, thinned so a long run stays light: a trace keeps every
// stride-th finite point (at most MAX_POINTS). Smoothing is an exponential moving average over
// every raw point, not the kept ones (groups.ts finitePoints).
import type { RunSeries } from '../store/metrics.ts';
import type { ChartOptions, RunView } from '../store/store.ts';
import { isClassificationTask } from '../train/types.ts';

export const MAX_POINTS = 200;

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

/** Every stride-th point and the last, so at most about `max` points (a long run stays light). */
export function thin(x: number[], y: number[], max = MAX_POINTS): { x: number[]; y: number[] } {
  if (x.length <= max) return { x, y };
  const stride = Math.ceil(x.length / max);
  const tx: number[] = [];
  const ty: number[] = [];
  for (let i = 0; i < x.length; i += stride) {
    tx.push(x[i]!);
    ty.push(y[i]!);
  }
  if ((x.length - 1) % stride !== 0) {
    tx.push(x[x.length - 1]!);
    ty.push(y[y.length - 1]!);
  }
  return { x: tx, y: ty };
}

/** Traces of this many points or fewer get markers, so a single evaluation is visible. */
export const MARKERS_BELOW = 30;

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
    id: 'class-accuracy',
    title: 'Classification accuracy (test solid, training dotted)',
    yTitle: 'share classified right',
    allowLog: false,
    traces: (r) =>
      isClassificationTask(r.config.task.kind)
        ? [
            { key: `${r.id}:test`, name: `${r.name} · test`, y: (s) => s.col('accuracy') },
            { key: `${r.id}:train`, name: `${r.name} · training`, y: (s) => s.col('trainAccuracy'), dash: 'dot' },
          ]
        : [],
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
