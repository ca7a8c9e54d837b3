// Looking inside a trained Transformer: for one input, each layer's effective attention matrix
// per head (MATH.md section 11) and, for the adaptive connection, beta~ per layer and token.
//
// It runs the model's own parallel forward in inference through its `decode` hook at position 0:
// the hook hands over each layer's q, k, v exactly as attention sees them (after the qkv projection
// and the split into heads) and returns the same attention the parallel forward computes, so the
// forward's numbers are unchanged and nothing in transformer.ts is duplicated.
import type { Tensor } from '../engine/tensor.ts';
import { Tape, fromArray } from '../engine/tensor.ts';
import { attention, type AttentionSpec } from '../engine/ops/attention.ts';
import { ATTENTION_MATRIX_MAX_SEQ, attentionMatrix } from '../engine/ops/attentionMatrix.ts';
import type { ModelConfig } from './config.ts';
import type { Transformer } from './transformer.ts';

export { ATTENTION_MATRIX_MAX_SEQ };

/** The attention spec the model's layers use (the decoder is causal). */
export function modelAttentionSpec(cfg: ModelConfig): AttentionSpec {
  const a = cfg.attention;
  if (a.kind !== 'momentum') return { kind: a.kind, causal: true };
  return { kind: 'momentum', causal: true, beta: a.beta, gamma: a.gamma, ...(a.weights ? { weights: a.weights } : {}) };
}

/** One layer's tensors as its attention saw them (owned by the tape given to captureAttention). */
export interface CapturedLayer {
  q: Tensor; // [B, H, N, Dh]
  k: Tensor; // [B, H, N, Dh]
  v: Tensor; // [B, H, N, Dh]
  /** The attention output the layer went on with. */
  out: Tensor; // [B, H, N, Dh]
  /** The effective weights, out = weights v per head. */
  weights: Tensor; // [B, H, N, N]
}

/**
 * The model's inference forward on ids [B, N] with every layer's attention captured, plus the
 * forward's own results (its output and, for adaptive runs, beta~ [B * N] per layer from the second).
 */
export function captureAttention(model: Transformer, tape: Tape, ids: Tensor) {
  const n = ids.shape[1]!;
  if (n > ATTENTION_MATRIX_MAX_SEQ) {
    throw new Error(`sequence length ${n} is over the inspector's limit of ${ATTENTION_MATRIX_MAX_SEQ} tokens`);
  }
  const spec = modelAttentionSpec(model.cfg);
  const layers: CapturedLayer[] = [];
  const result = model.forward(tape, ids, {
    train: false,
    dropoutSeed: 0,
    decode: {
      positionOffset: 0,
      attend(_layer, q, k, v) {
        const out = attention(tape, spec, q, k, v);
        layers.push({ q, k, v, out, weights: attentionMatrix(tape, spec, q, k) });
        return out;
      },
    },
  });
  return { ...result, layers, spec };
}

export interface ModelInspection {
  layers: number;
  heads: number;
  seq: number;
  spec: AttentionSpec;
  /** Per layer and head the effective weights of query i on key j. */
  weights: Float32Array; // [L, H, N, N]
  /** Adaptive connection: beta~ per token for layers 2..L; null for the other connections. */
  betaTilde: Float32Array | null; // [L - 1, N]
}

/** The effective attention of every layer and head (and beta~) for one sequence ids [N]. */
export async function inspectModel(model: Transformer, ids: Uint32Array): Promise<ModelInspection> {
  const cfg = model.cfg;
  const n = ids.length;
  if (n < 1) throw new Error('inspectModel: the input has no tokens');
  if (n > ATTENTION_MATRIX_MAX_SEQ) {
    throw new Error(`sequence length ${n} is over the inspector's limit of ${ATTENTION_MATRIX_MAX_SEQ} tokens`);
  }
  if (n > cfg.maxSeq) throw new Error(`sequence length ${n} exceeds the model's maxSeq ${cfg.maxSeq}`);
  const tape = new Tape(model.gpu, { grad: false });
  try {
    const t = tape.own(fromArray(model.gpu, ids, [1, n], 'inspect.ids')); // u32 [1, N]
    const r = captureAttention(model, tape, t);
    const per = cfg.heads * n * n;
    const weights = new Float32Array(cfg.layers * per); // [L, H, N, N]
    const reads = await Promise.all(r.layers.map((l) => l.weights.read()));
    reads.forEach((w, l) => weights.set(w.subarray(0, per), l * per));
    let betaTilde: Float32Array | null = null;
    if (r.betaTilde.length > 0) {
      betaTilde = new Float32Array(r.betaTilde.length * n); // [L - 1, N]
      const bs = await Promise.all(r.betaTilde.map((b) => b.read()));
      bs.forEach((b, l) => betaTilde!.set(b.subarray(0, n), l * n));
    }
    return { layers: cfg.layers, heads: cfg.heads, seq: n, spec: r.spec, weights, betaTilde };
  } finally {
    tape.dispose();
  }
}
