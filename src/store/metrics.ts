// Each run's metrics as growable columns, outside React state: charts subscribe to appends
// transiently and extend their traces, so a long run never re-renders the page per step.
import { METRIC_COLUMNS, emptyColumns, type LiveHypers, type MetricColumn, type MetricsBatch } from '../worker/protocol.ts';

export { METRIC_COLUMNS, type MetricColumn };

export interface HyperChange {
  step: number;
  hypers: LiveHypers;
}

/** One run's series: columns of equal length, beta~ per layer, and the live changes. */
export class RunSeries {
  length = 0;
  private cols: Record<MetricColumn, Float64Array>;
  /** betaTilde[l] is layer l + 2's mean beta~ per step (NaN where absent). */
  betaTilde: Float64Array[] = [];
  changes: HyperChange[] = [];

  constructor(capacity = 256) {
    this.cols = emptyColumns(capacity);
  }

  /** A view of the filled part of a column. */
  col(name: MetricColumn): Float64Array {
    return this.cols[name].subarray(0, this.length);
  }

  layerBetaTilde(l: number): Float64Array {
    return (this.betaTilde[l] ?? new Float64Array(0)).subarray(0, this.length);
  }

  get lastStep(): number {
    return this.length > 0 ? this.cols.step[this.length - 1]! : 0;
  }

  private grow(need: number): void {
    const cap = this.cols.step.length;
    if (need <= cap) return;
    let next = cap;
    while (next < need) next *= 2;
    for (const c of METRIC_COLUMNS) {
      const a = new Float64Array(next);
      a.set(this.cols[c].subarray(0, this.length));
      this.cols[c] = a;
    }
    this.betaTilde = this.betaTilde.map((b) => {
      const a = new Float64Array(next).fill(NaN);
      a.set(b.subarray(0, this.length));
      return a;
    });
  }

  append(b: MetricsBatch): void {
    const n = b.step.length;
    if (n === 0) return;
    // A run resumed from an earlier checkpoint replays the steps after it: the new ones replace them.
    if (this.length > 0 && b.step[0]! <= this.lastStep) this.truncate(b.step[0]! - 1);
    this.grow(this.length + n);
    // A column a batch lacks (stored before the column existed) reads as no value.
    for (const c of METRIC_COLUMNS) {
      if (b[c]) this.cols[c].set(b[c], this.length);
      else this.cols[c].fill(NaN, this.length, this.length + n);
    }
    const cap = this.cols.step.length;
    while (this.betaTilde.length < b.betaTildeLayers) this.betaTilde.push(new Float64Array(cap).fill(NaN));
    for (let l = 0; l < b.betaTildeLayers; l++) {
      for (let i = 0; i < n; i++) this.betaTilde[l]![this.length + i] = b.betaTilde[i * b.betaTildeLayers + l]!;
    }
    this.changes.push(...b.changes);
    this.length += n;
  }

  /** Drops steps after `step` (a run resumed from an earlier checkpoint replays them). */
  truncate(step: number): void {
    let n = this.length;
    while (n > 0 && this.cols.step[n - 1]! > step) n--;
    this.length = n;
    this.changes = this.changes.filter((c) => c.step <= step);
  }

  /** The series as one batch (persistence, export). */
  toBatch(): MetricsBatch {
    const copy = (c: MetricColumn) => this.col(c).slice();
    const L = this.betaTilde.length;
    const bt = new Float64Array(this.length * L);
    for (let i = 0; i < this.length; i++) for (let l = 0; l < L; l++) bt[i * L + l] = this.betaTilde[l]![i]!;
    return {
      ...(Object.fromEntries(METRIC_COLUMNS.map((c) => [c, copy(c)])) as Record<MetricColumn, Float64Array>),
      betaTilde: bt,
      betaTildeLayers: L,
      changes: this.changes.slice(),
    };
  }
}

/** Training tokens per second over a run's last `window` steps (the mean of their rates; null before a step). */
export function recentTokensPerSec(s: RunSeries, window = 16): number | null {
  const col = s.col('tokensPerSec');
  let sum = 0;
  let n = 0;
  for (let i = col.length - 1; i >= 0 && n < window; i--) {
    if (Number.isFinite(col[i]!)) {
      sum += col[i]!;
      n++;
    }
  }
  return n > 0 ? sum / n : null;
}

export type MetricsEvent = { runId: string; kind: 'append'; from: number } | { runId: string; kind: 'reset' };
type Listener = (e: MetricsEvent) => void;

/** All runs' series and the transient subscription to their changes. */
export class MetricsHub {
  private series = new Map<string, RunSeries>();
  private listeners = new Set<Listener>();

  get(runId: string): RunSeries {
    let s = this.series.get(runId);
    if (!s) this.series.set(runId, (s = new RunSeries()));
    return s;
  }

  has(runId: string): boolean {
    return this.series.has(runId);
  }

  append(runId: string, b: MetricsBatch): void {
    const s = this.get(runId);
    const from = s.length;
    s.append(b);
    this.emit({ runId, kind: 'append', from });
  }

  /** Replaces a run's series (loaded from IndexedDB, or truncated on resume). */
  reset(runId: string, batch?: MetricsBatch, upToStep?: number): void {
    const s = new RunSeries();
    if (batch) s.append(batch);
    if (upToStep !== undefined) s.truncate(upToStep);
    this.series.set(runId, s);
    this.emit({ runId, kind: 'reset' });
  }

  remove(runId: string): void {
    this.series.delete(runId);
    this.emit({ runId, kind: 'reset' });
  }

  clear(): void {
    const ids = [...this.series.keys()];
    this.series.clear();
    for (const runId of ids) this.emit({ runId, kind: 'reset' });
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: MetricsEvent): void {
    for (const fn of this.listeners) fn(e);
  }
}

export const metrics = new MetricsHub();

/** Batches one after another as one batch (persistence writes a run's new batches as one chunk). */
export function concatBatches(bs: MetricsBatch[]): MetricsBatch {
  if (bs.length === 1) return bs[0]!;
  const cat = (k: MetricColumn | 'betaTilde') => {
    const out = new Float64Array(bs.reduce((s, b) => s + (k === 'betaTilde' ? b[k].length : b.step.length), 0)).fill(NaN);
    let at = 0;
    for (const b of bs) {
      if (b[k]) out.set(b[k], at); // a stored batch may lack a newer column
      at += k === 'betaTilde' ? b[k].length : b.step.length;
    }
    return out;
  };
  const layers = bs.reduce((m, b) => Math.max(m, b.betaTildeLayers), 0);
  return {
    ...(Object.fromEntries(METRIC_COLUMNS.map((c) => [c, cat(c)])) as Record<MetricColumn, Float64Array>),
    betaTilde: layers > 0 ? cat('betaTilde') : new Float64Array(0),
    betaTildeLayers: layers,
    changes: bs.flatMap((b) => b.changes),
  };
}
