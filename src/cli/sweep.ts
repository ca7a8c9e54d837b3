// `npm run sweep -- --task T --variant V --param beta --values 0,0.2,0.4 --seeds 1,2 --out DIR`:
// one variant over the values of one hyper-parameter (or a grid of two, with --param2/--values2),
// crossed with seeds; every run in DIR/<param><value>-seed<k>/ as `npm run train` writes it, and
// DIR/sweep.json with each point's final metrics over seeds (diverged runs counted, not dropped),
// rewritten after every run (seed by seed) so a stopped sweep keeps what it finished.
import { join } from 'node:path';
import type { RunConfig } from '../train/types.ts';
import { finalMetrics, formatSweepTable, groupMetrics, parseSeeds, parseValues, planSweep, summariseSweep, summaryJson, sweepParam, SWEEP_PARAMS, type SweepRow } from '../util/seedGroups.ts';
import { RUN_OPTIONS, RUN_USAGE, UsageError, loadTaskData, numOption, parse, runConfigFrom, runMain, taskOption, variantOption, defaultThreshold } from './common.ts';
import { RUNNER_OPTIONS, RUNNER_USAGE, openRunner, runPool } from './groupRuns.ts';
import { writeAtomic } from './runDir.ts';

const USAGE = `usage: npm run sweep -- --task copy|mnist|mqar|listops|images --variant V --param NAME --values LIST [options]
  --param NAME            ${SWEEP_PARAMS.map((p) => `${p.flag} ${p.range}`).join(', ')}
  --values LIST           0,0.2,0.4 or a range start:stop:step (stop included), e.g. 0:0.9:0.1
  --param2 NAME --values2 LIST   a second parameter: the grid of both
  --seeds 1,2 | A:B | N   seeds of every point (A:B: seeds A..B; N: seeds 1..N; default 1); at most 64 runs in all
  --threshold X           steps and seconds to test loss <= X nats (default 0.5; MNIST 1.5 bits/dim)
${RUN_USAGE}
${RUNNER_USAGE}
  --out DIR               default runs/sweep-<task>-<variant>-<param>`;

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), {
    ...RUN_OPTIONS,
    variant: { type: 'string' },
    param: { type: 'string' },
    values: { type: 'string' },
    param2: { type: 'string' },
    values2: { type: 'string' },
    seeds: { type: 'string' },
    threshold: { type: 'string' },
    ...RUNNER_OPTIONS,
    help: { type: 'boolean' },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const task = taskOption(v.task);
  const variant = variantOption(v.variant);
  if (v.seed !== undefined) throw new UsageError('--seed is for one seed; give the sweep its seeds with --seeds');
  if (v.param === undefined) throw new UsageError(`--param is required (${SWEEP_PARAMS.map((p) => p.flag).join(', ')})`);
  if (v.values === undefined) throw new UsageError('--values is required');
  if ((v.param2 === undefined) !== (v.values2 === undefined)) throw new UsageError('--param2 and --values2 go together');
  const specs = [{ name: v.param, values: v.values, flag: 'param' }];
  if (v.param2 !== undefined) specs.push({ name: v.param2, values: v.values2!, flag: 'param2' });
  const params = specs.map((s) => {
    const param = usage(() => sweepParam(s.name));
    if (param.flag !== 'lr' && (v as Record<string, unknown>)[param.flag] !== undefined) {
      throw new UsageError(`--${param.flag} is swept; do not also fix it`);
    }
    if (param.flag === 'lr' && v.lr !== undefined) throw new UsageError('--lr is swept; do not also fix it');
    return { param, values: usage(() => parseValues(s.values, param)) };
  });
  const seeds = usage(() => parseSeeds(v.seeds ?? '1'));
  const plan = usage(() => planSweep(params, seeds));
  const threshold = numOption(v.threshold, 'threshold') ?? defaultThreshold(task);

  // A swept value the variant does not use (beta on linear attention) would make every point the
  // same run: refuse it, naming it.
  const configs: RunConfig[] = plan.runs.map((r) => {
    const flags: Record<string, string> = { seed: String(r.seed) };
    for (const { param } of params) flags[param.flag] = String(r.point[param.key]);
    return runConfigFrom({ ...v, ...flags }, variant);
  });
  for (const { param } of params) {
    if (param.key === 'lr') continue;
    const probe = configs[0]!.model;
    const uses =
      ((param.key === 'beta' || param.key === 'gamma') && probe.attention.kind === 'momentum') ||
      ((param.key === 'betaTilde' || param.key === 'gammaTilde') && probe.connection.kind === 'momentum') ||
      ((param.key === 'gammaTilde' || param.key === 'delta') && probe.connection.kind === 'adaptive');
    if (!uses) throw new UsageError(`the ${variant} variant has no ${param.flag} to sweep`);
  }
  const data = await loadTaskData(configs[0]!, v.data, v.labels);
  const names = params.map((p) => p.param.key);
  const dir = v.out ?? join('runs', `sweep-${task}-${variant}-${names.join('-')}`);
  const metrics = groupMetrics(task);
  const shown = [task === 'mnist' ? 'bitsPerDim' : 'accuracy', 'testLoss', 'stepsToThreshold'];

  const runner = await openRunner(v, configs, data, 'sweep');
  try {
    console.error(`${task}, ${variant}, ${plan.runs.length} runs (${plan.points.length} points x ${seeds.length} seeds), ${configs[0]!.steps} steps each; ${runner.description}`);
    const results: { metrics: Record<string, number>; diverged: boolean }[][] = plan.points.map(() => []);
    const t0 = performance.now();
    let rows: SweepRow[] = [];
    // Seed by seed: after the first seed every point has a run, so a stopped sweep still spans
    // the whole range; sweep.json is rewritten after every run.
    const order = seeds.flatMap((_, k) => plan.points.map((_p, p) => p * seeds.length + k));
    await runPool(
      order,
      runner.jobs,
      (i) => runner.train(configs[i]!, join(dir, plan.runs[i]!.dir), `${plan.runs[i]!.dir}`.padEnd(24)),
      (i, res) => {
        const r = plan.runs[i]!;
        const p = Math.floor(i / seeds.length);
        results[p]!.push({ metrics: finalMetrics(res.evals, threshold), diverged: res.stop?.kind === 'diverged' });
        if (res.stop) console.error(`${r.dir}: ${res.stop.message}`);
        const started = plan.points.map((_p, q) => q).filter((q) => results[q]!.length > 0);
        rows = summariseSweep(started.map((q) => plan.points[q]!), started.map((q) => results[q]!), metrics);
        writeAtomic(join(dir, 'sweep.json'), summaryJson({ variant, params: names, rows }));
      },
    );
    console.log(formatSweepTable(names, rows, shown));
    console.log(`${seeds.length} seeds per point (${seeds.join(', ')}); final metrics from each run's last evaluation; wall ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    console.log(`runs: ${dir}/<point>-seed<k>/; table: ${join(dir, 'sweep.json')}`);
  } finally {
    runner.close();
  }
}

runMain(USAGE, main);
