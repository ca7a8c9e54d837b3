// GPU primitives for multi-head softmax attention (shaders/softmax_attention/), MATH.md eq. (1).
// The family lives in ./softmax/: plan.ts (config -> checked plan, tile arithmetic), encode.ts
// (the forward and backward dispatches), shaders.ts (the WGSL files of each kernel). This file is
// the primitives' entry: it checks the tensors against the plan, then encodes; ops
// (ops/softmaxAttention.ts) check and plan once, then call the encoders themselves. The KV cache
// for sampling is here too.
import { attentionShapes, checkDistinct, checkHeadGrid, checkLengths, checkTensor } from '../check.ts';
import type { Gpu } from '../gpu.ts';
import { empty, type Tensor } from '../tensor.ts';
import { encodeSoftmaxBackward, encodeSoftmaxForward } from './softmax/encode.ts';
import {
  ROW_WORKGROUP,
  checkSoftmaxAttentionDims,
  planSoftmaxAttention,
  type SoftmaxAttentionDims,
  type SoftmaxAttentionOptions,
  type SoftmaxAttentionPlan,
} from './softmax/plan.ts';
import { SOFTMAX_KERNELS } from './softmax/shaders.ts';

export {
  SOFTMAX_ATTENTION_MAX_DIM,
  checkSoftmaxAttentionDims,
  chooseTiles,
  planSoftmaxAttention,
  tileStorageBytes,
  type SoftmaxAttentionDims,
  type SoftmaxAttentionOptions,
  type SoftmaxAttentionPlan,
  type SoftmaxAttentionTiles,
  type SoftmaxAttentionVariant,
} from './softmax/plan.ts';
export { encodeSoftmaxBackward, encodeSoftmaxForward } from './softmax/encode.ts';

export interface SoftmaxAttentionInputs extends SoftmaxAttentionOptions {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  dims: SoftmaxAttentionDims;
  causal: boolean;
  /**
   * Key-padding lengths, u32 [B]: example b's valid tokens are 0..lengths[b]-1 (values 1..N, from
   * the host that padded the batch). Keys past them get no weight; query rows past them are 0 and
   * pass no gradient, so each example's result equals running it alone at its own length.
   */
  lengths?: Tensor | null;
}

export interface SoftmaxAttentionForwardArgs extends SoftmaxAttentionInputs {
  out: Tensor; // [B, H, N, Dv]
  /** Saved for the backward: logsumexp_j of the row's scaled scores (0 on padding rows). */
  lse: Tensor; // [B, H, N]
}

export interface SoftmaxAttentionBackwardArgs extends SoftmaxAttentionInputs {
  out: Tensor; // [B, H, N, Dv], the forward's
  lse: Tensor; // [B, H, N], the forward's
  dOut: Tensor; // [B, H, N, Dv]
  dq: Tensor; // [B, H, N, D]
  dk: Tensor; // [B, H, N, D]
  dv: Tensor; // [B, H, N, Dv]
}

/** Checks dims, config and the inputs q, k, v (and lengths); returns the plan. Ops call it before allocating. */
export function checkSoftmaxAttentionInputs(what: string, gpu: Gpu, args: SoftmaxAttentionInputs): SoftmaxAttentionPlan {
  const { q, k, v, dims, causal, lengths } = args;
  const plan = planSoftmaxAttention(what, gpu, dims, { causal, variant: args.variant, tiles: args.tiles, masked: !!lengths });
  const s = attentionShapes(dims);
  checkTensor(what, 'q', q, { shape: s.qk });
  checkTensor(what, 'k', k, { shape: s.qk });
  checkTensor(what, 'v', v, { shape: s.v });
  if (lengths) checkLengths(what, lengths, dims.batch);
  return plan;
}

/** out = softmax(q k^T / sqrt(D)) v per (batch, head), causal or not; lse = each row's logsumexp. */
export function softmaxAttentionForward(gpu: Gpu, args: SoftmaxAttentionForwardArgs): void {
  const what = 'softmaxAttentionForward';
  const plan = checkSoftmaxAttentionInputs(what, gpu, args);
  const { q, k, v, out, lse } = args;
  const s = attentionShapes(plan.dims);
  checkTensor(what, 'out', out, { shape: s.v });
  checkTensor(what, 'lse', lse, { shape: s.rows });
  checkDistinct(what, { out, lse }, { q, k, v, lengths: args.lengths ?? null });
  encodeSoftmaxForward(gpu, plan, { q, k, v, out, lse, lengths: args.lengths ?? null });
}

/** dq, dk, dv of sum(out * dOut), from the forward's out and lse (overwritten, not accumulated). */
export function softmaxAttentionBackward(gpu: Gpu, args: SoftmaxAttentionBackwardArgs): void {
  const what = 'softmaxAttentionBackward';
  const plan = checkSoftmaxAttentionInputs(what, gpu, args);
  const { q, k, v, out, lse, dOut, dq, dk, dv } = args;
  const s = attentionShapes(plan.dims);
  checkTensor(what, 'out', out, { shape: s.v });
  checkTensor(what, 'lse', lse, { shape: s.rows });
  checkTensor(what, 'dOut', dOut, { shape: s.v });
  checkTensor(what, 'dq', dq, { shape: s.qk });
  checkTensor(what, 'dk', dk, { shape: s.qk });
  checkTensor(what, 'dv', dv, { shape: s.v });
  const lengths = args.lengths ?? null;
  checkDistinct(what, { dq, dk, dv }, { q, k, v, out, lse, dOut, lengths });
  encodeSoftmaxBackward(gpu, plan, { q, k, v, out, lse, dOut, dq, dk, dv, lengths });
}

export interface SoftmaxKVCacheDims {
  batch: number;
  heads: number;
  dim: number;
  dimV: number;
  /** Tokens the cache holds before step() refuses more. */
  maxSeq: number;
}

/**
 * Keys and values of every token so far, for sampling one token at a time: step(q, k, v) appends
 * k, v and returns q's causal softmax attention over all cached tokens, the same numbers as row
 * `length` of the parallel causal forward.
 */
export class SoftmaxKVCache {
  readonly keys: Tensor; // [B, H, maxSeq, D]
  readonly values: Tensor; // [B, H, maxSeq, Dv]
  private len = 0;

  constructor(
    private readonly gpu: Gpu,
    readonly dims: SoftmaxKVCacheDims,
  ) {
    const what = 'SoftmaxKVCache';
    if (!dims || typeof dims !== 'object') throw new Error(`${what}: dims must be an object {batch, heads, dim, dimV, maxSeq}`);
    const { batch, heads, dim, dimV, maxSeq } = dims;
    if (!Number.isInteger(maxSeq) || maxSeq < 1) throw new Error(`${what}: maxSeq must be a positive integer; got ${String(maxSeq)}`);
    checkSoftmaxAttentionDims(what, { batch, heads, seq: maxSeq, dim, dimV });
    checkHeadGrid(what, gpu, { batch, heads });
    this.keys = empty(gpu, [batch, heads, maxSeq, dim], 'softmaxKVCache.keys'); // [B, H, maxSeq, D]
    this.values = empty(gpu, [batch, heads, maxSeq, dimV], 'softmaxKVCache.values'); // [B, H, maxSeq, Dv]
  }

  /** Tokens cached so far. */
  get length(): number {
    return this.len;
  }

  /** q, k [B, H, 1, D], v [B, H, 1, Dv] -> out [B, H, 1, Dv] (a new tensor the caller disposes). */
  step(q: Tensor, k: Tensor, v: Tensor): Tensor {
    const what = 'SoftmaxKVCache.step';
    const { batch, heads, dim, dimV, maxSeq } = this.dims;
    if (this.keys.isDisposed) throw new Error(`${what}: the cache has been disposed`);
    checkTensor(what, 'q', q, { shape: [batch, heads, 1, dim] });
    checkTensor(what, 'k', k, { shape: [batch, heads, 1, dim] });
    checkTensor(what, 'v', v, { shape: [batch, heads, 1, dimV] });
    if (this.len >= maxSeq) throw new Error(`${what}: the cache is full (${maxSeq} tokens); reset() it or make a larger one`);
    const out = empty(this.gpu, [batch, heads, 1, dimV], 'softmaxKVCache.out'); // [B, H, 1, Dv]
    this.gpu
      .kernel({
        ...SOFTMAX_KERNELS.step,
        constants: { WG: ROW_WORKGROUP, STEP_NV: Math.ceil(dimV / ROW_WORKGROUP) },
      })
      .run(
        { q, k, v, out, k_cache: this.keys, v_cache: this.values },
        { d: dim, dv: dimV, max_seq: maxSeq, pos: this.len, scale: 1 / Math.sqrt(dim) },
        [batch * heads],
      );
    this.len++;
    return out;
  }

  /** Forgets every token (the buffers are kept; rows past length are never read). */
  reset(): void {
    this.len = 0;
  }

  dispose(): void {
    this.keys.dispose();
    this.values.dispose();
  }
}
