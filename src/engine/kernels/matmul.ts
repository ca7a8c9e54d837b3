// GPU primitives of the matmul family: batched C = op(A) op(B) (+ bias) (+= C) and the
// deterministic column sum behind bias gradients. Plain functions that record dispatches; the tape
// lives in ops/matmul.ts. Kernels: shaders/matmul.wgsl.
import matmulWgsl from '../../../shaders/matmul.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import { MATMUL, variantOf, type Variant } from '../variants.ts';
import { empty, fromArray, type Tensor } from '../tensor.ts';

/** 'swiftshader': 4x4 register blocks straight from storage; 'gpu': workgroup-memory tiles (src/engine/variants.ts). */
export type MatmulVariant = Variant;

export interface MatmulArgs {
  /** [batch, M, K], or [batch, K, M] with transA; [M, K] / [K, M] when aShared. */
  a: Tensor;
  /** [batch, K, N], or [batch, N, K] with transB; [K, N] / [N, K] when bShared (a weight). */
  b: Tensor;
  /** [batch, M, N], or [M, N] with sumBatch. */
  c: Tensor;
  /** [N], added to every row of C. */
  bias?: Tensor | null;
  batch: number;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
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
}

export interface SumRowsArgs {
  /** [rows, cols] */
  x: Tensor;
  /** [cols] */
  out: Tensor;
  rows: number;
  cols: number;
  /** out += sum instead of out = sum. */
  accumulate?: boolean;
  /**
   * Rows per partial sum of the first of two passes (both in a fixed order). Default: one pass on
   * SwiftShader, ROW_CHUNK on a GPU when rows are many; `rows` forces one pass.
   */
  rowChunk?: number;
}

const LABEL = 'matmul';
/** Each invocation's block of C is TM x TN (constants in the WGSL). */
const TM = 4;
const TN = 4;
/** sum_rows invocations per workgroup. */
const SUM_WG = 256;
/** Rows per partial sum in the two-pass column sum. */
export const ROW_CHUNK = 256;
/** Split-K on a GPU: aim for this many workgroups, with chunks no shorter than SPLIT_MIN_K. */
const SPLIT_TARGET_WORKGROUPS = 256;
const SPLIT_MIN_K = 256;
const SPLIT_MAX = 64;

/** Columns and rows of C one workgroup of the variant computes. */
function tileOf(variant: MatmulVariant): [number, number] {
  const [x, y] = MATMUL[variant].workgroup;
  return [x * TN, y * TM];
}

function checkDims(what: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${what}: ${name} must be a positive integer, got ${v}`);
  }
}

function checkF32(what: string, t: Tensor, role: string): void {
  if (t.dtype !== 'f32') throw new Error(`${what}: ${role} (${t.label}) must be f32, got ${t.dtype}`);
  if (t.isDisposed) throw new Error(`${what}: ${role} (${t.label}) has been disposed`);
}

function checkSize(what: string, t: Tensor, role: string, expected: number, layout: string): void {
  if (t.size !== expected) {
    throw new Error(
      `${what}: ${role} (${t.label}, shape [${t.shape.join(', ')}]) has ${t.size} values, expected ${layout} = ${expected}`,
    );
  }
}

function checkGrid(gpu: Gpu, what: string, grid: readonly number[]): void {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (grid.some((g) => g > max)) {
    throw new Error(`${what}: needs a grid of (${grid.join(', ')}) workgroups, over this device's ${max} per dimension`);
  }
}

/** How many K chunks to compute in parallel when the output alone gives too few workgroups. */
function autoSplits(gpu: Gpu, variant: MatmulVariant, m: number, n: number, k: number): number {
  if (!MATMUL[variant].splitK) return 1;
  const [tn, tm] = tileOf(variant);
  const workgroups = Math.ceil(m / tm) * Math.ceil(n / tn);
  if (workgroups >= SPLIT_TARGET_WORKGROUPS) return 1;
  return Math.max(1, Math.min(SPLIT_MAX, Math.ceil(SPLIT_TARGET_WORKGROUPS / workgroups), Math.floor(k / SPLIT_MIN_K)));
}

interface Launch {
  a: Tensor;
  b: Tensor;
  c: Tensor;
  bias: Tensor | null;
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
  accumulate: boolean;
  transA: boolean;
  transB: boolean;
  variant: MatmulVariant;
}

function gridOf(l: Pick<Launch, 'm' | 'n' | 'batch' | 'splits' | 'variant'>): [number, number, number] {
  const [tn, tm] = tileOf(l.variant);
  return [Math.ceil(l.n / tn), Math.ceil(l.m / tm), l.batch * l.splits];
}

function launch(gpu: Gpu, l: Launch): void {
  const constants: Record<string, number> = { TRANS_A: l.transA ? 1 : 0, TRANS_B: l.transB ? 1 : 0 };
  const v = MATMUL[l.variant];
  if (v.sliceK === 0) {
    constants.RWG_X = v.workgroup[0];
    constants.RWG_Y = v.workgroup[1];
  } else {
    constants.TWG_X = v.workgroup[0];
    constants.TWG_Y = v.workgroup[1];
    constants.BK = v.sliceK;
  }
  const kernel = gpu.kernel({ label: LABEL, code: matmulWgsl, entry: v.entry, constants });
  kernel.run(
    // Without a bias the binding still needs a buffer; A is read-only, so it may alias it.
    { a: l.a, b: l.b, c: l.c, bias: l.bias ?? l.a },
    {
      m: l.m,
      n: l.n,
      k: l.k,
      strideA: l.strideA,
      strideB: l.strideB,
      strideC: l.strideC,
      splits: l.splits,
      kChunk: l.kChunk,
      accumulate: l.accumulate ? 1 : 0,
      hasBias: l.bias ? 1 : 0,
    },
    gridOf(l),
  );
}

interface SumLaunch {
  x: Tensor;
  out: Tensor;
  rows: number;
  cols: number;
  rowChunk: number;
  accumulate: boolean;
  bias: Tensor | null;
  biasCols: number;
}

function sumGrid(gpu: Gpu, cols: number, rows: number, rowChunk: number): [number, number, number] {
  const [x, y] = gpu.grid(Math.ceil(cols / SUM_WG));
  return [x, y, Math.ceil(rows / rowChunk)];
}

function sumLaunch(gpu: Gpu, s: SumLaunch): void {
  const kernel = gpu.kernel({ label: LABEL, code: matmulWgsl, entry: 'sum_rows', constants: { SWG: SUM_WG } });
  kernel.run(
    { sumIn: s.x, sumOut: s.out, sumBias: s.bias ?? s.x },
    {
      rows: s.rows,
      cols: s.cols,
      rowChunk: s.rowChunk,
      accumulate: s.accumulate ? 1 : 0,
      hasBias: s.bias ? 1 : 0,
      biasCols: s.biasCols,
    },
    sumGrid(gpu, s.cols, s.rows, s.rowChunk),
  );
}

/**
 * C = op(A) op(B) (+ bias) for each batch item, or C += ... with `accumulate`. Row-major float32.
 * Deterministic: every element is summed in a fixed order (split-K and sumBatch partials included).
 */
export function matmulInto(gpu: Gpu, args: MatmulArgs): void {
  const what = 'matmulInto';
  const { a, b, c, batch, m, n, k } = args;
  const bias = args.bias ?? null;
  const transA = args.transA ?? false;
  const transB = args.transB ?? false;
  const aShared = args.aShared ?? false;
  const bShared = args.bShared ?? false;
  const sumBatch = args.sumBatch ?? false;
  const accumulate = args.accumulate ?? false;
  checkDims(what, { batch, m, n, k });
  const variant = variantOf(what, gpu, args.variant);
  if (args.splitK !== undefined && (!Number.isInteger(args.splitK) || args.splitK < 1)) {
    throw new Error(`${what}: splitK must be a positive integer, got ${args.splitK}`);
  }
  checkF32(what, a, 'A');
  checkF32(what, b, 'B');
  checkF32(what, c, 'C');
  const aLayout = transA ? '[K, M]' : '[M, K]';
  const bLayout = transB ? '[N, K]' : '[K, N]';
  checkSize(what, a, 'A', (aShared ? 1 : batch) * m * k, aShared ? aLayout : `batch x ${aLayout}`);
  checkSize(what, b, 'B', (bShared ? 1 : batch) * k * n, bShared ? bLayout : `batch x ${bLayout}`);
  checkSize(what, c, 'C', (sumBatch ? 1 : batch) * m * n, sumBatch ? '[M, N]' : 'batch x [M, N]');
  if (bias) {
    checkF32(what, bias, 'bias');
    checkSize(what, bias, 'bias', n, '[N]');
    if (bias.buffer === c.buffer) throw new Error(`${what}: bias (${bias.label}) and C (${c.label}) share a buffer`);
  }
  for (const [role, t] of [['A', a], ['B', b]] as const) {
    if (t.buffer === c.buffer) throw new Error(`${what}: ${role} (${t.label}) and C (${c.label}) share a buffer`);
  }

  const base = { a, b, c, bias, n, transA, transB, variant, accumulate };
  let plan: Launch;
  if (batch > 1 && bShared && !aShared && !transA && !sumBatch) {
    // [batch, M, K] x [K, N] is one [batch * M, K] x [K, N] product: fewer, fuller tiles.
    plan = { ...base, m: batch * m, k, batch: 1, splits: 1, kChunk: k, strideA: 0, strideB: 0, strideC: 0 };
  } else if (batch > 1 && sumBatch && transA && !transB && !aShared && !bShared) {
    // Both operands keep K outermost, so the batch items stack along K: sum_b A[b]^T B[b] = A^T B.
    plan = { ...base, m, k: batch * k, batch: 1, splits: 1, kChunk: batch * k, strideA: 0, strideB: 0, strideC: 0 };
  } else {
    plan = {
      ...base,
      m,
      k,
      batch,
      splits: 1,
      kChunk: k,
      strideA: aShared ? 0 : m * k,
      strideB: bShared ? 0 : k * n,
      strideC: m * n,
    };
  }

  const reduceBatch = sumBatch && plan.batch > 1;
  if (!reduceBatch && plan.batch === 1) {
    const splits = args.splitK ?? autoSplits(gpu, variant, plan.m, n, plan.k);
    // K chunks are whole slices of the tiled kernel (the register kernel takes any chunk).
    const slice = MATMUL.gpu.sliceK;
    const kChunk = Math.ceil(Math.ceil(plan.k / splits) / slice) * slice;
    plan.splits = Math.ceil(plan.k / kChunk);
    plan.kChunk = kChunk;
    plan.strideC = plan.m * n;
  } else if (args.splitK !== undefined && args.splitK > 1) {
    throw new Error(`${what}: splitK applies to a single product; this call has ${plan.batch} batch items`);
  }
  const partials = plan.splits > 1 || reduceBatch;
  checkGrid(gpu, what, gridOf(plan));
  if (partials) checkGrid(gpu, what, sumGrid(gpu, plan.m * n, plan.batch * plan.splits, plan.batch * plan.splits));

  if (!partials) {
    launch(gpu, plan);
    return;
  }
  // Each batch item or K chunk writes its own product; sum_rows adds them in order, then the bias.
  const count = plan.batch * plan.splits;
  const parts = empty(gpu, [count, plan.m, n], 'matmul.partials'); // [batch * splits, M, N]
  launch(gpu, { ...plan, c: parts, bias: null, accumulate: false });
  sumLaunch(gpu, { x: parts, out: c, rows: count, cols: plan.m * n, rowChunk: count, accumulate, bias, biasCols: n });
  // Later work that reuses the buffer is recorded after the reads above, so it is safe to return now.
  parts.dispose();
}

/** out[col] (+)= sum over rows of x[row, col]: a bias gradient. Fixed order, no atomics. */
export function sumRowsInto(gpu: Gpu, args: SumRowsArgs): void {
  const what = 'sumRowsInto';
  const { x, out, rows, cols } = args;
  const accumulate = args.accumulate ?? false;
  checkDims(what, { rows, cols });
  checkF32(what, x, 'x');
  checkF32(what, out, 'out');
  checkSize(what, x, 'x', rows * cols, '[rows, cols]');
  checkSize(what, out, 'out', cols, '[cols]');
  if (x.buffer === out.buffer) throw new Error(`${what}: x (${x.label}) and out (${out.label}) share a buffer`);
  let rowChunk = args.rowChunk ?? (MATMUL[variantOf(what, gpu)].twoPassColumnSums && rows > 2 * ROW_CHUNK ? ROW_CHUNK : rows);
  if (!Number.isInteger(rowChunk) || rowChunk < 1) {
    throw new Error(`${what}: rowChunk must be a positive integer, got ${rowChunk}`);
  }
  rowChunk = Math.min(rowChunk, rows);
  const chunks = Math.ceil(rows / rowChunk);
  checkGrid(gpu, what, sumGrid(gpu, cols, rows, rowChunk));
  if (chunks === 1) {
    sumLaunch(gpu, { x, out, rows, cols, rowChunk: rows, accumulate, bias: null, biasCols: 1 });
    return;
  }
  // Two passes: many invocations sum ROW_CHUNK rows each, then one pass adds the partials.
  const parts = empty(gpu, [chunks, cols], 'sumRows.partials'); // [chunks, cols]
  sumLaunch(gpu, { x, out: parts, rows, cols, rowChunk, accumulate: false, bias: null, biasCols: 1 });
  sumLaunch(gpu, { x: parts, out, rows: chunks, cols, rowChunk: chunks, accumulate, bias: null, biasCols: 1 });
  parts.dispose();
}

export interface MatmulRate {
  variant: MatmulVariant;
  gflops: number;
  msPerCall: number;
}

/**
 * Times `iterations` products C[M, N] = A[M, K] B[K, N] (after one untimed warm-up that compiles
 * the pipeline) and returns GFLOP/s, counting 2 M N K flops per product.
 */
export async function matmulGflops(
  gpu: Gpu,
  m: number,
  n: number,
  k: number,
  iterations: number,
  opts: { variant?: MatmulVariant; transA?: boolean; transB?: boolean } = {},
): Promise<MatmulRate> {
  checkDims('matmulGflops', { m, n, k, iterations });
  const variant = variantOf('matmulGflops', gpu, opts.variant);
  // Values in [-1, 1): a reused pool buffer could hold denormals or NaNs, which slow CPU emulation.
  const fill = (len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i));
  const a = fromArray(gpu, fill(m * k), [m, k], 'bench.a'); // [M, K]
  const b = fromArray(gpu, fill(k * n), [k, n], 'bench.b'); // [K, N]
  const c = empty(gpu, [m, n], 'bench.c'); // [M, N]
  try {
    const call = () =>
      matmulInto(gpu, { a, b, c, batch: 1, m, n, k, variant, transA: opts.transA, transB: opts.transB });
    call();
    await gpu.sync();
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) call();
    await gpu.sync();
    const ms = (performance.now() - t0) / iterations;
    return { variant, gflops: (2 * m * n * k) / (ms * 1e6), msPerCall: ms };
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
}
