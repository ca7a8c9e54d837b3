// `npm run sample -- --checkpoint FILE [...]`: generates from a trained model through the
// recurrent steps. MNIST checkpoints: images pixel by pixel, written as one PNG grid plus one PNG
// per image; copy-task checkpoints: greedy copies of held-out sequences, printed. Speeds are
// reported as images/s and tokens/s.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gpu } from '../engine/gpu.ts';
import { generateImages } from '../model/sampler.ts';
import { makeCopyHeldOut } from '../tasks/copyTask.ts';
import { encodeGreyPng, tileImages } from '../tasks/png.ts';
import { Random } from '../util/random.ts';
import { copyGreedyAccuracy } from '../train/copyGreedy.ts';
import { Trainer } from '../train/trainer.ts';
import { UsageError, checkpointOption, intOption, loadTaskData, numOption, parse, runMain } from './common.ts';

const USAGE = `usage: npm run sample -- --checkpoint FILE [options]
  --checkpoint FILE   a last.safetensors written by npm run train (required)
  --count N           images (MNIST) or held-out sequences (copy); default 16
  --temperature T     >= 0; 0 is greedy (default 1 for images; copies are always greedy)
  --seed S            sampling seed (default 1)
  --data FILE         the IDX file an MNIST run trained on, if not the embedded digits
  --out DIR           where PNGs go (default: samples/ beside the checkpoint's name)`;

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), {
    checkpoint: { type: 'string' },
    count: { type: 'string' },
    temperature: { type: 'string' },
    seed: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (v.checkpoint === undefined) throw new UsageError('--checkpoint is required');
  const count = intOption(v.count, 'count') ?? 16;
  const temperature = numOption(v.temperature, 'temperature') ?? 1;
  if (temperature < 0) throw new UsageError(`--temperature must be >= 0; got ${temperature}`);
  const seed = intOption(v.seed, 'seed', 0) ?? 1;
  const { bytes, cfg } = checkpointOption(v.checkpoint);
  const data = await loadTaskData(cfg, v.data);
  const gpu = await Gpu.open();
  const trainer = Trainer.fromCheckpoint(gpu, bytes, data);
  try {
    const model = trainer.model;
    console.error(`${cfg.name} at step ${trainer.step}; ${gpu.description} (${gpu.backend})`);
    if (cfg.task.kind === 'mnist') {
      const side = cfg.task.resolution;
      const dir = v.out ?? 'samples';
      mkdirSync(dir, { recursive: true });
      const r = await generateImages(model, { count, rows: side, cols: side, temperature, rng: new Random(seed) });
      const grid = tileImages(r.pixels, count, side, Math.ceil(Math.sqrt(count)));
      writeFileSync(join(dir, 'grid.png'), await encodeGreyPng(grid.pixels, grid.width, grid.height));
      for (let i = 0; i < count; i++) {
        writeFileSync(join(dir, `sample-${String(i).padStart(3, '0')}.png`), await encodeGreyPng(r.pixels.subarray(i * side * side, (i + 1) * side * side), side, side));
      }
      console.log(`${count} images of ${side}x${side} at temperature ${temperature}: ${r.imagesPerSec.toFixed(2)} images/s, ${Math.round(r.tokensPerSec)} pixels/s`);
      console.log(`written: ${join(dir, 'grid.png')} and ${count} sample-NNN.png`);
    } else {
      if (cfg.task.kind !== 'copy') throw new UsageError(`--checkpoint: samples are drawn for the copy task and MNIST, not ${cfg.task.kind}`);
      const held = makeCopyHeldOut(count, { maxLen: cfg.task.maxLen, symbols: cfg.task.symbols });
      const g = await copyGreedyAccuracy(model, held, Math.min(count, cfg.batch));
      const L = held.maxLen;
      for (let b = 0; b < Math.min(count, 8); b++) {
        const n = held.lengths[b]!;
        const want = Array.from(held.inputs.subarray(b * L, b * L + n));
        const got = Array.from(g.outputs.subarray(b * L + n + 1, b * L + 2 * n + 1));
        const marks = got.map((t, i) => (t === want[i] ? String(t) : `[${t}]`)).join(' ');
        console.log(`w ${want.join(' ')}\n  -> ${marks}`);
      }
      console.log(
        `greedy generation on ${count} held-out sequences: ${(100 * g.tokenAccuracy).toFixed(1)}% of tokens, ` +
          `${(100 * g.sequenceAccuracy).toFixed(1)}% of sequences exact; ${Math.round(g.tokensPerSec)} tokens/s ([x] marks an error)`,
      );
    }
  } finally {
    trainer.dispose();
    gpu.destroy();
  }
}

runMain(USAGE, main);
