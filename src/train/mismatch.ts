// What the authors'-code weighting does to a trained model (MATH.md, "A known discrepancy in the
// authors' code"): their parallel path trains with key j weighted by (1 - beta^(N-j+1))/(1 - beta)
// for every query, while their sampler runs the recurrence (12). For a model, this measures
//   - the teacher-forced test loss of the parallel forward as trained (the config's weights) and
//     under the recurrence's weights, which is what recurrent sampling computes;
//   - on some held-out sequences fed token by token through the recurrent sampler (teacher forced,
//     src/model/sampler.ts, MomentumState's step (12)): the largest difference between the parallel
//     outputs (logits, or mixture parameters for MNIST) and the recurrent ones, for both parallel
//     forwards, and the loss of the recurrent outputs themselves.
// For a model trained with 'recurrence' the two losses are the same number and the recurrent outputs
// match both parallel forwards to float rounding.
import type { Gpu } from '../engine/gpu.ts';
import { crossEntropy, dmolLoss } from '../engine/ops/loss.ts';
import { Tape, fromArray } from '../engine/tensor.ts';
import { attentionWeightsOf, outputWidth, type AttentionWeights } from '../model/config.ts';
import { Sampler } from '../model/sampler.ts';
import type { Transformer } from '../model/transformer.ts';
import type { Batch, DataStream } from './data.ts';
import { evaluateModel, type EvalResult } from './evaluate.ts';
import type { RunConfig } from './types.ts';

export interface MismatchResult {
  /** The weighting the model trained with (its config's). */
  trained: AttentionWeights;
  /** Held-out evaluation of the parallel forward as trained. */
  parallel: EvalResult;
  /** Held-out evaluation of the parallel forward with the recurrence's weights: recurrent sampling's numbers. */
  recurrence: EvalResult;
  /** Held-out sequences that went through the recurrent sampler, and their length. */
  sequences: number;
  seq: number;
  /** Largest |parallel as trained - recurrent step| over those sequences' output rows. */
  maxDiffTrained: number;
  /** Largest |parallel under the recurrence - recurrent step|: float rounding only. */
  maxDiffRecurrence: number;
  /** Largest |output| of the recurrent steps, the scale of the differences. */
  maxOutput: number;
  /** Teacher-forced loss on those sequences: parallel as trained, parallel recurrence, recurrent steps. */
  checkedLoss: { trained: number; recurrence: number; recurrent: number };
}

/** Mean loss of output rows [B * N, out] against a batch's targets (its mask weighting, as evaluateModel). */
async function rowsLoss(gpu: Gpu, cfg: RunConfig, rows: Float32Array, b: Batch): Promise<number> {
  const tape = new Tape(gpu, { grad: false });
  try {
    const n = b.batch * b.seq;
    const out = tape.own(fromArray(gpu, rows, [n, outputWidth(cfg.model)], 'mismatch.rows')); // [B*N, out]
    const targets = tape.own(fromArray(gpu, b.targets, [n], 'mismatch.targets')); // u32 [B*N]
    const nll = await (cfg.model.output.kind === 'softmax' ? crossEntropy(tape, out, targets, null).nll : dmolLoss(tape, out, targets, null).nll).read();
    let sum = 0;
    let weight = 0;
    for (let r = 0; r < n; r++) {
      const w = b.mask ? b.mask[r]! : 1;
      sum += w * nll[r]!;
      weight += w;
    }
    return sum / Math.max(weight, 1);
  } finally {
    tape.dispose();
  }
}

/** The parallel forward's output rows [B * N, out] for a batch (inference). */
async function parallelRows(gpu: Gpu, model: Transformer, b: Batch): Promise<Float32Array> {
  const tape = new Tape(gpu, { grad: false });
  try {
    const ids = tape.own(fromArray(gpu, b.inputs, [b.batch, b.seq], 'mismatch.inputs')); // u32 [B, N]
    const rows = await model.forward(tape, ids, { train: false, dropoutSeed: 0 }).output.read();
    return rows.slice(0, b.batch * b.seq * outputWidth(model.cfg));
  } finally {
    tape.dispose();
  }
}

/** The same rows from the recurrent sampler, one token per step (teacher forced). */
async function recurrentRows(model: Transformer, b: Batch): Promise<Float32Array> {
  const width = outputWidth(model.cfg);
  const rows = new Float32Array(b.batch * b.seq * width); // [B, N, out]
  const sampler = new Sampler(model, b.batch);
  try {
    const column = new Uint32Array(b.batch); // [B]
    for (let t = 0; t < b.seq; t++) {
      for (let r = 0; r < b.batch; r++) column[r] = b.inputs[r * b.seq + t]!;
      const out = await sampler.step(column).read(); // [B, out]
      for (let r = 0; r < b.batch; r++) rows.set(out.subarray(r * width, (r + 1) * width), (r * b.seq + t) * width);
    }
  } finally {
    sampler.dispose();
  }
  return rows;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * The mismatch of a momentum-attention model between its parallel forward and recurrent sampling;
 * `sequences` held-out sequences (at most one evaluation batch, default 8) go through the sampler.
 * The model's weighting is restored before it returns.
 */
export async function measureMismatch(
  gpu: Gpu,
  model: Transformer,
  cfg: RunConfig,
  data: DataStream,
  opts: { sequences?: number } = {},
): Promise<MismatchResult> {
  if (model.cfg.attention.kind !== 'momentum') {
    throw new Error(`the mismatch is a property of momentum attention; this model uses ${model.cfg.attention.kind} attention`);
  }
  const sequences = opts.sequences ?? 8;
  if (!Number.isInteger(sequences) || sequences < 1) throw new Error(`sequences must be a positive integer; got ${String(sequences)}`);
  const trained = attentionWeightsOf(model.cfg.attention);
  const first = data.evalBatches(Math.min(sequences, cfg.batch))[0];
  if (!first) throw new Error('the run has no held-out sequences to measure on');
  const width = outputWidth(model.cfg);
  const n = first.batch * first.seq * width;
  try {
    const parallel = await evaluateModel(gpu, model, cfg, data);
    const trainedRows = await parallelRows(gpu, model, first);
    model.setAttentionWeights('recurrence');
    const recurrence = await evaluateModel(gpu, model, cfg, data);
    const recurrenceRows = await parallelRows(gpu, model, first);
    const stepRows = await recurrentRows(model, first);
    let maxOutput = 0;
    for (let i = 0; i < n; i++) maxOutput = Math.max(maxOutput, Math.abs(stepRows[i]!));
    return {
      trained,
      parallel,
      recurrence,
      sequences: first.batch,
      seq: first.seq,
      maxDiffTrained: maxAbsDiff(trainedRows, stepRows),
      maxDiffRecurrence: maxAbsDiff(recurrenceRows, stepRows),
      maxOutput,
      checkedLoss: {
        trained: await rowsLoss(gpu, cfg, trainedRows, first),
        recurrence: await rowsLoss(gpu, cfg, recurrenceRows, first),
        recurrent: await rowsLoss(gpu, cfg, stepRows, first),
      },
    };
  } finally {
    model.setAttentionWeights(trained);
  }
}
