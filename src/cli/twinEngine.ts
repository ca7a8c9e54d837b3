// The engine's side of the twin's cross-check (python/momentum_twin/check.py): for a checkpoint
// and the next batch of its data stream, the loss and every parameter gradient (dropout off), each
// layer's attention inputs and outputs (the causal decoder; an encoder checkpoint gives the
// classifier's loss on the batch's padded sequences and their lengths instead), and non-causal
// attention on random inputs for each kind, without and with key padding, with its input
// gradients; with dropout in the model, a second pass with dropout on and a fixed dropout seed.
// Everything goes into one safetensors file.
import type { Gpu } from '../engine/gpu.ts';
import { attention, type AttentionSpec } from '../engine/ops/attention.ts';
import { crossEntropy, dmolLoss } from '../engine/ops/loss.ts';
import { Tape, fromArray, variable, type Tensor } from '../engine/tensor.ts';
import { Random } from '../util/random.ts';
import { writeSafetensors, type SafeTensor } from '../train/safetensors.ts';
import { Trainer, type TaskData } from '../train/trainer.ts';

export const ENGINE_FORMAT = 'momentum-twin/engine-gradients@1';
/** The dropout seed of the dropout-on pass (any fixed value: both sides use it). */
export const CHECK_DROPOUT_SEED = 20221;
/** Non-causal attention inputs: odd sizes (not multiples of any tile or chunk). */
const NONCAUSAL_DIMS = { batch: 2, heads: 2, seq: 37, dim: 8 };
/** Key-padding lengths of the padded non-causal check: one full row, one padded. */
const NONCAUSAL_LENGTHS = [37, 20];

function f32(name: string, shape: readonly number[], data: Float32Array): SafeTensor {
  return { name, dtype: 'F32', shape: [...shape], data };
}

async function modelPass(trainer: Trainer, batch: ReturnType<Trainer['data']['next']>, train: boolean, prefix: string): Promise<SafeTensor[]> {
  const gpu = trainer.gpu;
  const model = trainer.model;
  const cfg = model.cfg;
  const a = cfg.attention;
  const spec: AttentionSpec = a.kind === 'momentum' ? { kind: 'momentum', causal: true, beta: a.beta, gamma: a.gamma } : { kind: a.kind, causal: true };
  const tape = new Tape(gpu);
  const out: SafeTensor[] = [];
  const dropout = train ? { train: true, dropoutSeed: CHECK_DROPOUT_SEED } : { train: false, dropoutSeed: 0 };
  try {
    if (cfg.encoder) {
      const labels = tape.own(fromArray(gpu, batch.targets, [batch.batch], 'check.labels')); // u32 [B]
      const input = { batch: batch.batch, seq: batch.seq, ids: batch.inputs, lengths: batch.lengths ?? null };
      const loss = crossEntropy(tape, model.classify(tape, input, dropout).logits, labels, null).loss;
      tape.backward(loss);
      out.push(f32(`${prefix}loss`, [1], await loss.read()));
      for (const [name, p] of model.params) {
        if (!p.grad) throw new Error(`the engine gave no gradient for '${name}'`);
        out.push(f32(`${prefix}grad.${name}`, p.shape, await p.grad.read()));
      }
      return out;
    }
    const rows = batch.batch * batch.seq;
    const ids = tape.own(fromArray(gpu, batch.inputs, [batch.batch, batch.seq], 'check.inputs')); // u32 [B, N]
    const targets = tape.own(fromArray(gpu, batch.targets, [rows], 'check.targets')); // u32 [B*N]
    const mask = batch.mask ? tape.own(fromArray(gpu, batch.mask, [rows], 'check.mask')) : null; // [B*N]
    const seen: { q: Tensor; k: Tensor; v: Tensor; o: Tensor }[] = [];
    // The decode hook is the parallel forward's own attention, recorded on the same tape, so its
    // inputs and outputs can be read; it needs train: false, so the dropout pass goes without it.
    const decode = {
      positionOffset: 0,
      attend: (_l: number, q: Tensor, k: Tensor, v: Tensor) => {
        const o = attention(tape, spec, q, k, v);
        seen.push({ q, k, v, o });
        return o;
      },
    };
    const { output } = model.forward(tape, ids, train ? dropout : { ...dropout, decode });
    const loss = cfg.output.kind === 'softmax' ? crossEntropy(tape, output, targets, mask).loss : dmolLoss(tape, output, targets, mask).loss;
    tape.backward(loss);
    out.push(f32(`${prefix}loss`, [1], await loss.read()));
    for (const [name, p] of model.params) {
      if (!p.grad) throw new Error(`the engine gave no gradient for '${name}'`);
      out.push(f32(`${prefix}grad.${name}`, p.shape, await p.grad.read()));
    }
    for (const [l, s] of seen.entries()) {
      for (const [part, t] of [['q', s.q], ['k', s.k], ['v', s.v], ['out', s.o]] as const) out.push(f32(`attn.${l}.${part}`, t.shape, await t.read()));
    }
  } finally {
    tape.dispose(model.parameterList);
  }
  return out;
}

async function nonCausal(gpu: Gpu, kind: 'softmax' | 'linear' | 'momentum', beta: number, gamma: number, padded: boolean): Promise<SafeTensor[]> {
  const { batch, heads, seq, dim } = NONCAUSAL_DIMS;
  const shape = [batch, heads, seq, dim];
  const n = batch * heads * seq * dim;
  const rng = new Random(kind.length * 7919 + 13);
  const rand = () => Float32Array.from({ length: n }, () => rng.normal() * 0.7);
  const [qd, kd, vd, dd] = [rand(), rand(), rand(), rand()];
  const tape = new Tape(gpu);
  try {
    const q = tape.own(variable(gpu, qd, shape, 'nc.q'));
    const k = tape.own(variable(gpu, kd, shape, 'nc.k'));
    const v = tape.own(variable(gpu, vd, shape, 'nc.v'));
    const spec: AttentionSpec = kind === 'momentum' ? { kind, causal: false, beta, gamma } : { kind, causal: false };
    const lengths = Uint32Array.from(NONCAUSAL_LENGTHS); // u32 [B]
    const o = attention(tape, spec, q, k, v, padded ? tape.own(fromArray(gpu, lengths, [batch], 'nc.lengths')) : undefined);
    tape.backward(o, tape.own(fromArray(gpu, dd, shape, 'nc.dout')));
    const p = `noncausal${padded ? '-padded' : ''}.${kind}.`;
    return [
      ...(padded ? [{ name: `${p}lengths`, dtype: 'U32' as const, shape: [batch], data: lengths }] : []),
      f32(`${p}q`, shape, qd), f32(`${p}k`, shape, kd), f32(`${p}v`, shape, vd), f32(`${p}dout`, shape, dd),
      f32(`${p}out`, shape, await o.read()),
      f32(`${p}dq`, shape, await q.grad!.read()), f32(`${p}dk`, shape, await k.grad!.read()), f32(`${p}dv`, shape, await v.grad!.read()),
    ];
  } finally {
    tape.dispose();
  }
}

/** The engine's loss, gradients and attention values for a checkpoint's next batch, as safetensors bytes. */
export async function engineGradients(gpu: Gpu, checkpoint: Uint8Array, data: TaskData): Promise<Uint8Array> {
  const trainer = Trainer.fromCheckpoint(gpu, checkpoint, data);
  try {
    const cfg = trainer.config;
    const batch = trainer.data.next(cfg.batch);
    const tensors: SafeTensor[] = [
      { name: 'batch.inputs', dtype: 'U32', shape: [batch.batch, batch.seq], data: batch.inputs },
      { name: 'batch.targets', dtype: 'U32', shape: [batch.targets.length], data: batch.targets },
    ];
    if (batch.mask) tensors.push(f32('batch.mask', [batch.batch * batch.seq], batch.mask));
    if (batch.lengths) tensors.push({ name: 'batch.lengths', dtype: 'U32', shape: [batch.batch], data: batch.lengths });
    tensors.push(...(await modelPass(trainer, batch, false, '')));
    if (cfg.model.dropout > 0) tensors.push(...(await modelPass(trainer, batch, true, 'dropout.')));
    const a = cfg.model.attention;
    const [beta, gamma] = a.kind === 'momentum' ? [a.beta, a.gamma] : [0.6, 0.9];
    for (const kind of ['softmax', 'linear', 'momentum'] as const) {
      for (const padded of [false, true]) tensors.push(...(await nonCausal(gpu, kind, beta, gamma, padded)));
    }
    return writeSafetensors(tensors, {
      format: ENGINE_FORMAT,
      dropoutSeed: JSON.stringify(cfg.model.dropout > 0 ? CHECK_DROPOUT_SEED : null),
      noncausal: JSON.stringify({ beta, gamma }),
      device: `${gpu.description} (${gpu.backend})`,
    });
  } finally {
    trainer.dispose();
  }
}
