// `npm run twin:check -- --checkpoint FILE [--data FILE]`: the engine computes the loss, every
// parameter gradient and the attention values for the checkpoint's next batch (twinEngine.ts);
// the twin computes the same in float64 and compares (python/momentum_twin/check.py). Exit 0 only
// when every difference is within tolerance; the last line gives the largest.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gpu } from '../engine/gpu.ts';
import { UsageError, checkpointConfig, loadTaskData, parse, runMain } from './common.ts';
import { engineGradients } from './twinEngine.ts';
import { runTwinPython } from './twinPython.ts';

const USAGE = `usage: npm run twin:check -- --checkpoint FILE [--data FILE [--labels FILE]]
  --checkpoint FILE   a playground checkpoint (last.safetensors; any task, the encoder's included)
  --data FILE         MNIST or images on an IDX images file (default: the file the run names)
  --labels FILE       images: the IDX labels file beside --data`;

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), { checkpoint: { type: 'string' }, data: { type: 'string' }, labels: { type: 'string' }, help: { type: 'boolean' } });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (v.checkpoint === undefined) throw new UsageError('--checkpoint FILE is required');
  if (!existsSync(v.checkpoint)) throw new UsageError(`--checkpoint ${v.checkpoint}: no such file`);
  const bytes = new Uint8Array(readFileSync(v.checkpoint));
  const cfg = checkpointConfig(bytes, `--checkpoint ${v.checkpoint}`);
  const data = await loadTaskData(cfg, v.data, v.labels);
  const gpu = await Gpu.open();
  const dir = mkdtempSync(join(tmpdir(), 'twin-check-'));
  try {
    const engine = join(dir, 'engine.safetensors');
    writeFileSync(engine, await engineGradients(gpu, bytes, data));
    gpu.destroy();
    process.exitCode = runTwinPython(['-m', 'momentum_twin.check', '--checkpoint', v.checkpoint, '--engine', engine]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(USAGE, async () => {
  await main();
  if (process.exitCode) process.exit(process.exitCode);
});
