// The worker's side of the inspector: a run's held-out example through the model with every
// layer's attention captured (src/model/inspect.ts), packed as plain data for the page.
import { ATTENTION_MATRIX_MAX_SEQ, inspectModel } from '../model/inspect.ts';
import type { Trainer } from '../train/trainer.ts';
import { copyTargets, type Inspection } from './inspection.ts';

/** The most matrix bytes one inspection sends the page (all layers and heads together). */
export const INSPECTION_MAX_BYTES = 256 * 2 ** 20;

export async function inspectRun(runId: string, trainer: Trainer, example: number): Promise<Inspection> {
  const cfg = trainer.config;
  // inspectModel runs the causal decoder on one full-length row; an encoder's attention is
  // non-causal over each row's own length (ListOps rows are padded), so it would be drawn wrong.
  if (cfg.model.encoder) {
    throw new Error(`the inspector draws decoder runs (copy task, MQAR, MNIST); ${cfg.task.kind} trains a non-causal encoder, which it does not inspect yet`);
  }
  const seq = trainer.data.seq;
  if (seq > ATTENTION_MATRIX_MAX_SEQ) {
    throw new Error(`this run's sequences have ${seq} tokens, over the inspector's limit of ${ATTENTION_MATRIX_MAX_SEQ}`);
  }
  const bytes = cfg.model.layers * cfg.model.heads * seq * seq * 4;
  if (bytes > INSPECTION_MAX_BYTES) {
    throw new Error(
      `the matrices of ${cfg.model.layers} layers x ${cfg.model.heads} heads x ${seq}^2 need ${(bytes / 2 ** 20).toFixed(0)} MiB, ` +
        `over the inspector's ${INSPECTION_MAX_BYTES / 2 ** 20} MiB per request`,
    );
  }
  const batch = cfg.batch;
  const held = trainer.data.evalBatches(batch);
  const count = held.reduce((s, b) => s + b.batch, 0);
  if (!Number.isInteger(example) || example < 0 || example >= count) {
    throw new Error(`held-out example ${String(example)} is out of range: run ${runId} has ${count} (0 to ${count - 1})`);
  }
  const b = held[Math.floor(example / batch)]!;
  const row = example % batch;
  const tokens = b.inputs.slice(row * seq, (row + 1) * seq); // [N]
  const ins = await inspectModel(trainer.model, tokens);
  const a = ins.spec;
  return {
    runId,
    step: trainer.step,
    example,
    examples: count,
    task: cfg.task.kind,
    attention:
      a.kind === 'momentum'
        ? { kind: 'momentum', beta: a.beta!, gamma: a.gamma!, ...(a.weights === 'authors-code' ? { weights: a.weights } : {}) }
        : { kind: a.kind },
    layers: ins.layers,
    heads: ins.heads,
    seq,
    weights: ins.weights,
    betaTilde: ins.betaTilde,
    tokens,
    imageSide: cfg.task.kind === 'mnist' ? cfg.task.resolution : 0,
    target: cfg.task.kind === 'copy' && b.mask ? copyTargets(b.mask.subarray(row * seq, (row + 1) * seq)) : null,
  };
}
