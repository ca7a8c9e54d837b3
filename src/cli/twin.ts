// `npm run twin -- --nproc K (--resume FILE | --config FILE) [--steps S] --out DIR`: continues a
// playground run in the PyTorch twin (python/momentum_twin), data-parallel over K processes under
// torchrun, exactly as a cluster user runs it:
//   python3 -m torch.distributed.run --nproc_per_node=K -m momentum_twin.run --resume FILE --steps S --out DIR
// (through momentum_twin.launch, which is torchrun with a fix for Debian 12's torch 1.13 on Python 3.11).
import { existsSync, readFileSync } from 'node:fs';
import { UsageError, checkpointConfig, intOption, parse, runMain } from './common.ts';
import { runTwinPython } from './twinPython.ts';

const USAGE = `usage: npm run twin -- --nproc K (--resume FILE | --config FILE) [--steps S] --out DIR
  --nproc K        processes (DDP: gloo on CPUs, NCCL on GPUs); at most the batch size
  --resume FILE    a playground checkpoint (last.safetensors) to continue
  --config FILE    a run config JSON (DIR/config.json, or the page's export of one run) to start from
  --steps S        total steps (as npm run train --steps); default: the config's
  --out DIR        metrics.jsonl, config.json and last.safetensors, in the playground's layout`;

function batchOf(v: { resume?: string; config?: string }): number {
  if (v.resume !== undefined) {
    if (!existsSync(v.resume)) throw new UsageError(`--resume ${v.resume}: no such file`);
    return checkpointConfig(new Uint8Array(readFileSync(v.resume)), `--resume ${v.resume}`).batch;
  }
  if (!existsSync(v.config!)) throw new UsageError(`--config ${v.config}: no such file`);
  let c: unknown;
  try {
    c = JSON.parse(readFileSync(v.config!, 'utf8'));
  } catch (e) {
    throw new UsageError(`--config ${v.config} is not JSON: ${(e as Error).message}`);
  }
  const one = Array.isArray(c) ? c[0] : c;
  const cfg = one && typeof one === 'object' && 'config' in one && !('model' in one) ? (one as { config: unknown }).config : one;
  return (cfg as { batch?: number })?.batch ?? NaN;
}

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), {
    nproc: { type: 'string' },
    resume: { type: 'string' },
    config: { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const nproc = intOption(v.nproc, 'nproc') ?? 1;
  if ((v.resume === undefined) === (v.config === undefined)) throw new UsageError('give one of --resume FILE or --config FILE');
  if (v.out === undefined) throw new UsageError('--out DIR is required');
  const steps = intOption(v.steps, 'steps');
  const batch = batchOf(v);
  if (Number.isInteger(batch) && nproc > batch) {
    throw new UsageError(`--nproc ${nproc} is larger than the run's batch of ${batch} sequences: every process needs at least one`);
  }
  const args = ['-m', 'momentum_twin.launch', '--standalone', `--nproc_per_node=${nproc}`, '-m', 'momentum_twin.run'];
  args.push(...(v.resume !== undefined ? ['--resume', v.resume] : ['--config', v.config!]));
  if (steps !== undefined) args.push('--steps', String(steps));
  args.push('--out', v.out);
  process.exitCode = runTwinPython(args);
}

runMain(USAGE, async () => {
  await main();
  if (process.exitCode) process.exit(process.exitCode);
});
