// GPU primitives for multi-head softmax attention (shaders/softmax_attention.wgsl), MATH.md eq. (1).
// The forward saves only the per-row logsumexp [B, H, N]; the backward recomputes the
// probabilities from it block by block, so no N x N matrix ever exists (FlashAttention-2's
// scheme). Real GPUs get the tiled kernels; SwiftShader gets one-thread-per-row kernels, which
// it runs several times faster (it pays for every barrier and workgroup-memory access).
import { attentionShapes, checkAttentionDims, checkCausal, checkDistinct, checkHeadGrid, checkTensor, type AttentionDims } from '../check.ts';
import type { Gpu } from '../gpu.ts';
import { SOFTMAX_ATTENTION, checkVariant, variantOf, type Variant } from '../variants.ts';
import { empty, type Tensor } from '../tensor.ts';
import { SOFTMAX_KERNELS } from './softmax/shaders.ts';

export type SoftmaxAttentionDims = AttentionDims;

/** 'gpu': tiled kernels with workgroup memory; 'swiftshader': one thread per row, no barriers. */
export type SoftmaxAttentionVariant = Variant;

/** Query rows (bq) and key rows (bk) per tile of the tiled kernels. */
export interface SoftmaxAttentionTiles {
  bq: number;
  bk: number;
}

export interface SoftmaxAttentionOptions {
  /** Defaults to `gpu.backend`; tests force each. */
  variant?: SoftmaxAttentionVariant;
  /** Forces the tiled kernels' block sizes (tests use it to make bq != bk); checked against the storage budget. */
  tiles?: SoftmaxAttentionTiles;
}

export interface SoftmaxAttentionForwardArgs extends SoftmaxAttentionOptions {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  out: Tensor; // [B, H, N, Dv]
  /** Saved for the backward: logsumexp_j of the row's scaled scores. */
  lse: Tensor; // [B, H, N]
  dims: SoftmaxAttentionDims;
  causal: boolean;
}

export interface SoftmaxAttentionBackwardArgs extends SoftmaxAttentionOptions {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  out: Tensor; // [B, H, N, Dv], the forward's
  lse: Tensor; // [B, H, N], the forward's
  dOut: Tensor; // [B, H, N, Dv]
  dq: Tensor; // [B, H, N, D]
  dk: Tensor; // [B, H, N, D]
  dv: Tensor; // [B, H, N, Dv]
  dims: SoftmaxAttentionDims;
  causal: boolean;
}

/** Largest D or Dv the kernels accept (MAX_DIM in the WGSL). */
export const SOFTMAX_ATTENTION_MAX_DIM = 128;
/** Per-thread accumulator slots of the tiled kernels (ACC in the WGSL). */
const ACC_SLOTS = 16;
/** Threads sharing one tile row: with ACC_SLOTS, covers heads up to SOFTMAX_ATTENTION_MAX_DIM. */
const THREADS_PER_ROW = 8;
/** Threads per workgroup of the row kernels and of the decoding step. */
const ROW_WORKGROUP = 64;
/** Workgroup memory every WebGPU device offers (the engine's required limit). */
const TILE_STORAGE_BYTES = 16384;
const F32_BYTES = 4;

type TiledKernel = 'forward' | 'backward_dq' | 'backward_dkdv';

/** Preferred tiles first: bigger query tiles reuse each loaded key block for more rows. */
const TILE_CANDIDATES: Record<TiledKernel, readonly SoftmaxAttentionTiles[]> = {
  forward: [
    { bq: 32, bk: 32 }, { bq: 32, bk: 16 }, { bq: 16, bk: 16 }, { bq: 16, bk: 8 },
    { bq: 8, bk: 8 }, { bq: 8, bk: 4 }, { bq: 4, bk: 4 },
  ],
  backward_dq: [
    { bq: 32, bk: 32 }, { bq: 32, bk: 16 }, { bq: 16, bk: 16 }, { bq: 16, bk: 8 },
    { bq: 8, bk: 8 }, { bq: 8, bk: 4 }, { bq: 4, bk: 4 },
  ],
  // Rows of this kernel are keys, so bk sets its thread count.
  backward_dkdv: [
    { bq: 32, bk: 32 }, { bq: 16, bk: 32 }, { bq: 16, bk: 16 }, { bq: 8, bk: 16 },
    { bq: 8, bk: 8 }, { bq: 4, bk: 8 }, { bq: 4, bk: 4 },
  ],
};

/** Odd row strides put the rows read column-wise by neighbouring threads in different banks. */
function oddStride(n: number): number {
  return n % 2 === 0 ? n + 1 : n;
}

/** Bytes of workgroup memory a tiled kernel declares (mirrors the WGSL's workgroup arrays). */
export function tileStorageBytes(kernel: TiledKernel, tiles: SoftmaxAttentionTiles, dim: number, dimV: number): number {
  const { bq, bk } = tiles;
  const ks = oddStride(dim);
  const vs = oddStride(dimV);
  let floats: number;
  if (kernel === 'forward') floats = bq * ks + bk * ks + bk * vs + bq * (bk + 1) + bq * THREADS_PER_ROW;
  else if (kernel === 'backward_dq') floats = bq * ks + bq * vs + bk * ks + bk * vs + bq * (bk + 1);
  else floats = bk * ks + bk * vs + bq * ks + bq * vs + 2 * bk * (bq + 1) + 2 * bq;
  return floats * F32_BYTES;
}

/** The first candidate tile that fits the storage budget for these head sizes. */
export function chooseTiles(kernel: TiledKernel, dim: number, dimV: number): SoftmaxAttentionTiles {
  const t = TILE_CANDIDATES[kernel].find((c) => tileStorageBytes(kernel, c, dim, dimV) <= TILE_STORAGE_BYTES);
  // The smallest candidate fits any head up to SOFTMAX_ATTENTION_MAX_DIM, which callers check first.
  if (!t) throw new Error(`softmaxAttention: no tile fits dim ${dim}, dimV ${dimV} in ${TILE_STORAGE_BYTES} bytes`);
  return t;
}

function checkTiles(what: string, kernel: TiledKernel, tiles: SoftmaxAttentionTiles, dims: SoftmaxAttentionDims): void {
  for (const name of ['bq', 'bk'] as const) {
    const n = tiles[name];
    if (!Number.isInteger(n) || n < 1 || n * THREADS_PER_ROW > 256) {
      throw new Error(`${what}: tiles.${name} must be an integer in [1, ${256 / THREADS_PER_ROW}]; got ${String(n)}`);
    }
  }
  const bytes = tileStorageBytes(kernel, tiles, dims.dim, dims.dimV);
  if (bytes > TILE_STORAGE_BYTES) {
    throw new Error(
      `${what}: tiles {bq: ${tiles.bq}, bk: ${tiles.bk}} need ${bytes} bytes of workgroup memory for dim ${dims.dim}, ` +
        `dimV ${dims.dimV}; the limit is ${TILE_STORAGE_BYTES}`,
    );
  }
}

export function checkSoftmaxAttentionDims(what: string, dims: SoftmaxAttentionDims): void {
  checkAttentionDims(what, dims);
  for (const name of ['dim', 'dimV'] as const) {
    if (dims[name] > SOFTMAX_ATTENTION_MAX_DIM) {
      throw new Error(`${what}: dims.${name} = ${dims[name]} exceeds the largest head size ${SOFTMAX_ATTENTION_MAX_DIM}`);
    }
  }
}

function params(dims: SoftmaxAttentionDims, causal: boolean) {
  return {
    bh: dims.batch * dims.heads,
    n: dims.seq,
    d: dims.dim,
    dv: dims.dimV,
    causal: causal ? 1 : 0,
    scale: 1 / Math.sqrt(dims.dim),
  };
}

function tiledKernel(gpu: Gpu, entry: TiledKernel, tiles: SoftmaxAttentionTiles, dims: SoftmaxAttentionDims) {
  const perThread = (n: number) => Math.ceil(n / THREADS_PER_ROW);
  // THREADS_PER_ROW * ACC_SLOTS >= SOFTMAX_ATTENTION_MAX_DIM, so these hold after the dims check.
  if (perThread(dims.dim) > ACC_SLOTS || perThread(dims.dimV) > ACC_SLOTS) throw new Error('softmaxAttention: head too large');
  return gpu.kernel({
    ...SOFTMAX_KERNELS[entry],
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

function rowKernel(gpu: Gpu, entry: 'forward_rows' | 'backward_delta' | 'backward_dq_rows' | 'backward_dkdv_rows') {
  return gpu.kernel({ ...SOFTMAX_KERNELS[entry], constants: { WG: ROW_WORKGROUP } });
}

function rowGrid(gpu: Gpu, dims: SoftmaxAttentionDims): [number, number] {
  return gpu.grid(Math.ceil((dims.batch * dims.heads * dims.seq) / ROW_WORKGROUP));
}

function resolveTiles(what: string, kernel: TiledKernel, opts: SoftmaxAttentionOptions, dims: SoftmaxAttentionDims) {
  const tiles = opts.tiles ?? chooseTiles(kernel, dims.dim, dims.dimV);
  checkTiles(what, kernel, tiles, dims);
  return tiles;
}

/** Checks dims, causal and the inputs q, k, v; ops call it before allocating their outputs. */
export function checkSoftmaxAttentionInputs(
  what: string,
  gpu: Gpu,
  args: { q: Tensor; k: Tensor; v: Tensor; dims: SoftmaxAttentionDims; causal: boolean } & SoftmaxAttentionOptions,
): void {
  const { q, k, v, dims, causal } = args;
  checkSoftmaxAttentionDims(what, dims);
  checkCausal(what, causal);
  const s = attentionShapes(dims);
  checkTensor(what, 'q', q, { shape: s.qk });
  checkTensor(what, 'k', k, { shape: s.qk });
  checkTensor(what, 'v', v, { shape: s.v });
  checkHeadGrid(what, gpu, dims);
  checkVariant(what, args.variant);
  if (args.tiles) {
    for (const kernel of ['forward', 'backward_dq', 'backward_dkdv'] as const) checkTiles(what, kernel, args.tiles, dims);
  }
}

/** out = softmax(q k^T / sqrt(D)) v per (batch, head), causal or not; lse = each row's logsumexp. */
export function softmaxAttentionForward(gpu: Gpu, args: SoftmaxAttentionForwardArgs): void {
  const what = 'softmaxAttentionForward';
  const { q, k, v, out, lse, dims, causal } = args;
  checkSoftmaxAttentionInputs(what, gpu, args);
  const s = attentionShapes(dims);
  checkTensor(what, 'out', out, { shape: s.v });
  checkTensor(what, 'lse', lse, { shape: s.rows });
  checkDistinct(what, { out, lse }, { q, k, v });
  const uniforms = params(dims, causal);
  if (!SOFTMAX_ATTENTION[variantOf(what, gpu, args.variant)].tiled) {
    rowKernel(gpu, 'forward_rows').run({ q, k, v, out, lse }, uniforms, rowGrid(gpu, dims));
    return;
  }
  const tiles = resolveTiles(what, 'forward', args, dims);
  const blocks = Math.ceil(dims.seq / tiles.bq);
  tiledKernel(gpu, 'forward', tiles, dims).run({ q, k, v, out, lse }, uniforms, [blocks, dims.batch * dims.heads]);
}

/** dq, dk, dv of sum(out * dOut), from the forward's out and lse (overwritten, not accumulated). */
export function softmaxAttentionBackward(gpu: Gpu, args: SoftmaxAttentionBackwardArgs): void {
  const what = 'softmaxAttentionBackward';
  const { q, k, v, out, lse, dOut, dq, dk, dv, dims, causal } = args;
  checkSoftmaxAttentionInputs(what, gpu, args);
  const s = attentionShapes(dims);
  checkTensor(what, 'out', out, { shape: s.v });
  checkTensor(what, 'lse', lse, { shape: s.rows });
  checkTensor(what, 'dOut', dOut, { shape: s.v });
  checkTensor(what, 'dq', dq, { shape: s.qk });
  checkTensor(what, 'dk', dk, { shape: s.qk });
  checkTensor(what, 'dv', dv, { shape: s.v });
  checkDistinct(what, { dq, dk, dv }, { q, k, v, out, lse, dOut });
  const tiles = SOFTMAX_ATTENTION[variantOf(what, gpu, args.variant)].tiled
      ? { dq: resolveTiles(what, 'backward_dq', args, dims), dkdv: resolveTiles(what, 'backward_dkdv', args, dims) }
      : null;

  const uniforms = params(dims, causal);
  const delta = empty(gpu, s.rows, 'softmaxAttention.delta'); // [B, H, N]
  rowKernel(gpu, 'backward_delta').run({ dout: dOut, o_saved: out, delta }, uniforms, rowGrid(gpu, dims));
  const saved = { q, k, v, dout: dOut, lse_saved: lse, delta_in: delta };
  if (!tiles) {
    rowKernel(gpu, 'backward_dq_rows').run({ ...saved, dq }, uniforms, rowGrid(gpu, dims));
    rowKernel(gpu, 'backward_dkdv_rows').run({ ...saved, dk, dv }, uniforms, rowGrid(gpu, dims));
  } else {
    const bh = dims.batch * dims.heads;
    tiledKernel(gpu, 'backward_dq', tiles.dq, dims).run({ ...saved, dq }, uniforms, [Math.ceil(dims.seq / tiles.dq.bq), bh]);
    tiledKernel(gpu, 'backward_dkdv', tiles.dkdv, dims).run(
      { ...saved, dk, dv },
      uniforms,
      [Math.ceil(dims.seq / tiles.dkdv.bk), bh],
    );
  }
  // Recorded work keeps its binding; a later user of the pooled buffer is ordered after it.
  delta.dispose();
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
