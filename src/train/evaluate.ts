// Evaluation on a run's fixed held-out set: test loss and the task's metric (copy accuracy, bits
// per dimension for MNIST, or classification accuracy and the confusion matrix for ListOps and
// images), with dropout off and no gradients.
import type { Gpu } from '../engine/gpu.ts';
import { crossEntropy, dmolLoss } from '../engine/ops/loss.ts';
import { Tape, fromArray } from '../engine/tensor.ts';
import type { Transformer } from '../model/transformer.ts';
import { copyAccuracy } from '../tasks/copyTask.ts';
import { bitsPerDim } from '../tasks/mnist.ts';
import type { Batch, DataStream } from './data.ts';
import type { RunConfig } from './types.ts';

export interface EvalResult {
  testLoss: number;
  accuracy?: number;
  sequenceAccuracy?: number;
  bitsPerDim?: number;
  resolution?: number;
  /**
   * Classification: confusion[t][p] counts test sequences of true class t predicted as p (rows sum
   * to each class's count). Kept here, not in the metrics records.
   */
  confusion?: number[][];
  /** Classification: the predicted class of every test sequence, in the evaluation set's order. */
  predictions?: Uint32Array;
}

/** The fields of an evaluation that go into a metrics record (everything but the confusion matrix and predictions). */
export function evalMetrics(e: EvalResult): Omit<EvalResult, 'confusion' | 'predictions'> {
  const { confusion: _confusion, predictions: _predictions, ...rest } = e;
  return rest;
}

/**
 * Mean nll per sequence, accuracy, the confusion matrix and the predictions of an encoder
 * classifier on `batches` (the test set, or the training sample of trainEvalBatches).
 */
export async function evaluateClassifier(gpu: Gpu, model: Transformer, cfg: RunConfig, batches: Batch[]): Promise<EvalResult> {
  if (cfg.model.output.kind !== 'softmax') throw new Error('a classifier needs a softmax output');
  const classes = cfg.model.output.classes;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let nllSum = 0;
  let count = 0;
  let right = 0;
  const predicted: number[] = [];
  for (const batch of batches) {
    const tape = new Tape(gpu, { grad: false });
    try {
      const targets = tape.own(fromArray(gpu, batch.targets, [batch.batch], 'eval.labels')); // u32 [B]
      const input = { batch: batch.batch, seq: batch.seq, ids: batch.inputs, lengths: batch.lengths ?? null };
      const { logits } = model.classify(tape, input, { train: false, dropoutSeed: 0 }); // [B, classes]
      const ce = crossEntropy(tape, logits, targets, null);
      const [nll, am] = await Promise.all([ce.nll.read(), ce.argmax.readU32()]);
      for (let b = 0; b < batch.batch; b++) {
        const t = batch.targets[b]!;
        const p = am[b]!;
        nllSum += nll[b]!;
        confusion[t]![p]!++;
        predicted.push(p);
        if (p === t) right++;
      }
      count += batch.batch;
    } finally {
      tape.dispose();
    }
  }
  return { testLoss: nllSum / Math.max(count, 1), accuracy: right / Math.max(count, 1), confusion, predictions: Uint32Array.from(predicted) };
}

/** Test loss and the task's metric of `model` on `data`'s evaluation set, in batches of `cfg.batch`. */
export async function evaluateModel(gpu: Gpu, model: Transformer, cfg: RunConfig, data: DataStream): Promise<EvalResult> {
  if (cfg.model.encoder) return evaluateClassifier(gpu, model, cfg, data.evalBatches(cfg.batch));
  const copy = cfg.task.kind !== 'mnist'; // copy and MQAR: accuracy on the masked positions
  let nllSum = 0;
  let weight = 0;
  const argmax: Uint32Array[] = [];
  const batches = data.evalBatches(cfg.batch);
  for (const batch of batches) {
    const tape = new Tape(gpu, { grad: false });
    try {
      const ids = tape.own(fromArray(gpu, batch.inputs, [batch.batch, batch.seq], 'eval.inputs')); // u32 [B, N]
      const targets = tape.own(fromArray(gpu, batch.targets, [batch.batch * batch.seq], 'eval.targets')); // u32 [B*N]
      const { output } = model.forward(tape, ids, { train: false, dropoutSeed: 0 });
      if (cfg.model.output.kind === 'softmax') {
        const ce = crossEntropy(tape, output, targets, null);
        const [nll, am] = await Promise.all([ce.nll.read(), ce.argmax.readU32()]);
        argmax.push(am.slice(0, batch.batch * batch.seq));
        for (let r = 0; r < batch.batch * batch.seq; r++) {
          const w = batch.mask ? batch.mask[r]! : 1;
          if (w > 0) {
            nllSum += w * nll[r]!;
            weight += w;
          }
        }
      } else {
        const nll = await dmolLoss(tape, output, targets, null).nll.read();
        for (let r = 0; r < batch.batch * batch.seq; r++) nllSum += nll[r]!;
        weight += batch.batch * batch.seq;
      }
    } finally {
      tape.dispose();
    }
  }
  const testLoss = nllSum / Math.max(weight, 1);
  if (copy) {
    const all = concat(argmax, (n) => new Uint32Array(n));
    const targets = concat(batches.map((b) => b.targets), (n) => new Uint32Array(n));
    const mask = concat(batches.map((b) => b.mask!), (n) => new Float32Array(n));
    const rows = batches.reduce((s, b) => s + b.batch, 0);
    const acc = copyAccuracy(all, targets, mask, rows, batches[0]!.seq);
    return { testLoss, accuracy: acc.tokenAccuracy, sequenceAccuracy: acc.sequenceAccuracy };
  }
  const resolution = cfg.task.kind === 'mnist' ? cfg.task.resolution : undefined;
  return { testLoss, bitsPerDim: bitsPerDim(testLoss), ...(resolution ? { resolution } : {}) };
}

/** The parts one after another in one typed array of their kind. */
function concat<T extends Uint32Array | Float32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
