// `npm run train -- --task copy|mnist|mqar|listops|images --variant <name> [...]`: trains one run on the engine in Node
// (SwiftShader where there is no GPU), writing DIR/metrics.jsonl (one JSON object per evaluation)
// and DIR/last.safetensors (at every evaluation and at the end), for classifiers DIR/confusion.json
// (the latest evaluation's confusion matrix); `--resume FILE` continues a run.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gpu } from '../engine/gpu.ts';
import { Trainer } from '../train/trainer.ts';
import type { RunConfig } from '../train/types.ts';
import { Progress, RUN_OPTIONS, checkpointConfig, RUN_USAGE, UsageError, loadTaskData, metricOf, parse, runConfigFrom, runMain, variantOption } from './common.ts';
import { writeAtomic, writeConfusion } from './runDir.ts';

const USAGE = `usage: npm run train -- --task copy|mnist|mqar|listops|images --variant <name> [options]
  --variant softmax|linear|momentum|momentum-connection|adaptive
${RUN_USAGE}
  --resume FILE           continue from a checkpoint (its config wins; --steps may extend the run)
  --out DIR               default runs/<task>-<variant>`;

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), { ...RUN_OPTIONS, variant: { type: 'string' }, resume: { type: 'string' }, help: { type: 'boolean' } });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  let trainer: Trainer;
  let cfg: RunConfig;
  const gpu = await Gpu.open();
  if (v.resume !== undefined) {
    if (!existsSync(v.resume)) throw new UsageError(`--resume ${v.resume}: no such file`);
    const bytes = new Uint8Array(readFileSync(v.resume));
    const probe = checkpointConfig(bytes, `--resume ${v.resume}`);
    const data = await loadTaskData(probe, v.data, v.labels);
    trainer = Trainer.fromCheckpoint(gpu, bytes, data);
    cfg = trainer.config;
    const steps = v.steps !== undefined ? Number(v.steps) : undefined;
    if (steps !== undefined) {
      if (!Number.isInteger(steps) || steps < trainer.step) throw new UsageError(`--steps must be an integer >= the checkpoint's step ${trainer.step}`);
      trainer.extend(steps);
      cfg = trainer.config;
    }
  } else {
    cfg = runConfigFrom(v, variantOption(v.variant));
    const data = await loadTaskData(cfg, v.data, v.labels);
    trainer = Trainer.create(gpu, cfg, data);
  }
  const dir = v.out ?? join('runs', `${cfg.task.kind}-${cfg.variant}`);
  mkdirSync(dir, { recursive: true });
  const metricsPath = join(dir, 'metrics.jsonl');
  if (v.resume === undefined) writeFileSync(metricsPath, '');
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  console.error(`${cfg.name}: ${trainer.data.describe()}; ${trainer.model.parameterCount} parameters; ${gpu.description} (${gpu.backend})`);

  const progress = new Progress(cfg.variant, cfg.steps);
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    trainer.stopRequested = true;
    console.error('\nstopping at the next window; press Ctrl-C again to quit without saving');
  });
  try {
    while (!trainer.finished) {
      const { records, stop } = await trainer.run(cfg.evalEvery);
      for (const r of records) {
        progress.update(r);
        if (r.testLoss !== null) appendFileSync(metricsPath, `${JSON.stringify(r)}\n`);
      }
      if (stop && stop.kind !== 'diverged' && stop.kind !== 'stopped') break;
      writeAtomic(join(dir, 'last.safetensors'), await trainer.checkpoint());
      writeConfusion(dir, trainer);
      if (stop) {
        progress.done();
        console.error(`${stop.kind}: ${stop.message}; the last good state is in ${join(dir, 'last.safetensors')}`);
        process.exitCode = stop.kind === 'diverged' ? 3 : 0;
        return;
      }
    }
    progress.done();
    const last = trainer.step;
    console.log(`done: ${last} steps; metrics in ${metricsPath}; checkpoint ${join(dir, 'last.safetensors')}`);
    const lastEval = readFileSync(metricsPath, 'utf8').trim().split('\n').filter(Boolean).at(-1);
    if (lastEval) {
      const r = JSON.parse(lastEval);
      console.log(`final: train loss ${r.trainLoss.toFixed(4)}, test loss ${r.testLoss.toFixed(4)}, ${metricOf(r)}`);
    }
  } finally {
    trainer.dispose();
    gpu.destroy();
  }
}

runMain(USAGE, main);
