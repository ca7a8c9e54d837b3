// Seed groups and sweeps as plain data: parsing seed lists and swept values, planning the runs
// (variant x seed, or value x seed), and summarising final metrics over seeds (mean, std, paired
// difference to a baseline with its t-interval). Pure functions with no engine or Node imports, so
// the page and the command line share them.
import { mean, pairedDifference, std } from './stats.ts';

/** At most this many runs in one comparison or sweep. */
export const MAX_RUNS = 64;

/**
 * The one-click showcase (page button and `npm run compare -- --showcase`): MQAR, the task on which
 * softmax attention recalls where linear attention of small width cannot (Zoology), with its tiny
 * preset, the five variants over three seeds, compared with linear attention.
 */
export const SHOWCASE = { task: 'mqar', preset: 'tiny', seeds: [1, 2, 3], baseline: 'linear' } as const;

/**
 * A seed list: "1,2,3" (those seeds, in that order), a range "4:6" (seeds 4, 5, 6; "7:7" is seed 7
 * alone) or a count "3" (seeds 1..3; with `countOnly`, any text is a count). The page's Seeds field
 * and `--seeds` both read it. Empty lists, duplicates, empty or reversed ranges and anything that
 * is not a u32 are refused, naming it.
 */
export function parseSeeds(text: string, opts: { countOnly?: boolean } = {}): number[] {
  const t = text.trim();
  if (t === '') throw new Error('the seed list is empty');
  if (opts.countOnly || /^\d+$/.test(t)) {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1) throw new Error(`a seed count must be an integer >= 1; got '${text}'`);
    if (n > MAX_RUNS) throw new Error(`a seed count of ${n} exceeds the maximum of ${MAX_RUNS} runs`);
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  const seedOf = (p: string): number => {
    const n = p === '' ? NaN : Number(p);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`seed '${p}' is not an integer in 0..2^32-1`);
    return n;
  };
  if (t.includes(':')) {
    const parts = t.split(':').map((s) => s.trim());
    if (parts.length !== 2) throw new Error(`a seed range is 'first:last' (e.g. 4:6, or 7:7 for seed 7 alone); got '${text}'`);
    const [a, b] = parts.map(seedOf);
    if (b < a) throw new Error(`the seed range '${text}' is reversed (first ${a} > last ${b})`);
    if (b - a + 1 > MAX_RUNS) throw new Error(`the seed range '${text}' has ${b - a + 1} seeds, over the maximum of ${MAX_RUNS} runs`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const parts = t.split(',').map((s) => s.trim());
  const seeds: number[] = [];
  for (const p of parts) {
    if (p === '') throw new Error(`the seed list '${text}' has an empty entry`);
    const n = seedOf(p);
    if (seeds.includes(n)) throw new Error(`seed ${n} appears twice in '${text}'`);
    seeds.push(n);
  }
  return seeds;
}

/** What a sweep may vary: the run option's name, the hyper-parameter's key, and its valid range. */
export interface SweepParam {
  /** The command-line name (as `npm run train` spells it). */
  flag: string;
  /** The key in a run's hyper-parameters (or 'lr'). */
  key: 'beta' | 'gamma' | 'betaTilde' | 'gammaTilde' | 'delta' | 'lr';
  /** Returns an error message for an invalid value, or null. */
  check(v: number): string | null;
  range: string;
}

const unitInterval = (v: number) => (v >= 0 && v < 1 ? null : 'must be in [0, 1) (1 and above diverge)');
const positive = (v: number) => (v > 0 ? null : 'must be > 0');

export const SWEEP_PARAMS: readonly SweepParam[] = [
  { flag: 'beta', key: 'beta', check: unitInterval, range: '[0, 1)' },
  { flag: 'gamma', key: 'gamma', check: positive, range: '> 0' },
  { flag: 'beta-tilde', key: 'betaTilde', check: unitInterval, range: '[0, 1)' },
  { flag: 'gamma-tilde', key: 'gammaTilde', check: positive, range: '> 0' },
  { flag: 'delta', key: 'delta', check: (v) => (v > 0 && v < 1 ? null : 'must be in (0, 1)'), range: '(0, 1)' },
  { flag: 'lr', key: 'lr', check: positive, range: '> 0' },
];

/** A sweep parameter by its command-line name or its key (beta-tilde or betaTilde). */
export function sweepParam(name: string): SweepParam {
  const p = SWEEP_PARAMS.find((q) => q.flag === name || q.key === name);
  if (!p) throw new Error(`unknown sweep parameter '${name}'; expected one of ${SWEEP_PARAMS.map((q) => q.flag).join(', ')}`);
  return p;
}

/** Values "0,0.2,0.4" or a range "start:stop:step" (stop included when it lies on the grid). */
export function parseValues(text: string, param: SweepParam): number[] {
  const t = text.trim();
  if (t === '') throw new Error(`no values given for ${param.flag}`);
  let values: number[];
  if (t.includes(':')) {
    const parts = t.split(':');
    const [a, b, s] = parts.map(Number);
    if (parts.length !== 3 || ![a, b, s].every((x) => Number.isFinite(x)) || parts.some((p) => p.trim() === '')) {
      throw new Error(`range '${text}' for ${param.flag} must be start:stop:step with three numbers`);
    }
    if (!(s! > 0)) throw new Error(`range '${text}' for ${param.flag}: the step must be > 0`);
    if (b! < a!) throw new Error(`range '${text}' for ${param.flag}: stop is below start`);
    const count = Math.floor((b! - a!) / s! + 1e-9) + 1;
    if (count > MAX_RUNS) throw new Error(`range '${text}' for ${param.flag} has ${count} values, over the maximum of ${MAX_RUNS} runs`);
    // Rounded to 12 digits, so 0:0.9:0.1 gives 0.3, not 0.30000000000000004.
    values = Array.from({ length: count }, (_, i) => Number((a! + i * s!).toPrecision(12)));
  } else {
    values = t.split(',').map((p) => {
      const n = Number(p.trim());
      if (p.trim() === '' || !Number.isFinite(n)) throw new Error(`value '${p.trim()}' for ${param.flag} is not a number`);
      return n;
    });
  }
  const bad = values.filter((v) => param.check(v) !== null);
  if (bad.length > 0) throw new Error(`${param.flag} = ${bad.join(', ')}: ${param.flag} ${param.check(bad[0]!)}`);
  const seen = new Set<number>();
  for (const v of values) {
    if (seen.has(v)) throw new Error(`${param.flag} value ${v} appears twice`);
    seen.add(v);
  }
  return values;
}

/** One run of a group: a variant (or sweep point) with a seed, and the folder it writes. */
export interface PlannedRun<V = string> {
  variant: V;
  seed: number;
  dir: string;
}

/** Every variant x seed, variant by variant, refused over `maxRuns`. */
export function planGroup<V extends string>(variants: readonly V[], seeds: readonly number[], maxRuns = MAX_RUNS): PlannedRun<V>[] {
  if (variants.length === 0) throw new Error('no variants to compare');
  if (seeds.length === 0) throw new Error('the seed list is empty');
  const dupV = variants.find((v, i) => variants.indexOf(v) !== i);
  if (dupV) throw new Error(`variant '${dupV}' appears twice`);
  const dupS = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dupS !== undefined) throw new Error(`seed ${dupS} appears twice`);
  const count = variants.length * seeds.length;
  if (count > maxRuns) {
    throw new Error(`${count} runs (${variants.length} variants x ${seeds.length} seeds) exceed the maximum of ${maxRuns}`);
  }
  return variants.flatMap((variant) => seeds.map((seed) => ({ variant, seed, dir: `${variant}-seed${seed}` })));
}

/** One point of a sweep: the swept values, by the parameters' keys. */
export type SweepPoint = Record<string, number>;

/** The grid of a sweep over one or two parameters (the first varies slowest). */
export function planSweep(params: { param: SweepParam; values: number[] }[], seeds: readonly number[], maxRuns = MAX_RUNS) {
  if (params.length < 1 || params.length > 2) throw new Error('a sweep varies one or two parameters');
  if (params.length === 2 && params[0]!.param.key === params[1]!.param.key) throw new Error(`parameter ${params[0]!.param.flag} is swept twice`);
  if (seeds.length === 0) throw new Error('the seed list is empty');
  let points: SweepPoint[] = [{}];
  for (const { param, values } of params) points = points.flatMap((p) => values.map((v) => ({ ...p, [param.key]: v })));
  const count = points.length * seeds.length;
  if (count > maxRuns) throw new Error(`${count} runs (${points.length} points x ${seeds.length} seeds) exceed the maximum of ${maxRuns}`);
  const name = (p: SweepPoint) => Object.entries(p).map(([k, v]) => `${k}${v}`).join('-');
  return {
    points,
    runs: points.flatMap((p) => seeds.map((seed) => ({ point: p, seed, dir: `${name(p)}-seed${seed}` }))),
  };
}

/** A metric of a run's final evaluation, and which way is better. */
export interface MetricSpec {
  name: string;
  lowerIsBetter: boolean;
}

/** The metrics a group reports for a task kind. */
export function groupMetrics(task: string): MetricSpec[] {
  return [
    { name: 'testLoss', lowerIsBetter: true },
    { name: 'trainLoss', lowerIsBetter: true },
    task === 'mnist' ? { name: 'bitsPerDim', lowerIsBetter: true } : { name: 'accuracy', lowerIsBetter: false },
    { name: 'stepsToThreshold', lowerIsBetter: true },
    { name: 'secondsToThreshold', lowerIsBetter: true },
  ];
}

/** An evaluation record's fields that matter here (a subset of MetricsRecord). */
export interface EvalPoint {
  step: number;
  wallSeconds: number;
  trainLoss: number;
  testLoss: number | null;
  accuracy?: number;
  bitsPerDim?: number;
}

/**
 * A run's final metrics from its evaluation records: the last evaluation's losses and accuracy
 * (or bits/dim), and the step and training seconds of the first evaluation whose test loss is at
 * or below `threshold` (NaN when it never got there: counted out of n, never dropped silently).
 */
export function finalMetrics(evals: readonly EvalPoint[], threshold: number): Record<string, number> {
  const scored = evals.filter((r) => r.testLoss !== null);
  const last = scored.at(-1);
  if (!last) return { testLoss: NaN, trainLoss: NaN, accuracy: NaN, bitsPerDim: NaN, stepsToThreshold: NaN, secondsToThreshold: NaN };
  const hit = scored.find((r) => r.testLoss! <= threshold);
  return {
    testLoss: last.testLoss!,
    trainLoss: last.trainLoss,
    accuracy: last.accuracy ?? NaN,
    bitsPerDim: last.bitsPerDim ?? NaN,
    stepsToThreshold: hit ? hit.step : NaN,
    secondsToThreshold: hit ? hit.wallSeconds : NaN,
  };
}

/** One row of summary.json: a variant's metric over seeds, and its paired difference to the baseline. */
export interface GroupRow {
  variant: string;
  metric: string;
  n: number;
  mean: number;
  std: number;
  values: (number | null)[];
  seeds: number[];
  pairedDiff: { mean: number; low: number; high: number };
}

/** What the table says beside a row: better on k of n seeds, and whether the interval holds 0. */
export interface GroupRowNote {
  better: number;
  of: number;
  containsZero: boolean;
}

export interface GroupSummary {
  task: string;
  baseline: string;
  rows: GroupRow[];
}

/** A finite number, or null (JSON has no NaN). */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * Rows per variant and metric from each run's final metrics. `results[v][i]` belongs to
 * `seeds[i]`; n, mean and std are over the finite values (a run that diverged or never reached
 * the threshold counts out of n), the paired difference over the seeds both runs have.
 */
export function summariseGroup(
  task: string,
  baseline: string,
  variants: readonly string[],
  seeds: readonly number[],
  results: Record<string, Record<string, number>[]>,
  metrics: readonly MetricSpec[] = groupMetrics(task),
): { summary: GroupSummary; notes: GroupRowNote[] } {
  if (!variants.includes(baseline)) throw new Error(`baseline '${baseline}' is not one of the variants ${variants.join(', ')}`);
  const rows: GroupRow[] = [];
  const notes: GroupRowNote[] = [];
  for (const variant of variants) {
    const runs = results[variant];
    if (!runs || runs.length !== seeds.length) throw new Error(`variant ${variant}: ${runs?.length ?? 0} results for ${seeds.length} seeds`);
    for (const m of metrics) {
      const values = runs.map((r) => r[m.name] ?? NaN);
      const base = results[baseline]!.map((r) => r[m.name] ?? NaN);
      const ok = values.filter((x) => Number.isFinite(x));
      const d = pairedDifference(values, base, m.lowerIsBetter);
      rows.push({
        variant,
        metric: m.name,
        n: ok.length,
        mean: mean(ok),
        std: std(ok),
        values: values.map(finite),
        seeds: [...seeds],
        pairedDiff: { mean: d.mean, low: d.low, high: d.high },
      });
      notes.push({ better: d.better, of: d.n, containsZero: d.containsZero });
    }
  }
  return { summary: { task, baseline, rows }, notes };
}

/** JSON with NaN written as null (JSON.stringify does that already; this keeps it explicit). */
export function summaryJson(s: unknown): string {
  return `${JSON.stringify(s, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

function fmt(x: number | null, metric: string): string {
  if (x === null || !Number.isFinite(x)) return '-';
  if (metric === 'accuracy') return `${(100 * x).toFixed(1)}%`;
  if (metric === 'stepsToThreshold') return x.toFixed(0);
  if (metric === 'secondsToThreshold') return x.toFixed(1);
  return x.toFixed(4);
}

function fmtDiff(x: number, metric: string): string {
  if (!Number.isFinite(x)) return '-';
  if (metric === 'accuracy') return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  const s = metric === 'stepsToThreshold' ? x.toFixed(0) : metric === 'secondsToThreshold' ? x.toFixed(1) : x.toFixed(4);
  return x >= 0 ? `+${s}` : s;
}

/** The table a comparison prints: mean +- std (n), paired difference [95% t-interval], better on k of n. */
export function formatGroupTable(summary: GroupSummary, notes: readonly GroupRowNote[]): string {
  const head = ['variant', 'metric', 'mean +- std (n)', `diff to ${summary.baseline} [95% CI]`, 'better'];
  const body = summary.rows.map((r, i) => {
    const note = notes[i]!;
    const isBase = r.variant === summary.baseline;
    const d = r.pairedDiff;
    const diff = isBase
      ? '(baseline)'
      : !Number.isFinite(d.mean)
        ? '-'
        : `${fmtDiff(d.mean, r.metric)} [${fmtDiff(d.low, r.metric)}, ${fmtDiff(d.high, r.metric)}]${note.of < 2 ? ' (one seed: no interval)' : note.containsZero ? ' (CI holds 0)' : ''}`;
    const spread = Number.isFinite(r.std) ? ` +- ${fmt(r.std, r.metric).replace('%', '')}` : '';
    return [
      r.variant,
      r.metric + (r.metric === 'accuracy' ? ' (%)' : ''),
      `${fmt(r.mean, r.metric)}${spread} (${r.n})`,
      diff,
      isBase ? '' : `better on ${note.better} of ${note.of} seeds`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** summary.csv: one line per row, the per-seed values in their own columns. */
export function groupCsv(summary: GroupSummary, notes: readonly GroupRowNote[]): string {
  const seeds = summary.rows[0]?.seeds ?? [];
  const head = ['variant', 'metric', 'n', 'mean', 'std', 'diffMean', 'diffLow', 'diffHigh', 'better', 'pairs', 'ciContainsZero', ...seeds.map((s) => `seed${s}`)];
  const num = (x: number | null) => (x === null || !Number.isFinite(x) ? '' : String(x));
  const lines = summary.rows.map((r, i) =>
    [r.variant, r.metric, r.n, num(r.mean), num(r.std), num(r.pairedDiff.mean), num(r.pairedDiff.low), num(r.pairedDiff.high), notes[i]!.better, notes[i]!.of, notes[i]!.containsZero, ...r.values.map(num)].join(','),
  );
  return `${[head.join(','), ...lines].join('\n')}\n`;
}

/** One row of sweep.json: a point's metric over seeds, diverged runs counted (their value left out). */
export interface SweepRow {
  values: SweepPoint;
  metric: string;
  n: number;
  mean: number;
  std: number;
  diverged: number;
}

/** Rows per point and metric; `results[i]` lists the point's runs, one per seed. */
export function summariseSweep(
  points: readonly SweepPoint[],
  results: readonly { metrics: Record<string, number>; diverged: boolean }[][],
  metrics: readonly MetricSpec[],
): SweepRow[] {
  const rows: SweepRow[] = [];
  points.forEach((point, i) => {
    const runs = results[i]!;
    for (const m of metrics) {
      const ok = runs.filter((r) => !r.diverged).map((r) => r.metrics[m.name] ?? NaN).filter((x) => Number.isFinite(x));
      rows.push({ values: { ...point }, metric: m.name, n: ok.length, mean: mean(ok), std: std(ok), diverged: runs.filter((r) => r.diverged).length });
    }
  });
  return rows;
}

/** The sweep's table: one line per point, the chosen metrics as mean +- std (n), diverged runs marked. */
export function formatSweepTable(params: readonly string[], rows: readonly SweepRow[], metrics: readonly string[]): string {
  const head = [...params, ...metrics, 'diverged'];
  const byPoint = new Map<string, SweepRow[]>();
  for (const r of rows) {
    const key = JSON.stringify(r.values);
    byPoint.set(key, [...(byPoint.get(key) ?? []), r]);
  }
  const body = [...byPoint.values()].map((rs) => {
    const first = rs[0]!;
    return [
      ...params.map((p) => String(first.values[p])),
      ...metrics.map((m) => {
        const r = rs.find((x) => x.metric === m);
        if (!r || r.n === 0) return '-';
        const sd = Number.isFinite(r.std) ? ` +- ${fmt(r.std, m).replace('%', '')}` : '';
        return `${fmt(r.mean, m)}${sd} (${r.n})`;
      }),
      first.diverged > 0 ? `${first.diverged} diverged` : '',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
