// The plan of one softmax attention call: the checked config resolved to a variant (tiled 'gpu'
// kernels or 'swiftshader' row kernels), the tiles of each tiled kernel and whether key-padding
// lengths mask the batch. Ops resolve it once before they allocate; encode.ts only reads it.
import { checkAttentionDims, checkCausal, checkHeadGrid, fail, type AttentionDims } from '../../check.ts';
import type { Gpu } from '../../gpu.ts';
import { SOFTMAX_ATTENTION, checkVariant, variantOf, type Variant } from '../../variants.ts';

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

export interface SoftmaxAttentionConfig extends SoftmaxAttentionOptions {
  causal: boolean;
  /** Key-padding lengths are given: keys and queries t >= lengths[b] are masked out. */
  masked: boolean;
}

export type TiledKernel = 'forward' | 'backward_dq' | 'backward_dkdv';

export interface SoftmaxAttentionPlan {
  dims: SoftmaxAttentionDims;
  causal: boolean;
  masked: boolean;
  variant: SoftmaxAttentionVariant;
  /** The tiled kernels' tiles ('gpu' variant); null: the row kernels. */
  tiles: Record<TiledKernel, SoftmaxAttentionTiles> | null;
}

/** Largest D or Dv the kernels accept (MAX_DIM in the WGSL). */
export const SOFTMAX_ATTENTION_MAX_DIM = 128;
/** Per-thread accumulator slots of the tiled kernels (ACC in the WGSL). */
export const ACC_SLOTS = 16;
/** Threads sharing one tile row: with ACC_SLOTS, covers heads up to SOFTMAX_ATTENTION_MAX_DIM. */
export const THREADS_PER_ROW = 8;
/** Threads per workgroup of the row kernels and of the decoding step. */
export const ROW_WORKGROUP = 64;
/** Workgroup memory every WebGPU device offers (the engine's required limit). */
const TILE_STORAGE_BYTES = 16384;
const F32_BYTES = 4;

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

const TILED_KERNELS: readonly TiledKernel[] = ['forward', 'backward_dq', 'backward_dkdv'];

/** Odd row strides put the rows read column-wise by neighbouring threads in different banks. */
export function oddStride(n: number): number {
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

/** Checks dims and config and resolves the plan; throws before anything is allocated. */
export function planSoftmaxAttention(what: string, gpu: Gpu, dims: SoftmaxAttentionDims, cfg: SoftmaxAttentionConfig): SoftmaxAttentionPlan {
  checkSoftmaxAttentionDims(what, dims);
  checkCausal(what, cfg.causal);
  checkHeadGrid(what, gpu, dims);
  checkVariant(what, cfg.variant);
  if (typeof cfg.masked !== 'boolean') fail(what, `masked must be true or false; got ${String(cfg.masked)}`);
  if (cfg.tiles) for (const kernel of TILED_KERNELS) checkTiles(what, kernel, cfg.tiles, dims);
  const variant = variantOf(what, gpu, cfg.variant);
  const pick = (kernel: TiledKernel) => cfg.tiles ?? chooseTiles(kernel, dims.dim, dims.dimV);
  const tiles = SOFTMAX_ATTENTION[variant].tiled
    ? { forward: pick('forward'), backward_dq: pick('backward_dq'), backward_dkdv: pick('backward_dkdv') }
    : null;
  return { dims, causal: cfg.causal, masked: cfg.masked, variant, tiles };
}
