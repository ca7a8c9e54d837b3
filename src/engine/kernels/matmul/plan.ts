// The plan of one matmul or column sum: the call's sizes checked and resolved to what is
// dispatched (a batch folded into M or K where the layout allows, split-K chunks, the variant,
// the grids) and whether a fixed-order sum of partials finishes it. Ops and the checked
// primitives (kernels/matmul.ts) resolve it once, before they allocate; encode.ts only reads it.
import { checkPositiveInt, fail } from '../../check.ts';
import type { Gpu } from '../../gpu.ts';
import { MATMUL, variantOf, type Variant } from '../../variants.ts';

/** 'swiftshader': 4x4 register blocks straight from storage; 'gpu': workgroup-memory tiles (src/engine/variants.ts). */
export type MatmulVariant = Variant;

/** A product's sizes and layout (the tensors are checked against it, see kernels/matmul.ts). */
export interface MatmulShape {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** A is stored [K, M] (op(A) = A^T). */
  transA?: boolean;
  /** B is stored [N, K] (op(B) = B^T). */
  transB?: boolean;
  /** C += product instead of C = product. */
  accumulate?: boolean;
  /** One A for every batch item (stride 0). */
  aShared?: boolean;
  /** One B for every batch item (stride 0). */
  bShared?: boolean;
  /** C = sum over the batch of op(A[b]) op(B[b]): a shared weight's gradient. Bias is added once. */
  sumBatch?: boolean;
  /** Forces a variant (matmul_register for 'swiftshader', matmul_tiled for 'gpu'); by default `gpu.backend`'s. */
  variant?: MatmulVariant;
  /**
   * Cuts K into this many chunks computed in parallel and summed in a fixed order (for few output
   * tiles with a long K, e.g. weight gradients on a GPU). Default: chosen by backend and shape.
   */
  splitK?: number;
  /**
   * 'swiftshader': whether matmul_register_vec4 shares loads across a subgroup
   * (matmul_register_vec4_sg), where it applies; default where the device has subgroups of exactly
   * SUBGROUP_LANES. 'gpu': true runs matmul_subgroup (a workgroup of one subgroup of the device's
   * fixed size) instead of matmul_tiled; default false. True where the device lacks them fails.
   */
  subgroups?: boolean;
  /**
   * Forces the product kernel, one of the variant's (MATMUL in src/engine/variants.ts) that can
   * run this shape: the vec4 ones need vec4Operands, the subgroup one subgroups of 4. For tests
   * and benchmarks; by default chosen by shape and device.
   */
  entry?: MatmulEntry;
}

/** The product kernel's dispatch: sizes as the WGSL sees them (shaders/matmul/product.wgsl). */
export interface MatmulLaunch {
  /** The entry point (MATMUL in src/engine/variants.ts). */
  entry: MatmulEntry;
  m: number;
  n: number;
  k: number;
  /** z extent = batch * splits */
  batch: number;
  splits: number;
  kChunk: number;
  strideA: number;
  strideB: number;
  strideC: number;
  transA: boolean;
  transB: boolean;
  /**
   * Row and column quads of a block (ROW_QUADS, COL_QUADS in shaders/matmul/block16.wgsl): 4 (16
   * rows, 16 columns), fewer for matmul_register_vec4 and matmul_register_gather on a C with fewer
   * than 13 rows or columns; 4 for the other kernels.
   */
  rowQuads: number;
  colQuads: number;
  grid: [number, number, number];
}

export type MatmulEntry =
  | 'matmul_register'
  | 'matmul_register_vec4'
  | 'matmul_register_vec4_sg'
  | 'matmul_register_gather'
  | 'matmul_tiled'
  | 'matmul_subgroup';

export interface MatmulPlan {
  /** The call's sizes and flags, defaults filled in. */
  shape: Required<Omit<MatmulShape, 'variant' | 'splitK' | 'subgroups' | 'entry'>>;
  variant: MatmulVariant;
  launch: MatmulLaunch;
  /**
   * Set when the product writes one partial per batch item or K chunk ([partials, M, N]) and
   * sum_rows adds them in order into C (then the bias): the column sum of that finish.
   */
  finish: SumRowsPlan | null;
}

/** A column sum out[col] (+)= sum over rows of x[row, col], in one pass or two. */
export interface SumRowsPlan {
  rows: number;
  cols: number;
  /** Rows per partial sum of the first pass; rowChunk >= rows is one pass. */
  rowChunk: number;
  /** ceil(rows / rowChunk): partial rows of a two-pass sum (1: one pass). */
  chunks: number;
  grid: [number, number, number];
  /** The second pass's grid when chunks > 1. */
  finishGrid: [number, number, number] | null;
  /** out += sum instead of out = sum. */
  accumulate: boolean;
  /** sum_rows_vec4 (four columns an invocation) or sum_rows, and its workgroup size. */
  entry: SumRowsEntry;
  workgroup: number;
}

export type SumRowsEntry = 'sum_rows' | 'sum_rows_vec4';

/** The column-sum kernel of a plan and its workgroup size. */
export type SumRowsKernel = Pick<SumRowsPlan, 'entry' | 'workgroup'>;

export interface SumRowsShape {
  rows: number;
  cols: number;
  /**
   * Rows per partial sum of the first of two passes (both in a fixed order). Default: one pass on
   * SwiftShader, ROW_CHUNK on a GPU when rows are many; `rows` forces one pass.
   */
  rowChunk?: number;
  /** out += sum instead of out = sum. */
  accumulate?: boolean;
  /** Forces a variant's column sums (default: the adapter's). */
  variant?: MatmulVariant;
  /**
   * Four columns an invocation as vec4s (true; cols must be a multiple of 4) or one (false).
   * Default: the variant's `vec4ColumnSums` where cols is a multiple of 4. Same bits either way.
   */
  vec4?: boolean;
}

/** Each invocation's block of C is TM x TN (constants in the WGSL). */
const TM = 4;
const TN = 4;
/** Rows per partial sum in the two-pass column sum. */
export const ROW_CHUNK = 256;
/** Split-K on a GPU: aim for this many workgroups, with chunks no shorter than SPLIT_MIN_K. */
const SPLIT_TARGET_WORKGROUPS = 256;
const SPLIT_MIN_K = 256;
const SPLIT_MAX = 64;

/** Rows and columns of C one invocation of matmul_register_vec4 computes (BLOCK in the WGSL). */
export const VEC4_BLOCK = 16;
/** matmul_register_vec4_sg: lanes of a subgroup, one workgroup (SG in the WGSL). */
export const SUBGROUP_LANES = 4;
/** matmul_subgroup: rows of C per workgroup (TR in shaders/matmul/subgroup.wgsl). */
export const SUBGROUP_TILE_ROWS = 16;

/** Columns and rows of C one workgroup of the variant's 2-D kernel (matmul_tiled) computes. */
function tileOf(variant: MatmulVariant): [number, number] {
  const [x, y] = MATMUL[variant].workgroup;
  return [x * TN, y * TM];
}

function checkGrid(gpu: Gpu, what: string, grid: readonly number[]): void {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (grid.some((g) => g > max)) {
    fail(what, `needs a grid of (${grid.join(', ')}) workgroups, over this device's ${max} per dimension`);
  }
}

/** How many K chunks to compute in parallel when the output alone gives too few workgroups. */
function autoSplits(variant: MatmulVariant, m: number, n: number, k: number): number {
  if (!MATMUL[variant].splitK) return 1;
  const [tn, tm] = tileOf(variant);
  const workgroups = Math.ceil(m / tm) * Math.ceil(n / tn);
  if (workgroups >= SPLIT_TARGET_WORKGROUPS) return 1;
  return Math.max(1, Math.min(SPLIT_MAX, Math.ceil(SPLIT_TARGET_WORKGROUPS / workgroups), Math.floor(k / SPLIT_MIN_K)));
}

/**
 * Whether A and B can be read as aligned vec4s four k at a time: K and the dimension each is
 * contiguous in (M for A when transposed, N for B unless transposed) are multiples of 4, which
 * batch strides and split-K chunks (multiples of 16) keep. matmul_register_vec4 has no k tail.
 */
function vec4Operands(m: number, n: number, k: number, transA: boolean, transB: boolean): boolean {
  return k % 4 === 0 && (!transA || m % 4 === 0) && (transB || n % 4 === 0);
}

/**
 * Workgroups (x, y) of a register kernel for an M x N product: one `rows` x `cols` block of C per
 * invocation (`cols` defaults to `rows`), numbered linearly over 1-D workgroups of `perGroup`
 * (block_origin in product.wgsl).
 */
export function linearBlockGrid(gpu: Gpu, m: number, n: number, rows: number, perGroup: number, cols = rows): [number, number] {
  return gpu.grid(Math.ceil((Math.ceil(m / rows) * Math.ceil(n / cols)) / perGroup));
}

/** The kernels whose blocks shrink to a small C (register_vec4_lanes.wgsl's; not the subgroup one). */
function smallBlocks(entry: MatmulEntry): boolean {
  return entry === 'matmul_register_vec4' || entry === 'matmul_register_gather';
}

/**
 * Column quads of those kernels' blocks: as many as C's columns fill, at most 4. Their blocks
 * load and multiply every quad they have, so a 16-column block of an 11-column C (an output
 * head's) did 16/11 of the work; with 3 quads, 12/11. A narrower block would cost a wide C more
 * loads of op(A) per product (one row quad per 4 columns), so only C narrower than 13 columns
 * (one block wide) gets one.
 */
function colQuadsOf(entry: MatmulEntry, n: number): number {
  return smallBlocks(entry) ? Math.min(4, Math.ceil(n / TN)) : 4;
}

/**
 * Row quads of the same kernels' blocks: as many as C's rows fill, at most 4. A sampling step
 * multiplies a batch of one token per sequence (8 rows in the benchmark), which 16-row blocks
 * computed twice over; C with 13 rows or more keeps 16-row blocks.
 */
function rowQuadsOf(entry: MatmulEntry, m: number): number {
  return smallBlocks(entry) ? Math.min(4, Math.ceil(m / TM)) : 4;
}

/** The launch's workgroups; `quads` are its blocks' row and column quads (rowQuadsOf, colQuadsOf). */
function gridOf(gpu: Gpu, variant: MatmulVariant, entry: MatmulEntry, m: number, n: number, z: number, quads: [number, number]): [number, number, number] {
  const v = MATMUL[variant];
  if (smallBlocks(entry)) return [...linearBlockGrid(gpu, m, n, quads[0] * TM, v.vec4Workgroup, quads[1] * TN), z];
  // One workgroup (one subgroup of SG lanes) per SUBGROUP_TILE_ROWS x (4 SG) tile.
  if (entry === 'matmul_subgroup') return [Math.ceil(n / (4 * gpu.subgroupSize!)), Math.ceil(m / SUBGROUP_TILE_ROWS), z];
  // One workgroup per VEC4_BLOCK x (SUBGROUP_LANES * VEC4_BLOCK) superblock.
  if (entry === 'matmul_register_vec4_sg') return [...gpu.grid(Math.ceil(m / VEC4_BLOCK) * Math.ceil(n / (SUBGROUP_LANES * VEC4_BLOCK))), z];
  if (entry === 'matmul_register') return [...linearBlockGrid(gpu, m, n, TM, v.workgroup[0] * v.workgroup[1]), z];
  const [tn, tm] = tileOf(variant);
  return [Math.ceil(n / tn), Math.ceil(m / tm), z];
}

/** Which column-sum kernel and workgroup: vec4 where asked (or by default) and cols allow it. */
function sumEntry(what: string, variant: MatmulVariant, cols: number, vec4?: boolean): SumRowsKernel {
  const v = MATMUL[variant];
  if (vec4 && cols % 4 !== 0) fail(what, `vec4 column sums need cols a multiple of 4; got ${cols}`);
  if (vec4 ?? (v.vec4ColumnSums && cols % 4 === 0)) return { entry: 'sum_rows_vec4', workgroup: v.vec4SumWorkgroup };
  return { entry: 'sum_rows', workgroup: v.sumWorkgroup };
}

function sumGrid(gpu: Gpu, e: SumRowsKernel, cols: number, rows: number, rowChunk: number): [number, number, number] {
  const invocations = e.entry === 'sum_rows_vec4' ? cols / 4 : cols;
  const [x, y] = gpu.grid(Math.ceil(invocations / e.workgroup));
  return [x, y, Math.ceil(rows / rowChunk)];
}

/** Checks a product's sizes and options and resolves what to dispatch. */
export function planMatmul(what: string, gpu: Gpu, s: MatmulShape): MatmulPlan {
  const { batch, m, n, k } = s;
  for (const [name, v] of Object.entries({ batch, m, n, k })) checkPositiveInt(what, name, v);
  const variant = variantOf(what, gpu, s.variant);
  if (s.splitK !== undefined) checkPositiveInt(what, 'splitK', s.splitK);
  const shape = {
    batch,
    m,
    n,
    k,
    transA: s.transA ?? false,
    transB: s.transB ?? false,
    accumulate: s.accumulate ?? false,
    aShared: s.aShared ?? false,
    bShared: s.bShared ?? false,
    sumBatch: s.sumBatch ?? false,
  };
  const { transA, transB, aShared, bShared, sumBatch } = shape;

  let l: Omit<MatmulLaunch, 'entry' | 'grid' | 'transA' | 'transB' | 'rowQuads' | 'colQuads'>;
  if (batch > 1 && bShared && !aShared && !transA && !sumBatch) {
    // [batch, M, K] x [K, N] is one [batch * M, K] x [K, N] product: fewer, fuller tiles.
    l = { m: batch * m, n, k, batch: 1, splits: 1, kChunk: k, strideA: 0, strideB: 0, strideC: 0 };
  } else if (batch > 1 && sumBatch && transA && !transB && !aShared && !bShared) {
    // Both operands keep K outermost, so the batch items stack along K: sum_b A[b]^T B[b] = A^T B.
    l = { m, n, k: batch * k, batch: 1, splits: 1, kChunk: batch * k, strideA: 0, strideB: 0, strideC: 0 };
  } else {
    l = { m, n, k, batch, splits: 1, kChunk: k, strideA: aShared ? 0 : m * k, strideB: bShared ? 0 : k * n, strideC: m * n };
  }

  const reduceBatch = sumBatch && l.batch > 1;
  if (!reduceBatch && l.batch === 1) {
    const splits = s.splitK ?? autoSplits(variant, l.m, n, l.k);
    // K chunks are whole slices of the tiled kernel (the register kernel takes any chunk).
    const slice = MATMUL.gpu.sliceK;
    const kChunk = Math.ceil(Math.ceil(l.k / splits) / slice) * slice;
    l.splits = Math.ceil(l.k / kChunk);
    l.kChunk = kChunk;
    l.strideC = l.m * n;
  } else if (s.splitK !== undefined && s.splitK > 1) {
    fail(what, `splitK applies to a single product; this call has ${l.batch} batch items`);
  }
  const v = MATMUL[variant];
  // 'swiftshader' shares loads among its SIMD lanes (subgroups of SUBGROUP_LANES); 'gpu' makes a
  // workgroup of one subgroup, of whatever fixed size the device has (Gpu.subgroupSize).
  const sgWanted = variant === 'swiftshader' ? `subgroups of ${SUBGROUP_LANES}` : 'one fixed subgroup size of at least 4';
  const hasSubgroups = variant === 'swiftshader' ? gpu.subgroupSize === SUBGROUP_LANES : (gpu.subgroupSize ?? 0) >= 4;
  if (s.subgroups && !hasSubgroups) {
    fail(what, `subgroups: true needs the 'subgroups' feature with ${sgWanted}; this device has ${gpu.subgroupSize ?? 'none'}`);
  }
  const vec4 = vec4Operands(l.m, n, l.k, transA, transB);
  let entry: MatmulEntry = v.vec4Entry && vec4 ? v.vec4Entry : (v.gatherEntry ?? v.entry);
  if (variant === 'swiftshader') {
    // The subgroup kernel's blocks are 16 rows: a C with fewer runs matmul_register_vec4's smaller
    // blocks unless subgroups are asked for.
    if (entry === v.vec4Entry && (s.subgroups ?? (hasSubgroups && rowQuadsOf(entry, l.m) === 4))) entry = MATMUL.swiftshader.subgroupEntry;
  } else if (s.subgroups && v.subgroupEntry) {
    // Not yet the default: no real GPU has timed it against matmul_tiled (README "Benchmarks").
    entry = v.subgroupEntry;
  }
  if (s.entry !== undefined) {
    const own: readonly (MatmulEntry | null)[] = [v.entry, v.vec4Entry, v.subgroupEntry, v.gatherEntry];
    if (!own.includes(s.entry)) fail(what, `entry '${s.entry}' is not a kernel of the '${variant}' variant (${own.filter((e) => e).join(', ')})`);
    if ((s.entry === v.vec4Entry || (variant === 'swiftshader' && s.entry === v.subgroupEntry)) && !vec4) {
      fail(what, `entry '${s.entry}' reads vec4s: it needs K and the operands' contiguous dimensions multiples of 4 (M ${l.m}, N ${n}, K ${l.k})`);
    }
    if (s.entry === v.subgroupEntry && !hasSubgroups) fail(what, `entry '${s.entry}' needs ${sgWanted}; this device has ${gpu.subgroupSize ?? 'none'}`);
    entry = s.entry;
  }
  const rowQuads = rowQuadsOf(entry, l.m);
  const colQuads = colQuadsOf(entry, n);
  const grid = gridOf(gpu, variant, entry, l.m, n, l.batch * l.splits, [rowQuads, colQuads]);
  const launch: MatmulLaunch = { ...l, entry, transA, transB, rowQuads, colQuads, grid };
  checkGrid(gpu, what, launch.grid);
  let finish: SumRowsPlan | null = null;
  if (l.splits > 1 || reduceBatch) {
    // Each batch item or K chunk writes its own product; one pass adds them in order.
    const count = l.batch * l.splits;
    const e = sumEntry(what, variant, l.m * n);
    finish = {
      rows: count,
      cols: l.m * n,
      rowChunk: count,
      chunks: 1,
      grid: sumGrid(gpu, e, l.m * n, count, count),
      finishGrid: null,
      accumulate: shape.accumulate,
      ...e,
    };
    checkGrid(gpu, what, finish.grid);
  }
  return { shape, variant, launch, finish };
}

/** Checks a column sum's sizes and resolves its passes. */
export function planSumRows(what: string, gpu: Gpu, s: SumRowsShape): SumRowsPlan {
  const { rows, cols } = s;
  checkPositiveInt(what, 'rows', rows);
  checkPositiveInt(what, 'cols', cols);
  const variant = variantOf(what, gpu, s.variant);
  const twoPass = MATMUL[variant].twoPassColumnSums && rows > 2 * ROW_CHUNK;
  let rowChunk = s.rowChunk ?? (twoPass ? ROW_CHUNK : rows);
  checkPositiveInt(what, 'rowChunk', rowChunk);
  rowChunk = Math.min(rowChunk, rows);
  const chunks = Math.ceil(rows / rowChunk);
  const e = sumEntry(what, variant, cols, s.vec4);
  const grid = sumGrid(gpu, e, cols, rows, rowChunk);
  checkGrid(gpu, what, grid);
  const finishGrid = chunks > 1 ? sumGrid(gpu, e, cols, chunks, chunks) : null;
  return { rows, cols, rowChunk, chunks, grid, finishGrid, accumulate: s.accumulate ?? false, ...e };
}
