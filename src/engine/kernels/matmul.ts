// GPU primitives of the matmul family: batched C = op(A) op(B) (+ bias) (+= C) and the
// deterministic column sum behind bias gradients. The family lives in ./matmul/: plan.ts (sizes
// to a checked plan), encode.ts (the dispatches of a plan), shaders.ts (the WGSL files of
// shaders/matmul/). This file is the checked entry for direct callers (tests, benchmarks): it
// checks the tensors against the plan, then calls the same encoders. The ops (ops/matmul.ts)
// check their tensors, plan and encode themselves.
import { checkPositiveInt, fail } from '../check.ts';
import type { Gpu } from '../gpu.ts';
import { empty, fromArray, type Tensor } from '../tensor.ts';
import { encodeMatmul, encodeSumRows, type MatmulTensors } from './matmul/encode.ts';
import { planMatmul, planSumRows, type MatmulEntry, type MatmulPlan, type MatmulShape, type MatmulVariant, type SumRowsShape } from './matmul/plan.ts';

export { encodeMatmul, encodeSumRows, type MatmulTensors } from './matmul/encode.ts';
export {
  ROW_CHUNK,
  planMatmul,
  planSumRows,
  type MatmulEntry,
  type MatmulPlan,
  type MatmulShape,
  type MatmulVariant,
  type SumRowsPlan,
  type SumRowsShape,
} from './matmul/plan.ts';

export interface MatmulArgs extends MatmulShape, MatmulTensors {}

export interface SumRowsArgs extends SumRowsShape {
  /** [rows, cols] */
  x: Tensor;
  /** [cols] */
  out: Tensor;
}

function checkF32(what: string, t: Tensor, role: string): void {
  if (t.dtype !== 'f32') fail(what, `${role} (${t.label}) must be f32, got ${t.dtype}`);
  if (t.isDisposed) fail(what, `${role} (${t.label}) has been disposed`);
}

function checkSize(what: string, t: Tensor, role: string, expected: number, layout: string): void {
  if (t.size !== expected) {
    fail(what, `${role} (${t.label}, shape [${t.shape.join(', ')}]) has ${t.size} values, expected ${layout} = ${expected}`);
  }
}

function checkNotC(what: string, role: string, t: Tensor, c: Tensor): void {
  if (t.buffer === c.buffer) fail(what, `${role} (${t.label}) and C (${c.label}) share a buffer`);
}

/** A, B, C and the bias against the plan's sizes and layout; C aliases no input. */
function checkMatmulTensors(what: string, plan: MatmulPlan, t: MatmulTensors): void {
  const { batch, m, n, k, transA, transB, aShared, bShared, sumBatch } = plan.shape;
  const { a, b, c } = t;
  checkF32(what, a, 'A');
  checkF32(what, b, 'B');
  checkF32(what, c, 'C');
  const aLayout = transA ? '[K, M]' : '[M, K]';
  const bLayout = transB ? '[N, K]' : '[K, N]';
  checkSize(what, a, 'A', (aShared ? 1 : batch) * m * k, aShared ? aLayout : `batch x ${aLayout}`);
  checkSize(what, b, 'B', (bShared ? 1 : batch) * k * n, bShared ? bLayout : `batch x ${bLayout}`);
  checkSize(what, c, 'C', (sumBatch ? 1 : batch) * m * n, sumBatch ? '[M, N]' : 'batch x [M, N]');
  if (t.bias) {
    checkF32(what, t.bias, 'bias');
    checkSize(what, t.bias, 'bias', n, '[N]');
    checkNotC(what, 'bias', t.bias, c);
  }
  checkNotC(what, 'A', a, c);
  checkNotC(what, 'B', b, c);
}

/**
 * C = op(A) op(B) (+ bias) for each batch item, or C += ... with `accumulate`. Row-major float32.
 * Deterministic: every element is summed in a fixed order (split-K and sumBatch partials included).
 */
export function matmulInto(gpu: Gpu, args: MatmulArgs): void {
  const what = 'matmulInto';
  const plan = planMatmul(what, gpu, args);
  checkMatmulTensors(what, plan, args);
  encodeMatmul(gpu, plan, args);
}

/** out[col] (+)= sum over rows of x[row, col]: a bias gradient. Fixed order, no atomics. */
export function sumRowsInto(gpu: Gpu, args: SumRowsArgs): void {
  const what = 'sumRowsInto';
  const plan = planSumRows(what, gpu, args);
  const { x, out, rows, cols } = args;
  checkF32(what, x, 'x');
  checkF32(what, out, 'out');
  checkSize(what, x, 'x', rows * cols, '[rows, cols]');
  checkSize(what, out, 'out', cols, '[cols]');
  if (x.buffer === out.buffer) fail(what, `x (${x.label}) and out (${out.label}) share a buffer`);
  encodeSumRows(gpu, plan, x, out);
}

export interface MatmulRate {
  variant: MatmulVariant;
  /** The product kernel that ran. */
  entry: MatmulEntry;
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
  opts: { variant?: MatmulVariant; transA?: boolean; transB?: boolean; entry?: MatmulEntry } = {},
): Promise<MatmulRate> {
  const what = 'matmulGflops';
  const plan = planMatmul(what, gpu, { batch: 1, m, n, k, variant: opts.variant, transA: opts.transA, transB: opts.transB, entry: opts.entry });
  checkPositiveInt(what, 'iterations', iterations);
  // Values in [-1, 1): a reused pool buffer could hold denormals or NaNs, which slow CPU emulation.
  const fill = (len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i));
  const a = fromArray(gpu, fill(m * k), [m, k], 'bench.a'); // [M, K]
  const b = fromArray(gpu, fill(k * n), [k, n], 'bench.b'); // [K, N]
  const c = empty(gpu, [m, n], 'bench.c'); // [M, N]
  try {
    const call = () => encodeMatmul(gpu, plan, { a, b, c });
    call();
    await gpu.sync();
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) call();
    await gpu.sync();
    const ms = (performance.now() - t0) / iterations;
    return { variant: plan.variant, entry: plan.launch.entry, gflops: (2 * m * n * k) / (ms * 1e6), msPerCall: ms };
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
}
