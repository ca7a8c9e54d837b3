// The plan of one linear or momentum attention call: the checked config resolved to a path
// (momentum or linear), a variant (tiled 'gpu' kernels or 'swiftshader' row kernels), a chunk
// length and the tile arithmetic both variants need. Ops resolve it once before they allocate;
// the encoders (scan.ts, attend.ts, encode.ts) only read it.
import { checkAttentionDims, checkCausal, checkMomentumParams, fail, type AttentionDims } from '../../check.ts';
import type { Gpu } from '../../gpu.ts';
import type { Shape, Tensor } from '../../tensor.ts';
import { LINEAR_ATTENTION, checkVariant, variantOf, type Variant } from '../../variants.ts';

export type { AttentionDims } from '../../check.ts';

/** 'momentum' carries (S, m); 'linear' carries S only and requires beta = 0, gamma = 1. */
export type MomentumPath = 'momentum' | 'linear';

/** 'gpu': tiled kernels; 'swiftshader': row kernels (src/engine/variants.ts). */
export type LinearAttentionVariant = Variant;

export interface MomentumConfig {
  causal: boolean;
  /** Momentum in [0, 1). */
  beta: number;
  /** Step size > 0. */
  gamma: number;
  /** Tokens per chunk: 16 or 32 (tiled kernels), 16, 32 or 64 (row kernels); defaults to momentumChunk(gpu). */
  chunk?: number;
  /** Defaults to 'linear' exactly when beta = 0 and gamma = 1; tests force 'momentum' there. */
  path?: MomentumPath;
  /** Defaults to `gpu.backend`; tests force each. */
  variant?: LinearAttentionVariant;
  /** Key-padding lengths are given (the masked builds of the kernels); default false. */
  masked?: boolean;
  /**
   * The row kernels' body ('swiftshader' variant); defaults to 'pairs'. 'quads' runs its kernels
   * 1.13-1.34x faster at the training shape but takes about 5x as long to compile (6.8 s against
   * 1.3 s for linear and momentum attention's kernels, scripts/compile-time.ts), more than a short
   * run gains, so it is opt-in; tests force each.
   */
  rows?: RowBody;
}

/**
 * The row attend kernels' two bodies ('swiftshader' variant): a thread per two tokens
 * (attend_rows.wgsl, with dk and dv in one pass, attend_rows_dkv.wgsl) or a thread per four, its
 * sums as 4 x 4 matrix products (attend_quads.wgsl).
 */
export type RowBody = 'pairs' | 'quads';

/** What the forward saves for the backward (explicit outputs, see momentumSavedShapes). */
export interface MomentumSaved {
  /**
   * The state carried into each chunk; slot NC holds the state after the last token. P = 2 on the
   * momentum path, (S, m) interleaved per entry; P = 1 (S alone) on the linear path.
   */
  states: Tensor; // [B, H, NC+1, D, Dv, P]
  /** Prefix sums of phi(k) at each chunk start; slot NC is the total. */
  z: Tensor; // [B, H, NC+1, D]
  /** Each token's normaliser phi(q_i) . z_i. */
  den: Tensor; // [B, H, N]
}

export interface MomentumPlan {
  dims: AttentionDims;
  causal: boolean;
  /** The momentum coefficients the kernels use: (0, 1) on the linear path. */
  beta: number;
  gamma: number;
  chunk: number;
  /** Chunks per sequence, ceil(N / chunk). */
  chunks: number;
  /** The momentum path (state (S, m)); false: the linear path (S alone). */
  momentum: boolean;
  variant: LinearAttentionVariant;
  /** Tiled kernels ('gpu' variant); false: row kernels. */
  tiled: boolean;
  /** Key-padding lengths mask the batch: example b runs to lengths[b] (the kernels' masked builds). */
  masked: boolean;
  /** The row kernels' body; null for the tiled kernels. */
  rows: RowBody | null;
}

/** Side of the square thread tile (T in the WGSL). */
export const TILE = 16;
/** Register tile bounds (MAX_R, MAX_S in the WGSL). */
const MAX_ROWS_PER_THREAD = 4;
const MAX_COLS_PER_THREAD = 4;
/** Features or tokens per staged slice (KS in the WGSL). */
export const SLICE = 16;
/** Threads of the 1-D kernels (WG1). */
export const WG1 = 64;
/** Largest D or Dv of the SwiftShader variant's row kernels (MAX_DIM in the WGSL; step_rows' Dv, 4 MAX_DV4). */
export const LINEAR_ATTENTION_MAX_ROW_DIM = 128;
/** The SwiftShader variant's chunk sums give each thread a 4 x 4 tile of the state (vec4 rows). */
export const ROW_SUM_TILE = 4;
const F32_BYTES = 4;
/** Workgroup memory every WebGPU device offers (the engine's required limit). */
const PORTABLE_STORAGE_BYTES = 16384;
export const MOMENTUM_CHUNKS = [16, 32, 64] as const;

/** Chunks whose tiled attend fits every device's workgroup memory at any head size. */
function tiledChunks(): number[] {
  return MOMENTUM_CHUNKS.filter((c) => attendStorageBytes(c, MAX_COLS_PER_THREAD) <= PORTABLE_STORAGE_BYTES);
}

/**
 * The chunk length the primitives use by default: for the tiled kernels the largest whose
 * workgroup memory fits every WebGPU device at any head size (bigger tiles use a real GPU better);
 * the row kernels pay O(C) per token for the quadratic part and nothing per chunk, so a short one.
 */
export function momentumChunk(gpu: Gpu, variant?: LinearAttentionVariant): number {
  const v = LINEAR_ATTENTION[variantOf('momentumChunk', gpu, variant)];
  if (v.defaultChunk !== null) return v.defaultChunk;
  const fits = tiledChunks();
  return fits[fits.length - 1]!;
}

export function chunkCount(seq: number, chunk: number): number {
  return Math.ceil(seq / chunk);
}

/** Floats per state entry: (S, m) with momentum, S alone without. */
export function stateFloats(momentum: boolean): number {
  return momentum ? 2 : 1;
}

/** Shapes of the saved tensors for these dims and chunk length, on the momentum or linear path. */
export function momentumSavedShapes(
  dims: AttentionDims,
  chunk: number,
  momentum: boolean,
): { states: Shape; z: Shape; den: Shape } {
  const { batch: b, heads: h, seq: n, dim: d, dimV: dv } = dims;
  const slots = chunkCount(n, chunk) + 1;
  return { states: [b, h, slots, d, dv, stateFloats(momentum)], z: [b, h, slots, d], den: [b, h, n] };
}

/** Register-tile columns per thread and blocks for an output of n features. */
export function colsFor(n: number): { perThread: number; blocks: number } {
  const perThread = Math.min(MAX_COLS_PER_THREAD, Math.ceil(n / TILE));
  return { perThread, blocks: Math.ceil(n / (TILE * perThread)) };
}

export function rowsFor(n: number): { perThread: number; blocks: number } {
  const perThread = Math.min(MAX_ROWS_PER_THREAD, Math.ceil(n / TILE));
  return { perThread, blocks: Math.ceil(n / (TILE * perThread)) };
}

/** Floats of attend's staging memory: the larger of phase 1's slices and phases 2-3's tiles. */
export function attendSmem(chunk: number, colsPerThread: number): number {
  const ob = TILE * colsPerThread;
  return Math.max(2 * chunk * SLICE + 2 * SLICE * ob, chunk * chunk + chunk * TILE + SLICE * ob);
}

/** Workgroup bytes of attend (mirrors the WGSL's workgroup arrays: sh, wtab, ptab). */
export function attendStorageBytes(chunk: number, colsPerThread: number): number {
  return (attendSmem(chunk, colsPerThread) + 2 * chunk) * F32_BYTES;
}

/** Checks the config and resolves the plan; throws before anything is allocated. */
export function planMomentum(what: string, gpu: Gpu, dims: AttentionDims, cfg: MomentumConfig): MomentumPlan {
  checkAttentionDims(what, dims, gpu);
  checkCausal(what, cfg.causal);
  checkMomentumParams(what, cfg.beta, cfg.gamma);
  checkVariant(what, cfg.variant);
  if (cfg.masked !== undefined && typeof cfg.masked !== 'boolean') fail(what, `masked must be true or false; got ${String(cfg.masked)}`);
  const variant = variantOf(what, gpu, cfg.variant);
  const tiled = LINEAR_ATTENTION[variant].tiled;
  if (!tiled) {
    for (const name of ['dim', 'dimV'] as const) {
      if (dims[name] > LINEAR_ATTENTION_MAX_ROW_DIM) {
        fail(what, `dims.${name} = ${dims[name]} exceeds ${LINEAR_ATTENTION_MAX_ROW_DIM}, the largest head of the swiftshader variant`);
      }
    }
  }
  const chunk = cfg.chunk ?? momentumChunk(gpu, variant);
  if (!(MOMENTUM_CHUNKS as readonly number[]).includes(chunk)) {
    fail(what, `chunk must be one of ${MOMENTUM_CHUNKS.join(', ')}; got ${String(chunk)}`);
  }
  if (tiled && !tiledChunks().includes(chunk)) {
    // Larger chunks would need more workgroup memory than every device offers (and are untested).
    fail(what, `the gpu variant takes chunks of ${tiledChunks().join(' or ')}; got ${chunk}`);
  }
  const path = cfg.path ?? (cfg.beta === 0 && cfg.gamma === 1 ? 'linear' : 'momentum');
  if (path !== 'linear' && path !== 'momentum') fail(what, `path must be 'linear' or 'momentum'; got ${String(path)}`);
  if (path === 'linear' && !(cfg.beta === 0 && cfg.gamma === 1)) {
    fail(what, `the linear path is momentum attention at beta = 0, gamma = 1; got beta ${cfg.beta}, gamma ${cfg.gamma}`);
  }
  const chunks = chunkCount(dims.seq, chunk);
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  const blocks = Math.max(colsFor(dims.dim).blocks, colsFor(dims.dimV).blocks);
  const tiles = rowsFor(dims.dim).blocks * colsFor(dims.dimV).blocks;
  if (tiled && chunks * Math.max(blocks, tiles) > max) {
    fail(what, `seq ${dims.seq} needs ${chunks * Math.max(blocks, tiles)} workgroups in one dimension; the limit is ${max}`);
  }
  const momentum = path === 'momentum';
  if (cfg.rows !== undefined) {
    if (cfg.rows !== 'pairs' && cfg.rows !== 'quads') fail(what, `rows must be 'pairs' or 'quads'; got ${String(cfg.rows)}`);
    if (tiled) fail(what, `rows picks a body of the swiftshader variant's row kernels; the ${variant} variant has none`);
  }
  const rows: RowBody | null = tiled ? null : (cfg.rows ?? 'pairs');
  return {
    dims,
    causal: cfg.causal,
    beta: momentum ? cfg.beta : 0,
    gamma: momentum ? cfg.gamma : 1,
    chunk,
    chunks,
    momentum,
    variant,
    tiled,
    masked: cfg.masked ?? false,
    rows,
  };
}
