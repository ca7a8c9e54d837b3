// One training step of the ListOps encoder (the `paper` preset's model: 2 layers, 2 heads x 32,
// feed-forward 128, mean pooling, dropout as in training) at a long input, for each attention
// kind: where O(N) attention shows against softmax's O(N^2). Forward, backward and AdamW on a
// right-padded batch (row b holds seq - b tokens, so the key-padding path is the one timed), as
// the trainer runs it. Shared by `npm run bench` (section 'encoder').
import type { Gpu } from '../engine/gpu.ts';
import type { AttentionKind } from '../engine/ops/attention.ts';
import { crossEntropy } from '../engine/ops/loss.ts';
import { Optimizer } from '../engine/optim.ts';
import { Tape, fromArray } from '../engine/tensor.ts';
import { Transformer, type EncoderInput } from '../model/transformer.ts';
import { LISTOPS_CLASSES, LISTOPS_VOCAB } from '../tasks/listops.ts';
import { makeRunConfig } from '../train/presets.ts';
import { Random } from '../util/random.ts';
import { median } from '../util/stats.ts';
import type { EncoderStepRow } from './report.ts';

export interface EncoderBenchOptions {
  /** Tokens per sequence (LRA ListOps: up to 2000). */
  seq: number;
  batch: number;
  reps: number;
}

/** The ListOps `paper` model of this kind, its maxSeq the benchmark's length. */
export function encoderBenchModel(kind: AttentionKind, seq: number) {
  const cfg = makeRunConfig({ task: 'listops', variant: kind, preset: 'paper' }).model;
  return { ...cfg, maxSeq: Math.max(cfg.maxSeq, seq) };
}

/** Median milliseconds of one training step and the pool's peak bytes over the measured steps. */
export async function timeEncoderStep(gpu: Gpu, kind: AttentionKind, o: EncoderBenchOptions): Promise<EncoderStepRow> {
  const { seq, batch, reps } = o;
  if (!(Number.isInteger(seq) && seq >= batch && Number.isInteger(batch) && batch >= 1)) {
    throw new Error(`encoder bench: seq (${seq}) and batch (${batch}) must be integers with 1 <= batch <= seq`);
  }
  const model = new Transformer(gpu, encoderBenchModel(kind, seq), 1);
  const opt = new Optimizer(gpu, model.parameterList, { kind: 'adamw', lr: 1e-4, weightDecay: 0.01, clipNorm: 1 });
  const r = new Random(7);
  const input: EncoderInput = {
    batch,
    seq,
    ids: Uint32Array.from({ length: batch * seq }, () => r.int(1, LISTOPS_VOCAB - 1)),
    lengths: Uint32Array.from({ length: batch }, (_, b) => seq - b), // [B]
  };
  const labels = fromArray(gpu, Uint32Array.from({ length: batch }, () => r.int(0, LISTOPS_CLASSES - 1)), [batch], 'bench.labels'); // u32 [B]
  let step = 0;
  const once = async () => {
    const tape = new Tape(gpu);
    const { logits } = model.classify(tape, input, { train: true, dropoutSeed: step++ });
    tape.backward(crossEntropy(tape, logits, labels, null).loss);
    opt.step();
    tape.dispose(model.parameterList);
    gpu.flush();
    await gpu.sync();
  };
  try {
    await once(); // builds every pipeline
    gpu.pool.resetPeak();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await once();
      times.push(performance.now() - t0);
    }
    return { kind, seq, batch, ms: median(times), peakBytes: gpu.pool.peakBytes };
  } finally {
    labels.dispose();
    opt.dispose();
    model.destroy();
    gpu.pool.trim();
  }
}

export async function encoderStepBench(gpu: Gpu, o: EncoderBenchOptions, log: (line: string) => void = () => {}): Promise<EncoderStepRow[]> {
  const rows: EncoderStepRow[] = [];
  for (const kind of ['softmax', 'linear', 'momentum'] as const) {
    const row = await timeEncoderStep(gpu, kind, o);
    rows.push(row);
    log(`  ${kind} N=${o.seq}: ${row.ms.toFixed(1)} ms, peak ${(row.peakBytes / 2 ** 20).toFixed(2)} MiB`);
  }
  return rows;
}
