// `npm run compare -- --task T --variants a,b --seeds 1,2,3 --baseline a --out DIR`: every
// variant x seed is a run, trained one after another on one device into DIR/<variant>-seed<k>/
// (metrics.jsonl, last.safetensors, config.json). A seed fixes the data order and the initial
// weights, so runs of one seed form a pair across variants. DIR/summary.json and summary.csv
// hold one row per variant and metric over seeds, with the paired difference to the baseline;
// they are rewritten after each complete seed, so a stopped comparison keeps what it finished.
import { join } from 'node:path';
import { VARIANTS, type Variant } from '../model/config.ts';
import type { RunConfig } from '../train/types.ts';
import {
  finalMetrics,
  formatGroupTable,
  groupCsv,
  parseSeeds,
  planGroup,
  SHOWCASE,
  summariseGroup,
  summaryJson,
  type PlannedRun,
} from '../util/seedGroups.ts';
import { RUN_OPTIONS, UsageError, loadTaskData, numOption, runConfigFrom, taskOption, defaultThreshold, valuesFor } from './common.ts';
import { RUNNER_OPTIONS, RUNNER_USAGE, openRunner, runPool } from './groupRuns.ts';
import { writeAtomic } from './runDir.ts';

export const GROUP_OPTIONS = {
  seeds: { type: 'string' },
  baseline: { type: 'string' },
  threshold: { type: 'string' },
  showcase: { type: 'boolean' },
  ...RUNNER_OPTIONS,
} as const;

const SHOWCASE_OUT = join('runs', 'showcase-mqar');

export const GROUP_USAGE = `  --seeds 1,2,3 | A:B | N a seed group: every variant x seed is a run (A:B: seeds A..B; N: seeds 1..N), at most 64 runs;
                          each run in DIR/<variant>-seed<k>/, the table in DIR/summary.json and summary.csv
  --baseline V            the variant others are compared with, seed by seed (default: the first)
  --threshold X           steps and training seconds to the first evaluation with test loss <= X nats
                          (default: copy and MQAR 0.5, MNIST 1.5 bits/dim; --target-loss is the same)
  --showcase              MQAR, preset tiny, the five variants, seeds 1,2,3, baseline linear
                          (out runs/showcase-mqar)
${RUNNER_USAGE}`;

type Values = { -readonly [K in keyof typeof RUN_OPTIONS]?: string } & {
  variants?: string;
  'target-loss'?: string;
  seeds?: string;
  baseline?: string;
  threshold?: string;
  showcase?: boolean;
  twin?: boolean;
  jobs?: string;
};

export function isGroupRun(v: Values): boolean {
  return v.seeds !== undefined || v.baseline !== undefined || v.threshold !== undefined || v.showcase === true;
}

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

/** The variants of `--variants`, checked: known names, none twice. */
export function variantList(text: string | undefined): Variant[] {
  const names = text === undefined ? [...VARIANTS] : text.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(VARIANTS as readonly string[]).includes(name)) throw new UsageError(`--variants: unknown variant '${name}'; expected ${VARIANTS.join(', ')}`);
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`--variants: '${dup}' appears twice`);
  return names as Variant[];
}

export async function compareGroup(given: Values): Promise<void> {
  const v: Values = { ...given };
  if (v.showcase) {
    v.task ??= SHOWCASE.task;
    v.preset ??= SHOWCASE.preset;
    v.seeds ??= SHOWCASE.seeds.join(',');
    v.baseline ??= SHOWCASE.baseline;
    v.out ??= SHOWCASE_OUT;
  }
  if (v.seed !== undefined) throw new UsageError('--seed is for one seed; give a seed group with --seeds');
  const task = taskOption(v.task);
  const variants = variantList(v.variants);
  const seeds = usage(() => parseSeeds(v.seeds ?? '1'));
  const baseline = (v.baseline ?? variants[0]!) as Variant;
  if (!variants.includes(baseline)) throw new UsageError(`--baseline '${baseline}' is not one of the variants compared (${variants.join(', ')})`);
  if (v.threshold !== undefined && v['target-loss'] !== undefined) throw new UsageError('give --threshold or --target-loss, not both');
  const threshold = numOption(v.threshold ?? v['target-loss'], v.threshold !== undefined ? 'threshold' : 'target-loss') ?? defaultThreshold(task);
  const planned = usage(() => planGroup(variants, seeds));
  // Seed by seed: after each seed every variant has its run, so partial results stay paired.
  const order: PlannedRun<Variant>[] = seeds.flatMap((s) => planned.filter((r) => r.seed === s));
  const configs = new Map<string, RunConfig>();
  for (const r of order) configs.set(r.dir, runConfigFrom(valuesFor({ ...v, seed: String(r.seed) }, r.variant), r.variant));
  const first = configs.get(order[0]!.dir)!;
  const data = await loadTaskData(first, v.data, v.labels);
  const dir = v.out ?? join('runs', `compare-${task}-seeds`);

  const runner = await openRunner(v, [...configs.values()], data, 'compare');
  try {
    console.error(
      `${task}, preset ${v.preset ?? 'tiny'}, ${order.length} runs (${variants.length} variants x ${seeds.length} seeds: ${seeds.join(', ')}), ` +
        `${first.steps} steps each, baseline ${baseline}; ${runner.description}`,
    );
    const results: Record<string, Record<string, number>[]> = Object.fromEntries(variants.map((x) => [x, []]));
    const finished: (Record<string, number> | undefined)[] = order.map(() => undefined);
    const stops: string[] = [];
    const t0 = performance.now();
    let table = '';
    let seedsDone = 0;
    await runPool(
      order.map((_r, i) => i),
      runner.jobs,
      (i) => runner.train(configs.get(order[i]!.dir)!, join(dir, order[i]!.dir), `${order[i]!.variant} s${order[i]!.seed}`.padEnd(24)),
      (i, res) => {
        const r = order[i]!;
        const diverged = res.stop?.kind === 'diverged';
        if (res.stop) stops.push(`${r.dir}: ${res.stop.message}`);
        const m = finalMetrics(res.evals, threshold);
        // A diverged run counts out of n in every metric (its values are kept in its metrics.jsonl).
        finished[i] = diverged ? Object.fromEntries(Object.keys(m).map((k) => [k, NaN])) : m;
        // Seed by seed: once every run of the next seeds has finished, the table grows by them
        // (runs may finish out of order with --jobs), so partial results stay paired.
        while (seedsDone < seeds.length && order.every((o, j) => o.seed !== seeds[seedsDone] || finished[j] !== undefined)) {
          for (const [j, o] of order.entries()) if (o.seed === seeds[seedsDone]) results[o.variant]!.push(finished[j]!);
          seedsDone++;
          const done = seeds.slice(0, seedsDone);
          const { summary, notes } = summariseGroup(task, baseline, variants, done, results);
          writeAtomic(join(dir, 'summary.json'), summaryJson(summary));
          writeAtomic(join(dir, 'summary.csv'), groupCsv(summary, notes));
          table = formatGroupTable(summary, notes);
          console.error(`seed ${seeds[seedsDone - 1]} done (${done.length}/${seeds.length}), ${((performance.now() - t0) / 1000).toFixed(0)} s so far`);
        }
      },
    );
    console.log(table);
    console.log(
      `${seeds.length} seeds; final metrics from each run's last evaluation; differences are variant - ${baseline}, paired by seed, ` +
        `with 95% t-intervals; threshold: test loss <= ${threshold.toFixed(3)} nats; wall ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    for (const s of stops) console.log(`* ${s}`);
    console.log(`runs: ${dir}/<variant>-seed<k>/; table: ${join(dir, 'summary.json')}, ${join(dir, 'summary.csv')}`);
  } finally {
    runner.close();
  }
}
