// One run trained into its own folder, as `npm run train` writes it (config.json, metrics.jsonl
// with one line per evaluation, last.safetensors at every evaluation, written under a temporary
// name and renamed; confusion.json for classifiers), for the commands that train groups of runs (compare with seeds, sweep).
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../engine/gpu.ts';
import { estimateMemory } from '../train/memory.ts';
import { Trainer, type TaskData } from '../train/trainer.ts';
import type { MetricsRecord, RunConfig, StopReason } from '../train/types.ts';
import { Progress, UsageError } from './common.ts';

/** The trainer's default memory budget (TrainerOptions.memoryBudget). */
export const MEMORY_BUDGET = 4 * 2 ** 30;

export function writeAtomic(path: string, bytes: Uint8Array | string): void {
  writeFileSync(`${path}.partial`, bytes);
  renameSync(`${path}.partial`, path);
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/**
 * Refuses a group before anything starts: runs go one after another on one device, so the
 * largest run's estimate must fit the budget (and, once a device is open, its buffer limits).
 */
export function checkGroupMemory(configs: readonly RunConfig[], what: string, gpu?: Gpu, budget = MEMORY_BUDGET): void {
  const est = configs.map((c) => estimateMemory(c));
  const worst = est.reduce((a, b) => (b.totalBytes > a.totalBytes ? b : a));
  if (worst.totalBytes > budget) {
    throw new UsageError(`${what}: ${configs.length} runs, the largest needs about ${mib(worst.totalBytes)} of GPU memory, over the budget of ${mib(budget)}; nothing was started`);
  }
  if (gpu) {
    const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    const big = est.reduce((a, b) => (b.largest.bytes > a.largest.bytes ? b : a));
    if (big.largest.bytes > limit) {
      throw new UsageError(`${what}: ${configs.length} runs, the largest buffer (${big.largest.what}) needs ${mib(big.largest.bytes)}, over the device's ${mib(limit)} per buffer; nothing was started`);
    }
  }
}

/**
 * A classifier's latest evaluation as DIR/confusion.json: matrix[t][p] counts test sequences of
 * true class t predicted as p. Nothing for tasks without classes.
 */
export function writeConfusion(dir: string, trainer: Trainer): void {
  const e = trainer.lastEvaluation;
  if (!e?.confusion) return;
  const body = { step: trainer.step, testLoss: e.testLoss, accuracy: e.accuracy, rows: 'true class', columns: 'predicted class', matrix: e.confusion };
  writeAtomic(join(dir, 'confusion.json'), `${JSON.stringify(body)}\n`);
}

export interface RunResult {
  records: MetricsRecord[];
  evals: MetricsRecord[];
  stop: StopReason | null;
}

/** Trains `cfg` into `dir`; a diverged run keeps its records and its last good checkpoint. */
export async function trainIntoDir(gpu: Gpu, cfg: RunConfig, data: TaskData, dir: string, label: string): Promise<RunResult> {
  mkdirSync(dir, { recursive: true });
  const metricsPath = join(dir, 'metrics.jsonl');
  writeFileSync(metricsPath, '');
  writeAtomic(join(dir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  const trainer = Trainer.create(gpu, cfg, data);
  const progress = new Progress(label, cfg.steps);
  const records: MetricsRecord[] = [];
  let stop: StopReason | null = null;
  try {
    while (!trainer.finished) {
      const r = await trainer.run(cfg.evalEvery);
      for (const x of r.records) {
        progress.update(x);
        if (x.testLoss !== null) appendFileSync(metricsPath, `${JSON.stringify(x)}\n`);
      }
      records.push(...r.records);
      if (r.stop && r.stop.kind !== 'diverged' && r.stop.kind !== 'stopped') {
        stop = r.stop;
        break;
      }
      writeAtomic(join(dir, 'last.safetensors'), await trainer.checkpoint());
      writeConfusion(dir, trainer);
      if (r.stop) {
        stop = r.stop;
        break;
      }
    }
  } finally {
    progress.done();
    trainer.dispose();
  }
  return { records, evals: records.filter((r) => r.testLoss !== null), stop };
}
