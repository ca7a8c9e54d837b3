// `npm run compare -- --task copy [...]`: trains the five variants with one seed on the same data
// order, one after another on one device, then prints a table (final losses, accuracy or bits/dim,
// steps to reach a target test loss, time per step) and writes every curve to DIR/curves.csv and
// the table to DIR/summary.json. With `--seeds` (or `--showcase`) it trains every variant x seed
// instead (src/cli/compareGroup.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gpu } from '../engine/gpu.ts';
import { VARIANTS, type Variant } from '../model/config.ts';
import { makeCopyHeldOut } from '../tasks/copyTask.ts';
import { copyGreedyAccuracy } from '../train/copyGreedy.ts';
import { Trainer } from '../train/trainer.ts';
import { isClassificationTask, type MetricsRecord, type TaskName } from '../train/types.ts';
import { Progress, RUN_OPTIONS, RUN_USAGE, UsageError, loadTaskData, numOption, parse, runConfigFrom, runMain, taskOption, defaultThreshold, valuesFor } from './common.ts';
import { GROUP_OPTIONS, GROUP_USAGE, compareGroup, isGroupRun } from './compareGroup.ts';

const USAGE = `usage: npm run compare -- --task copy|mnist|mqar|listops|images [options]
${RUN_USAGE}
  --variants a,b,...      which variants (default: all five)
  --target-loss X         report the first evaluation step whose test loss is <= X
                          (default: copy 0.5 nats, MNIST 1.5 bits/dim expressed in nats)
  --out DIR               default runs/compare-<task>
${GROUP_USAGE}`;

export interface CompareRow {
  variant: Variant;
  steps: number;
  trainLoss: number;
  testLoss: number;
  accuracy?: number;
  sequenceAccuracy?: number;
  bitsPerDim?: number;
  stepsToTarget: number | null;
  /** Copy task: accuracy when the model writes the copy itself (greedy, recurrent steps). */
  generatedAccuracy?: number;
  generatedSequenceAccuracy?: number;
  msPerStep: number;
  stop: string | null;
}

/** Mean of the last few training losses: one batch's loss is noisy. */
function tailMean(rs: MetricsRecord[], n = 10): number {
  const tail = rs.slice(-n);
  return tail.reduce((s, r) => s + r.trainLoss, 0) / tail.length;
}

export function csvOf(curves: Map<Variant, MetricsRecord[]>): string {
  const cols = ['variant', 'step', 'wallSeconds', 'trainLoss', 'testLoss', 'accuracy', 'sequenceAccuracy', 'bitsPerDim', 'tokensPerSec', 'lr', 'gradNorm'] as const;
  const lines = [cols.join(',')];
  for (const [variant, rs] of curves) {
    for (const r of rs) {
      lines.push(cols.map((c) => (c === 'variant' ? variant : (r[c as keyof MetricsRecord] ?? ''))).join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

export function formatTable(rows: CompareRow[], task: TaskName): string {
  const classify = isClassificationTask(task);
  const metric = task === 'mnist' ? 'bits/dim' : classify ? 'accuracy' : 'accuracy (tok / seq)';
  const head = ['variant', 'train loss', 'test loss', metric, ...(task === 'copy' ? ['generated (tok / seq)'] : []), 'steps to target', 'ms/step'];
  const pct = (x: number | undefined) => `${(100 * (x ?? NaN)).toFixed(1)}%`;
  const body = rows.map((r) => [
    r.variant + (r.stop ? ' *' : ''),
    r.trainLoss.toFixed(4),
    r.testLoss.toFixed(4),
    task === 'mnist' ? r.bitsPerDim!.toFixed(3) : classify ? pct(r.accuracy) : `${pct(r.accuracy)} / ${pct(r.sequenceAccuracy)}`,
    ...(task === 'copy' ? [`${pct(r.generatedAccuracy)} / ${pct(r.generatedSequenceAccuracy)}`] : []),
    r.stepsToTarget === null ? `> ${r.steps}` : String(r.stepsToTarget),
    r.msPerStep.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), { ...RUN_OPTIONS, ...GROUP_OPTIONS, variants: { type: 'string' }, 'target-loss': { type: 'string' }, help: { type: 'boolean' } });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (isGroupRun(v)) return compareGroup(v);
  const task = taskOption(v.task);
  const variants = (v.variants?.split(',') ?? [...VARIANTS]) as Variant[];
  for (const name of variants) {
    if (!(VARIANTS as readonly string[]).includes(name)) throw new UsageError(`--variants: unknown variant '${name}'; expected ${VARIANTS.join(', ')}`);
  }
  const target = numOption(v['target-loss'], 'target-loss') ?? defaultThreshold(task);
  const configs = variants.map((name) => runConfigFrom(valuesFor(v, name), name));
  const data = await loadTaskData(configs[0]!, v.data, v.labels);
  const dir = v.out ?? join('runs', `compare-${task}`);
  mkdirSync(dir, { recursive: true });

  const gpu = await Gpu.open();
  console.error(`${configs[0]!.task.kind}, preset ${v.preset ?? 'tiny'}, seed ${configs[0]!.seed}, ${configs[0]!.steps} steps; ${gpu.description} (${gpu.backend})`);
  const curves = new Map<Variant, MetricsRecord[]>();
  const rows: CompareRow[] = [];
  try {
    for (const cfg of configs) {
      const trainer = Trainer.create(gpu, cfg, data);
      const progress = new Progress(cfg.variant.padEnd(19), cfg.steps);
      const records: MetricsRecord[] = [];
      let stop = null;
      let generated: { tokenAccuracy: number; sequenceAccuracy: number } | null = null;
      try {
        while (!trainer.finished) {
          const r = await trainer.run(cfg.evalEvery);
          r.records.forEach((x) => progress.update(x));
          records.push(...r.records);
          if (r.stop) {
            stop = r.stop;
            break;
          }
        }
        if (cfg.task.kind === 'copy') {
          const held = makeCopyHeldOut(cfg.task.heldOut, { maxLen: cfg.task.maxLen, symbols: cfg.task.symbols });
          generated = await copyGreedyAccuracy(trainer.model, held, cfg.batch);
        }
      } finally {
        progress.done();
        trainer.dispose();
      }
      curves.set(cfg.variant, records);
      const evals = records.filter((r) => r.testLoss !== null);
      const last = evals.at(-1);
      if (!last) throw new Error(`${cfg.variant}: no evaluation happened (${stop?.message ?? 'no steps'})`);
      const reached = evals.find((r) => r.testLoss! <= target);
      rows.push({
        variant: cfg.variant,
        steps: last.step,
        trainLoss: tailMean(records),
        testLoss: last.testLoss!,
        ...(last.accuracy !== undefined ? { accuracy: last.accuracy } : {}),
        ...(last.sequenceAccuracy !== undefined ? { sequenceAccuracy: last.sequenceAccuracy } : {}),
        ...(last.bitsPerDim !== undefined ? { bitsPerDim: last.bitsPerDim } : {}),
        stepsToTarget: reached ? reached.step : null,
        ...(generated ? { generatedAccuracy: generated.tokenAccuracy, generatedSequenceAccuracy: generated.sequenceAccuracy } : {}),
        msPerStep: (1000 * records.at(-1)!.wallSeconds) / records.length,
        stop: stop ? stop.message : null,
      });
    }
  } finally {
    gpu.destroy();
  }
  writeFileSync(join(dir, 'curves.csv'), csvOf(curves));
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify({ task, target, config: configs[0], rows }, null, 2)}\n`);
  console.log(formatTable(rows, task));
  console.log(
    `target test loss ${target.toFixed(3)} nats; train loss = mean of the last 10 steps; ms/step excludes evaluation` +
      (task === 'copy' ? '; accuracy is teacher-forced, "generated" greedy through the recurrent steps (same held-out set)' : ''),
  );
  if (v.weights === 'authors-code') {
    console.log("the momentum variants trained with the authors'-code weights; sampling (\"generated\") runs the recurrence (12), as their sampler does");
  }
  for (const r of rows) if (r.stop) console.log(`* ${r.variant}: ${r.stop}`);
  console.log(`curves: ${join(dir, 'curves.csv')}; table: ${join(dir, 'summary.json')}`);
}

runMain(USAGE, main);
