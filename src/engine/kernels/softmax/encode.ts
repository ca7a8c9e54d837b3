// The forward and backward of softmax attention as dispatches over a plan (plan.ts). The forward
// saves only the per-row logsumexp [B, H, N]; the backward recomputes the probabilities from it
// block by block, so no N x N matrix ever exists (FlashAttention-2's scheme). Real GPUs get the
// tiled kernels; SwiftShader gets one-thread-per-row kernels, which it runs several times faster
// (it pays for every barrier and workgroup-memory access). With key-padding lengths the plan picks
// the masked build of each kernel (its own pipeline, which binds `lengths`); without them the
// kernels are those of the unmasked path. Nothing here validates: callers pass tensors checked
// against the plan.
import type { Gpu } from '../../gpu.ts';
import { empty, type Tensor } from '../../tensor.ts';
import {
  ACC_SLOTS,
  ROW_WORKGROUP,
  THREADS_PER_ROW,
  oddStride,
  type SoftmaxAttentionDims,
  type SoftmaxAttentionPlan,
  type SoftmaxAttentionTiles,
  type TiledKernel,
} from './plan.ts';
import { SOFTMAX_KERNELS, type SoftmaxKernelName } from './shaders.ts';

export interface SoftmaxForwardTensors {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  out: Tensor; // [B, H, N, Dv]
  /** Saved for the backward: logsumexp_j of the row's scaled scores (0 on padding rows). */
  lse: Tensor; // [B, H, N]
  /** Key-padding lengths, u32 [B]: given exactly when the plan is masked. */
  lengths: Tensor | null;
}

export interface SoftmaxBackwardTensors {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  out: Tensor; // [B, H, N, Dv], the forward's
  lse: Tensor; // [B, H, N], the forward's
  dOut: Tensor; // [B, H, N, Dv]
  dq: Tensor; // [B, H, N, D]
  dk: Tensor; // [B, H, N, D]
  dv: Tensor; // [B, H, N, Dv]
  lengths: Tensor | null;
}

function uniforms(dims: SoftmaxAttentionDims, causal: boolean) {
  return {
    bh: dims.batch * dims.heads,
    heads: dims.heads,
    n: dims.seq,
    d: dims.dim,
    dv: dims.dimV,
    causal: causal ? 1 : 0,
    scale: 1 / Math.sqrt(dims.dim),
  };
}

/** The kernel's masked build when the plan has lengths. */
function source(plan: SoftmaxAttentionPlan, name: SoftmaxKernelName) {
  return plan.masked ? SOFTMAX_KERNELS.masked[name] : SOFTMAX_KERNELS.full[name];
}

function tiledKernel(gpu: Gpu, plan: SoftmaxAttentionPlan, entry: TiledKernel, tiles: SoftmaxAttentionTiles) {
  const { dims } = plan;
  const perThread = (n: number) => Math.ceil(n / THREADS_PER_ROW);
  // THREADS_PER_ROW * ACC_SLOTS >= SOFTMAX_ATTENTION_MAX_DIM, so these hold after the dims check.
  if (perThread(dims.dim) > ACC_SLOTS || perThread(dims.dimV) > ACC_SLOTS) throw new Error('softmaxAttention: head too large');
  return gpu.kernel({
    ...source(plan, entry),
    constants: {
      TPR: THREADS_PER_ROW,
      BQ: tiles.bq,
      BK: tiles.bk,
      KS: oddStride(dims.dim),
      VS: oddStride(dims.dimV),
      NK: perThread(dims.dim),
      NV: perThread(dims.dimV),
      NS: perThread(tiles.bk),
    },
  });
}

function rowKernel(gpu: Gpu, plan: SoftmaxAttentionPlan, entry: 'forward_rows' | 'backward_dq_rows' | 'backward_dkdv_rows') {
  return gpu.kernel({ ...source(plan, entry), constants: { WG: ROW_WORKGROUP } });
}

function rowGrid(gpu: Gpu, dims: SoftmaxAttentionDims): [number, number] {
  return gpu.grid(Math.ceil((dims.batch * dims.heads * dims.seq) / ROW_WORKGROUP));
}

/** The lengths binding of a masked kernel (nothing for the unmasked ones). */
function lengthsOf(t: { lengths: Tensor | null }): Record<string, Tensor> {
  return t.lengths ? { lengths: t.lengths } : {};
}

/** out = softmax(q k^T / sqrt(D)) v per (batch, head), causal or not; lse = each row's logsumexp. */
export function encodeSoftmaxForward(gpu: Gpu, plan: SoftmaxAttentionPlan, t: SoftmaxForwardTensors): void {
  const { dims } = plan;
  const u = uniforms(dims, plan.causal);
  const bindings = { q: t.q, k: t.k, v: t.v, out: t.out, lse: t.lse, ...lengthsOf(t) };
  if (!plan.tiles) {
    rowKernel(gpu, plan, 'forward_rows').run(bindings, u, rowGrid(gpu, dims));
    return;
  }
  const tiles = plan.tiles.forward;
  tiledKernel(gpu, plan, 'forward', tiles).run(bindings, u, [Math.ceil(dims.seq / tiles.bq), dims.batch * dims.heads]);
}

/** dq, dk, dv of sum(out * dOut), from the forward's out and lse (overwritten, not accumulated). */
export function encodeSoftmaxBackward(gpu: Gpu, plan: SoftmaxAttentionPlan, t: SoftmaxBackwardTensors): void {
  const { dims } = plan;
  const u = uniforms(dims, plan.causal);
  const delta = empty(gpu, [dims.batch, dims.heads, dims.seq], 'softmaxAttention.delta'); // [B, H, N]
  gpu
    .kernel({ ...SOFTMAX_KERNELS.full.backward_delta, constants: { WG: ROW_WORKGROUP } })
    .run({ dout: t.dOut, o_saved: t.out, delta }, u, rowGrid(gpu, dims));
  const saved = { q: t.q, k: t.k, v: t.v, dout: t.dOut, lse_saved: t.lse, delta_in: delta, ...lengthsOf(t) };
  if (!plan.tiles) {
    rowKernel(gpu, plan, 'backward_dq_rows').run({ ...saved, dq: t.dq }, u, rowGrid(gpu, dims));
    rowKernel(gpu, plan, 'backward_dkdv_rows').run({ ...saved, dk: t.dk, dv: t.dv }, u, rowGrid(gpu, dims));
  } else {
    const bh = dims.batch * dims.heads;
    const { backward_dq: dq, backward_dkdv: dkdv } = plan.tiles;
    tiledKernel(gpu, plan, 'backward_dq', dq).run({ ...saved, dq: t.dq }, u, [Math.ceil(dims.seq / dq.bq), bh]);
    tiledKernel(gpu, plan, 'backward_dkdv', dkdv).run({ ...saved, dk: t.dk, dv: t.dv }, u, [Math.ceil(dims.seq / dkdv.bk), bh]);
  }
  // Recorded work keeps its binding; a later user of the pooled buffer is ordered after it.
  delta.dispose();
}
