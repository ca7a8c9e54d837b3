// `npm run mismatch -- --checkpoint DIR/last.safetensors [--sequences N] [--json FILE]`: for a
// momentum-attention checkpoint, what sampling through the recurrent step (12) does to a model
// trained under its config's weighting (src/train/mismatch.ts): the teacher-forced held-out loss of
// the parallel forward as trained and under the recurrence's weights (which recurrent sampling
// computes), and the largest difference between parallel and recurrent output rows on N held-out
// sequences. Train the model to measure with `npm run train -- --weights authors-code ...`.
import { writeFileSync } from 'node:fs';
import { Gpu } from '../engine/gpu.ts';
import { measureMismatch, type MismatchResult } from '../train/mismatch.ts';
import { Trainer } from '../train/trainer.ts';
import { UsageError, checkpointOption, intOption, loadTaskData, parse, runMain } from './common.ts';

const USAGE = `usage: npm run mismatch -- --checkpoint FILE [options]
  --checkpoint FILE   a last.safetensors of a momentum-attention run (npm run train; required)
  --sequences N       held-out sequences fed through the recurrent sampler (default 8, at most one batch)
  --data FILE         the IDX file an MNIST run trained on, if not the embedded digits
  --json FILE         also write the numbers as JSON`;

function metric(r: MismatchResult['parallel']): string {
  if (r.accuracy !== undefined) return `, accuracy ${(100 * r.accuracy).toFixed(1)}%`;
  if (r.bitsPerDim !== undefined) return `, ${r.bitsPerDim.toFixed(3)} bits/dim`;
  return '';
}

export function formatMismatch(name: string, step: number, r: MismatchResult): string {
  const e = (x: number) => x.toExponential(2);
  return [
    `${name} at step ${step}, trained with '${r.trained}' weights`,
    `held-out loss, parallel as trained (${r.trained}): ${r.parallel.testLoss.toFixed(4)}${metric(r.parallel)}`,
    `held-out loss, recurrence (= recurrent sampling): ${r.recurrence.testLoss.toFixed(4)}${metric(r.recurrence)}`,
    `recurrent sampler on ${r.sequences} held-out sequences of ${r.seq} tokens (teacher forced):`,
    `  max |parallel as trained - recurrent| = ${e(r.maxDiffTrained)} (outputs up to ${e(r.maxOutput)})`,
    `  max |parallel recurrence - recurrent| = ${e(r.maxDiffRecurrence)}`,
    `  loss on them: parallel as trained ${r.checkedLoss.trained.toFixed(4)}, parallel recurrence ${r.checkedLoss.recurrence.toFixed(4)}, recurrent ${r.checkedLoss.recurrent.toFixed(4)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), {
    checkpoint: { type: 'string' },
    sequences: { type: 'string' },
    data: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const { bytes, cfg } = checkpointOption(v.checkpoint);
  const sequences = intOption(v.sequences, 'sequences') ?? 8;
  if (cfg.model.attention.kind !== 'momentum') {
    throw new UsageError(`--checkpoint ${v.checkpoint}: the mismatch is a property of momentum attention; this run uses ${cfg.model.attention.kind}`);
  }
  const data = await loadTaskData(cfg, v.data);
  const gpu = await Gpu.open();
  const trainer = Trainer.fromCheckpoint(gpu, bytes, data);
  try {
    const r = await measureMismatch(gpu, trainer.model, trainer.config, trainer.data, { sequences });
    console.log(formatMismatch(cfg.name, trainer.step, r));
    if (v.json !== undefined) writeFileSync(v.json, `${JSON.stringify({ name: cfg.name, step: trainer.step, ...r }, null, 2)}\n`);
  } finally {
    trainer.dispose();
    gpu.destroy();
  }
}

runMain(USAGE, main);
