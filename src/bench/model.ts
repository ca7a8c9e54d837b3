// The small linear-attention transformer both training-step benchmarks train (ours on the engine,
// the peer with TensorFlow.js ops), its batch, and the matmul shapes one training step runs.
import { defaultModelConfig, modelWidth, type ModelConfig } from '../model/config.ts';

export const BENCH_BATCH = 8;
export const BENCH_SEQ = 128;
export const BENCH_LR = 1e-3;

/** 2 layers, 4 heads x 16, ffn 128, seq 128, vocab 11, post-norm, ReLU, causal linear attention (elu + 1). */
export const BENCH_MODEL: ModelConfig = {
  ...defaultModelConfig,
  vocab: 11,
  maxSeq: BENCH_SEQ,
  layers: 2,
  heads: 4,
  headDim: 16,
  ffn: 128,
  activation: 'relu',
  dropout: 0,
  norm: 'post',
  position: 'sinusoidal',
  positionCombine: 'concat',
  attention: { kind: 'linear' },
  connection: { kind: 'residual' },
  output: { kind: 'softmax', classes: 11 },
};

export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  role: string;
}

/**
 * The distinct products of one training step of BENCH_MODEL on a [B, N] batch (R = B N rows):
 * each linear's forward Y = X W, its input gradient dX = dY W^T and its weight gradient
 * dW = X^T dY.
 */
export function trainStepMatmuls(cfg: ModelConfig = BENCH_MODEL, batch = BENCH_BATCH, seq = BENCH_SEQ): MatmulShape[] {
  const r = batch * seq;
  const d = modelWidth(cfg);
  const classes = cfg.output.kind === 'softmax' ? cfg.output.classes : 3 * cfg.output.mixtures;
  const linears: [string, number, number][] = [
    ['qkv', d, 3 * d],
    ['ffn.1', d, cfg.ffn],
    ['ffn.2', cfg.ffn, d],
    ['proj', d, d],
    ['head', d, classes],
  ];
  const out: MatmulShape[] = [];
  for (const [name, fanIn, fanOut] of linears) {
    out.push({ m: r, n: fanOut, k: fanIn, transA: false, transB: false, role: `${name} forward` });
    if (name === 'qkv' || name === 'ffn.2') {
      out.push({ m: r, n: fanIn, k: fanOut, transA: false, transB: true, role: `${name} dX` });
      out.push({ m: fanIn, n: fanOut, k: r, transA: true, transB: false, role: `${name} dW` });
    }
  }
  return out;
}

export function shapeName(s: MatmulShape): string {
  return `${s.m}x${s.n}x${s.k}`;
}

/** A fixed batch: token ids and next-token targets, the same for both implementations. */
export function benchBatch(cfg: ModelConfig = BENCH_MODEL, batch = BENCH_BATCH, seq = BENCH_SEQ): { ids: Uint32Array; targets: Uint32Array } {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % cfg.vocab;
  };
  const stream = Uint32Array.from({ length: batch * (seq + 1) }, next);
  const ids = new Uint32Array(batch * seq);
  const targets = new Uint32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      ids[b * seq + t] = stream[b * (seq + 1) + t]!;
      targets[b * seq + t] = stream[b * (seq + 1) + t + 1]!;
    }
  }
  return { ids, targets };
}

/**
 * Flops of one training step of `cfg` on a [batch, seq] batch, as counted for throughput: every
 * linear's forward, input gradient and weight gradient (2 R fanIn fanOut each), and the causal
 * attention's forward (linear / momentum: 4 D Dv per token and head, the state update and its
 * read; softmax: 2 N^2 D per head, the causal half of QK^T and PV) with a backward of twice that.
 * Element-wise work, norms and the optimizer are not counted.
 */
export function trainStepFlops(cfg: ModelConfig = BENCH_MODEL, batch = BENCH_BATCH, seq = BENCH_SEQ): { matmul: number; attention: number; total: number } {
  const r = batch * seq;
  const d = modelWidth(cfg);
  const classes = cfg.output.kind === 'softmax' ? cfg.output.classes : 3 * cfg.output.mixtures;
  const perLayer = d * 3 * d + d * cfg.ffn + cfg.ffn * d + d * d;
  const matmul = 3 * 2 * r * (cfg.layers * perLayer + d * classes);
  const dh = cfg.headDim;
  const forward = cfg.attention.kind === 'softmax' ? 2 * batch * cfg.heads * seq * seq * dh : 4 * r * cfg.heads * dh * dh;
  const attention = cfg.layers * 3 * forward;
  return { matmul, attention, total: matmul + attention };
}
