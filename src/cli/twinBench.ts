// One training step of the benchmark's model (src/bench/model.ts) on the engine and in the PyTorch
// twin, measured in one run, and their ratio:
//   node --import tsx --import ./scripts/wgsl-register.mjs src/cli/twinBench.ts [--reps N]
import { spawnSync } from 'node:child_process';
import { Gpu } from '../engine/gpu.ts';
import { oursTrainStep } from '../bench/trainStep.ts';
import { intOption, parse, runMain } from './common.ts';
import { TWIN_PYTHON_DIR, twinPython } from './twinPython.ts';

const USAGE = 'usage: node --import tsx --import ./scripts/wgsl-register.mjs src/cli/twinBench.ts [--reps N] [--threads T]';

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), { reps: { type: 'string' }, threads: { type: 'string' } });
  const reps = intOption(v.reps, 'reps') ?? 10;
  const threads = intOption(v.threads, 'threads') ?? 1;
  const gpu = await Gpu.open();
  const engine = await oursTrainStep(gpu, reps);
  const device = `${gpu.description} (${gpu.backend})`;
  gpu.destroy();
  const env = { ...process.env, PYTHONPATH: TWIN_PYTHON_DIR };
  const r = spawnSync(twinPython(), ['-m', 'momentum_twin.bench', '--reps', String(2 * reps), '--threads', String(threads)], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the twin's benchmark failed: ${r.stderr}`);
  const twin = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ms: number; torch: string };
  console.log(`engine (${device}): ${engine.ms.toFixed(1)} ms per step`);
  console.log(`twin (PyTorch ${twin.torch}, CPU, ${threads} thread${threads > 1 ? 's' : ''}): ${twin.ms.toFixed(1)} ms per step`);
  console.log(`engine / twin: ${(engine.ms / twin.ms).toFixed(1)}x`);
}

runMain(USAGE, main);
