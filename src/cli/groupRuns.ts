// Who trains the runs of a group command (compare with seeds, sweep): the WebGPU engine, one run
// after another on one device, or with `--twin` the PyTorch twin (python/momentum_twin), which
// computes the same model on the CPU (`npm run twin:check`: 7e-7) several times faster and can
// train `--jobs K` runs at once. Either way every run lands in DIR/<run>/ in `npm run train`'s
// layout (config.json, metrics.jsonl, last.safetensors, confusion.json for the classifiers), so the
// summaries read them alike.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gpu } from '../engine/gpu.ts';
import type { TaskData } from '../train/trainer.ts';
import type { MetricsRecord, RunConfig, StopReason } from '../train/types.ts';
import { UsageError, intOption } from './common.ts';
import { checkGroupMemory, trainIntoDir, writeAtomic, type RunResult } from './runDir.ts';
import { twinEnv, twinPython } from './twinPython.ts';

export const RUNNER_OPTIONS = {
  twin: { type: 'boolean' },
  jobs: { type: 'string' },
} as const;

export const RUNNER_USAGE = `  --twin                  train the runs in the PyTorch twin (python3-torch) instead of WebGPU:
                          the same model, data and seeds, several times faster on CPUs
  --jobs K                with --twin: runs trained at once (default 1; each uses one thread)`;

/** Tasks the twin implements (python/momentum_twin/data.py, classify_data.py). */
const TWIN_TASKS: readonly string[] = ['copy', 'mqar', 'mnist', 'listops', 'images'];

/** Throws naming what in a group the twin cannot train: a task it lacks, or the authors' momentum weighting. */
function checkTwinGroup(configs: readonly RunConfig[], dataOption: string | undefined): void {
  const task = configs[0]!.task.kind;
  if (!TWIN_TASKS.includes(task)) throw new UsageError(`--twin: the twin trains ${TWIN_TASKS.join(', ')}, not ${task}`);
  if (dataOption !== undefined && task !== 'mnist' && task !== 'images') throw new UsageError('--data is for MNIST and images');
  const authors = configs.find((c) => c.model.attention.kind === 'momentum' && c.model.attention.weights === 'authors-code');
  if (authors) {
    throw new UsageError(`--twin: ${authors.name} uses momentum weights 'authors-code', which only the WebGPU engine computes (the twin has the recurrence's weights); drop --twin or --weights`);
  }
}

export interface GroupRunner {
  /** Where the runs are trained, for the header line. */
  readonly description: string;
  /** How many runs may train at once. */
  readonly jobs: number;
  train(cfg: RunConfig, dir: string, label: string): Promise<RunResult>;
  close(): void;
}

/**
 * Checks the group (memory, the twin's tasks) before anything starts, then opens the device or
 * checks that the twin's Python is there.
 */
export async function openRunner(v: { twin?: boolean; jobs?: string; data?: string }, configs: readonly RunConfig[], data: TaskData, what: string): Promise<GroupRunner> {
  const jobs = intOption(v.jobs, 'jobs') ?? 1;
  if (jobs < 1) throw new UsageError(`--jobs must be at least 1; got ${jobs}`);
  if (!v.twin) {
    if (v.jobs !== undefined && jobs !== 1) throw new UsageError('--jobs needs --twin: the WebGPU runs of a group train one after another on one device');
    checkGroupMemory(configs, what);
    const gpu = await Gpu.open();
    checkGroupMemory(configs, what, gpu);
    return {
      description: `${gpu.description} (${gpu.backend})`,
      jobs: 1,
      train: (cfg, dir, label) => trainIntoDir(gpu, cfg, data, dir, label),
      close: () => gpu.destroy(),
    };
  }
  checkTwinGroup(configs, v.data);
  const python = twinPython();
  if (python.startsWith('/') && !existsSync(python)) throw new UsageError(`--twin: ${python} is missing (install python3-torch; README, "When a run outgrows the browser")`);
  return {
    description: `the PyTorch twin (${python}), ${jobs} at once`,
    jobs,
    train: (cfg, dir, label) => trainInTwin(cfg, dir, label),
    close: () => {},
  };
}

/** Trains one run in the twin, one thread, output in DIR/twin.log; exit 3 is divergence. */
export async function trainInTwin(cfg: RunConfig, dir: string, label: string): Promise<RunResult> {
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  const log = join(dir, 'twin.log');
  const fd = openSync(log, 'w');
  const env = twinEnv({ TWIN_THREADS: '1' });
  const t0 = performance.now();
  const code = await new Promise<number>((resolve, reject) => {
    const p = spawn(twinPython(), ['-m', 'momentum_twin.run', '--config', join(dir, 'config.json'), '--out', dir], { stdio: ['ignore', fd, fd], env });
    p.on('error', (e) => reject(new Error(`cannot run ${twinPython()}: ${e.message} (install python3-torch)`)));
    p.on('close', (c) => resolve(c ?? 1));
  }).finally(() => closeSync(fd));
  const metricsPath = join(dir, 'metrics.jsonl');
  const evals: MetricsRecord[] = existsSync(metricsPath)
    ? readFileSync(metricsPath, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as MetricsRecord)
    : [];
  const tail = () => readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' / ');
  let stop: StopReason | null = null;
  if (code === 3) {
    const step = evals.at(-1)?.step ?? 0;
    stop = { kind: 'diverged', step, message: `diverged in the twin: ${tail()}` };
  } else if (code !== 0) {
    throw new Error(`${label.trim()}: the twin exited with ${code}: ${tail()} (log: ${log})`);
  }
  const seconds = (performance.now() - t0) / 1000;
  console.error(`${label} ${stop ? 'diverged' : 'done'}: ${evals.at(-1)?.step ?? 0} steps in ${seconds.toFixed(0)} s${evals.at(-1)?.accuracy !== undefined ? `, accuracy ${(100 * evals.at(-1)!.accuracy!).toFixed(1)}%` : ''}`);
  return { records: evals, evals, stop };
}

/**
 * Runs `train(i)` for i in `order` with at most `jobs` at once, in that order of starting;
 * `done(i, result)` is called as each finishes (in finishing order).
 */
export async function runPool<R>(order: readonly number[], jobs: number, train: (i: number) => Promise<R>, done: (i: number, r: R) => void): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (next < order.length && failure === null) {
      const i = order[next++]!;
      try {
        done(i, await train(i));
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, order.length) }, worker));
  if (failure !== null) throw failure;
}
