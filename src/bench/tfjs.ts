// The peer: TensorFlow.js on its WebGPU backend, in the same page on the same adapter. Its matmul
// rate on our training step's shapes, and one training step of BENCH_MODEL written with tf ops
// (the same architecture, batch and optimizer as src/bench/trainStep.ts). Browser only.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import { SINUSOID_BASE } from '../engine/host/embedding.ts';
import { modelWidth } from '../model/config.ts';
import { benchData } from './attention.ts';
import { BENCH_BATCH, BENCH_LR, BENCH_MODEL, BENCH_SEQ, benchBatch, type MatmulShape } from './model.ts';
import type { StepTiming } from './trainStep.ts';

/** Selects the WebGPU backend; throws where TF.js cannot open it. Returns what TF.js reports. */
export async function openTfjs(): Promise<string> {
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error('TensorFlow.js could not initialise its WebGPU backend');
  await tf.ready();
  return `@tensorflow/tfjs-core ${tf.version_core}, backend ${tf.getBackend()}`;
}

/** GFLOP/s of `iterations` products after one warm-up (which compiles the program), like matmulGflops. */
export async function tfjsMatmulGflops(s: MatmulShape, iterations: number): Promise<number> {
  const a = tf.tensor2d(benchData(s.m * s.k, 7), s.transA ? [s.k, s.m] : [s.m, s.k]); // [M, K] or [K, M]
  const b = tf.tensor2d(benchData(s.k * s.n, 8), s.transB ? [s.n, s.k] : [s.k, s.n]); // [K, N] or [N, K]
  try {
    const call = () => tf.matMul(a, b, s.transA, s.transB);
    const warm = call();
    await warm.data();
    warm.dispose();
    const t0 = performance.now();
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < iterations; i++) outs.push(call());
    // Waiting for the last product waits for all: the backend runs its queue in order.
    await outs[outs.length - 1]!.data();
    const ms = (performance.now() - t0) / iterations;
    for (const o of outs) o.dispose();
    return (2 * s.m * s.n * s.k) / (ms * 1e6);
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** The sinusoidal code of src/engine/cpu/embedding.ts for positions 0..N-1, `dim` features. */
function sinusoidalTable(seq: number, dim: number): Float32Array {
  const out = new Float32Array(seq * dim);
  for (let pos = 0; pos < seq; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(SINUSOID_BASE, (2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

interface TfLayer {
  qkv: tf.Variable; // [d, 3d]
  qkvBias: tf.Variable; // [3d]
  proj: tf.Variable; // [d, d]
  projBias: tf.Variable; // [d]
  norm1Gain: tf.Variable; // [d]
  norm1Bias: tf.Variable; // [d]
  ff1: tf.Variable; // [d, ffn]
  ff1Bias: tf.Variable; // [ffn]
  ff2: tf.Variable; // [ffn, d]
  ff2Bias: tf.Variable; // [d]
  norm2Gain: tf.Variable; // [d]
  norm2Bias: tf.Variable; // [d]
}

const LN_EPS = 1e-5;

/**
 * BENCH_MODEL in tf ops: token embedding of d/2 beside a sinusoidal code of d/2, post-norm layers
 * of causal linear attention (phi = elu + 1) and a ReLU feed-forward, a linear head, softmax
 * cross-entropy. TF.js has no causal prefix-sum op for (phi(k) v^T), so causal linear attention
 * is the masked N x N form: A = tril(phi(q) phi(k)^T), out = A v / rowsum(A).
 */
class TfTransformer {
  readonly vars: tf.Variable[] = [];
  private token: tf.Variable; // [V, d/2]
  private layers: TfLayer[] = [];
  private head: tf.Variable; // [d, classes]
  private headBias: tf.Variable; // [classes]
  private position: tf.Tensor; // [B, N, d/2]
  private mask: tf.Tensor; // [N, N], 1 on and below the diagonal

  constructor(seed: number) {
    const cfg = BENCH_MODEL;
    const d = modelWidth(cfg);
    const classes = cfg.output.kind === 'softmax' ? cfg.output.classes : 3 * cfg.output.mixtures;
    let s = seed;
    const uniform = (shape: number[], bound: number) => this.variable(tf.randomUniform(shape, -bound, bound, 'float32', s++));
    const constant = (shape: number[], value: number) => this.variable(tf.fill(shape, value));
    this.token = this.variable(tf.randomNormal([cfg.vocab, d / 2], 0, 1, 'float32', s++));
    for (let l = 0; l < cfg.layers; l++) {
      const lin = (fanIn: number, fanOut: number) => [uniform([fanIn, fanOut], 1 / Math.sqrt(fanIn)), uniform([fanOut], 1 / Math.sqrt(fanIn))] as const;
      const [qkv, qkvBias] = lin(d, 3 * d);
      const [proj, projBias] = lin(d, d);
      const [ff1, ff1Bias] = lin(d, cfg.ffn);
      const [ff2, ff2Bias] = lin(cfg.ffn, d);
      this.layers.push({
        qkv,
        qkvBias,
        proj,
        projBias,
        norm1Gain: constant([d], 1),
        norm1Bias: constant([d], 0),
        ff1,
        ff1Bias,
        ff2,
        ff2Bias,
        norm2Gain: constant([d], 1),
        norm2Bias: constant([d], 0),
      });
    }
    [this.head, this.headBias] = [uniform([d, classes], 1 / Math.sqrt(d)), uniform([classes], 1 / Math.sqrt(d))];
    const code = tf.tensor2d(sinusoidalTable(BENCH_SEQ, d - d / 2), [BENCH_SEQ, d - d / 2]); // [N, d/2]
    this.position = tf.tile(tf.expandDims(code, 0), [BENCH_BATCH, 1, 1]); // [B, N, d/2]
    code.dispose();
    this.mask = tf.linalg.bandPart(tf.ones([BENCH_SEQ, BENCH_SEQ]), -1, 0); // [N, N]
  }

  private variable(init: tf.Tensor): tf.Variable {
    const v = tf.variable(init);
    init.dispose();
    this.vars.push(v);
    return v;
  }

  private layerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS))), gain), bias);
  }

  /** ids int32 [B, N], targets one-hot [B * N, classes] -> the mean cross-entropy (a scalar). */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    const cfg = BENCH_MODEL;
    const [B, N] = ids.shape;
    const d = modelWidth(cfg);
    const H = cfg.heads;
    const Dh = cfg.headDim;
    const tokens = tf.gather(this.token, ids); // [B, N, d/2]
    let x = tf.reshape(tf.concat([tokens, this.position], -1), [B * N, d]) as tf.Tensor2D; // [B*N, d]
    for (const L of this.layers) {
      const qkv = tf.add(tf.matMul(x, L.qkv), L.qkvBias); // [B*N, 3d]
      // [B, N, 3, H, Dh] -> [3, B, H, N, Dh], as splitHeads lays out q, k, v.
      const heads = tf.transpose(tf.reshape(qkv, [B, N, 3, H, Dh]), [2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(heads, 0) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]; // each [B, H, N, Dh]
      const fq = tf.add(tf.elu(q), 1);
      const fk = tf.add(tf.elu(k), 1);
      const a = tf.mul(tf.matMul(fq, fk, false, true), this.mask); // [B, H, N, N]
      const att = tf.div(tf.matMul(a, v), tf.sum(a, -1, true)); // [B, H, N, Dh]
      const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * N, d]) as tf.Tensor2D; // [B*N, d]
      const g = tf.add(tf.matMul(merged, L.proj), L.projBias); // [B*N, d]
      const h = this.layerNorm(tf.add(x, g), L.norm1Gain, L.norm1Bias);
      const hidden = tf.relu(tf.add(tf.matMul(h, L.ff1), L.ff1Bias)); // [B*N, ffn]
      const f = tf.add(tf.matMul(hidden, L.ff2), L.ff2Bias); // [B*N, d]
      x = this.layerNorm(tf.add(h, f), L.norm2Gain, L.norm2Bias);
    }
    const logits = tf.add(tf.matMul(x, this.head), this.headBias); // [B*N, classes]
    const nll = tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1)); // [B*N]
    return tf.mean(nll);
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
    this.position.dispose();
    this.mask.dispose();
  }
}

/** Mean milliseconds of one TF.js training step (forward, backward, Adam), timed like oursTrainStep. */
export async function tfjsTrainStep(reps: number, warmup = 2): Promise<StepTiming> {
  const cfg = BENCH_MODEL;
  const classes = cfg.output.kind === 'softmax' ? cfg.output.classes : 3 * cfg.output.mixtures;
  const { ids, targets } = benchBatch();
  const model = new TfTransformer(1);
  const idT = tf.tensor2d(Int32Array.from(ids), [BENCH_BATCH, BENCH_SEQ], 'int32'); // [B, N]
  const targetIdx = tf.tensor1d(Int32Array.from(targets), 'int32'); // [B*N]
  const oneHot = tf.oneHot(targetIdx, classes) as tf.Tensor2D; // [B*N, classes]
  const opt = tf.train.adam(BENCH_LR, 0.9, 0.999, 1e-8);
  const step = () => opt.minimize(() => model.loss(idT, oneHot), true, model.vars)!;
  try {
    for (let i = 0; i < warmup; i++) {
      const l = step();
      await l.data();
      l.dispose();
    }
    const t0 = performance.now();
    const losses: tf.Scalar[] = [];
    for (let i = 0; i < reps; i++) losses.push(step());
    await losses[losses.length - 1]!.data();
    const ms = (performance.now() - t0) / reps;
    const values = await Promise.all(losses.map((l) => l.data()));
    for (const l of losses) l.dispose();
    return { ms, loss: values.reduce((s, v) => s + v[0]!, 0) / reps };
  } finally {
    opt.dispose();
    model.dispose();
    for (const t of [idT, targetIdx, oneHot]) t.dispose();
  }
}
