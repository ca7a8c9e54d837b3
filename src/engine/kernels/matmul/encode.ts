// The encoders of the matmul family: they record the dispatches of a resolved plan (plan.ts) and
// validate nothing. Kernels: shaders/matmul/ (shaders.ts).
import type { Gpu } from '../../gpu.ts';
import { empty, type Tensor } from '../../tensor.ts';
import { MATMUL } from '../../variants.ts';
import { type MatmulLaunch, type MatmulPlan, type MatmulVariant, type SumRowsKernel, type SumRowsPlan } from './plan.ts';
import { MATMUL_KERNELS, type MatmulKernel } from './shaders.ts';

export interface MatmulTensors {
  /** [batch, M, K], or [batch, K, M] with transA; [M, K] / [K, M] when aShared. */
  a: Tensor;
  /** [batch, K, N], or [batch, N, K] with transB; [K, N] / [N, K] when bShared (a weight). */
  b: Tensor;
  /** [batch, M, N], or [M, N] with sumBatch. */
  c: Tensor;
  /** [N], added to every row of C. */
  bias?: Tensor | null;
}

function productKernel(gpu: Gpu, variant: MatmulVariant, l: MatmulLaunch) {
  const v = MATMUL[variant];
  const constants: Record<string, number> = { TRANS_A: l.transA ? 1 : 0, TRANS_B: l.transB ? 1 : 0 };
  if (l.entry === 'matmul_register_vec4' || l.entry === 'matmul_register_gather') {
    constants.RWG = v.vec4Workgroup;
    // The defaults (4) are left out, so a large C's pipeline is the one it always was.
    if (l.rowQuads !== 4) constants.ROW_QUADS = l.rowQuads;
    if (l.colQuads !== 4) constants.COL_QUADS = l.colQuads;
    if (l.entry === 'matmul_register_gather') constants.K_TAIL = l.k % 4 !== 0 || l.kChunk % 4 !== 0 ? 1 : 0;
  } else if (l.entry === 'matmul_subgroup') {
    constants.SG = gpu.subgroupSize!;
  } else if (l.entry === 'matmul_register_vec4_sg') {
    // Its workgroup is one subgroup of 4 (a constant in the WGSL).
  } else if (v.sliceK === 0) {
    constants.RWG = v.workgroup[0] * v.workgroup[1];
  } else {
    constants.TWG_X = v.workgroup[0];
    constants.TWG_Y = v.workgroup[1];
    constants.BK = v.sliceK;
  }
  const spec: MatmulKernel = MATMUL_KERNELS[l.entry];
  return gpu.kernel({ ...spec, constants });
}

function encodeProduct(gpu: Gpu, plan: MatmulPlan, a: Tensor, b: Tensor, c: Tensor, bias: Tensor | null, accumulate: boolean): void {
  const l = plan.launch;
  productKernel(gpu, plan.variant, l).run(
    // Without a bias the binding still needs a buffer; A is read-only, so it may alias it.
    { a, b, c, bias: bias ?? a },
    {
      m: l.m,
      n: l.n,
      k: l.k,
      strideA: l.strideA,
      strideB: l.strideB,
      strideC: l.strideC,
      splits: l.splits,
      kChunk: l.kChunk,
      accumulate: accumulate ? 1 : 0,
      hasBias: bias ? 1 : 0,
    },
    l.grid,
  );
}

/** One sum_rows pass: out (+)= the sums of x's rows in chunks of rowChunk, plus the bias if given. */
function sumPass(
  gpu: Gpu,
  x: Tensor,
  out: Tensor,
  u: { rows: number; cols: number; rowChunk: number; accumulate: boolean; bias: Tensor | null; biasCols: number },
  plan: SumRowsKernel,
  grid: [number, number, number],
): void {
  gpu.kernel({ ...MATMUL_KERNELS[plan.entry], constants: { SWG: plan.workgroup } }).run(
    { x, out, bias: u.bias ?? x },
    {
      rows: u.rows,
      cols: u.cols,
      rowChunk: u.rowChunk,
      accumulate: u.accumulate ? 1 : 0,
      hasBias: u.bias ? 1 : 0,
      biasCols: u.biasCols,
    },
    grid,
  );
}

/**
 * C = op(A) op(B) (+ bias) for each batch item, or C += ... with `accumulate`. Row-major float32.
 * Deterministic: every element is summed in a fixed order (split-K and sumBatch partials included).
 */
export function encodeMatmul(gpu: Gpu, plan: MatmulPlan, t: MatmulTensors): void {
  const { a, b, c } = t;
  const bias = t.bias ?? null;
  const f = plan.finish;
  if (!f) {
    encodeProduct(gpu, plan, a, b, c, bias, plan.shape.accumulate);
    return;
  }
  // Each batch item or K chunk writes its own product; sum_rows adds them in order, then the bias.
  const parts = empty(gpu, [f.rows, plan.launch.m, plan.launch.n], 'matmul.partials'); // [batch * splits, M, N]
  encodeProduct(gpu, plan, a, b, parts, null, false);
  sumPass(gpu, parts, c, { rows: f.rows, cols: f.cols, rowChunk: f.rowChunk, accumulate: f.accumulate, bias, biasCols: plan.shape.n }, f, f.grid);
  // Later work that reuses the buffer is recorded after the reads above, so it is safe to return now.
  parts.dispose();
}

/** out[col] (+)= sum over rows of x[row, col]: a bias gradient. Fixed order, no atomics. */
export function encodeSumRows(gpu: Gpu, plan: SumRowsPlan, x: Tensor, out: Tensor): void {
  const { rows, cols, rowChunk, chunks, accumulate } = plan;
  if (chunks === 1) {
    sumPass(gpu, x, out, { rows, cols, rowChunk: rows, accumulate, bias: null, biasCols: 1 }, plan, plan.grid);
    return;
  }
  // Two passes: many invocations sum rowChunk rows each, then one pass adds the partials.
  const parts = empty(gpu, [chunks, cols], 'sumRows.partials'); // [chunks, cols]
  sumPass(gpu, x, parts, { rows, cols, rowChunk, accumulate: false, bias: null, biasCols: 1 }, plan, plan.grid);
  sumPass(gpu, parts, out, { rows: chunks, cols, rowChunk: chunks, accumulate, bias: null, biasCols: 1 }, plan, plan.finishGrid!);
  parts.dispose();
}
