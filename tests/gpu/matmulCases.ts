// The cases of tests/gpu/matmul.test.ts and how one runs: the shapes, transposes and options
// both matmul variants are checked on, against the CPU reference.
import * as cpu from '../../src/engine/cpu/matmul.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import { matmulInto, type MatmulEntry, type MatmulVariant } from '../../src/engine/kernels/matmul.ts';
import { SUBGROUP_LANES } from '../../src/engine/kernels/matmul/plan.ts';
import { fromArray } from '../../src/engine/tensor.ts';
import { uniform } from '../helpers.ts';

export const VARIANTS: MatmulVariant[] = ['swiftshader', 'gpu'];
/** float32 sums of up to ~100 products of values in [-1, 1) against a float64-accumulated reference. */
export const TOL = { atol: 2e-5, rtol: 1e-4 };

export interface Case {
  name: string;
  batch: number;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  bias?: boolean;
  accumulate?: boolean;
  aShared?: boolean;
  bShared?: boolean;
  sumBatch?: boolean;
  splitK?: number;
  subgroups?: boolean;
  entry?: MatmulEntry;
}

export const TRANSPOSES = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
];
export const tag = (t: { transA: boolean; transB: boolean }) => `${t.transA ? 'A^T' : 'A'}${t.transB ? 'B^T' : 'B'}`;

export const CASES: Case[] = [
  { name: '1x1x1', batch: 1, m: 1, n: 1, k: 1 },
  { name: '1x1x1 bias accumulate', batch: 1, m: 1, n: 1, k: 1, bias: true, accumulate: true },
  ...TRANSPOSES.map((t) => ({ name: `37x5x13 ${tag(t)}`, batch: 1, m: 37, n: 5, k: 13, ...t })),
  ...TRANSPOSES.map((t) => ({ name: `batch 3, 67x130x33 ${tag(t)}`, batch: 3, m: 67, n: 130, k: 33, ...t })),
  { name: '67x130x33 bias', batch: 1, m: 67, n: 130, k: 33, bias: true },
  { name: 'batch 2, 37x5x13 A^T bias accumulate', batch: 2, m: 37, n: 5, k: 13, transA: true, bias: true, accumulate: true },
  { name: 'batch 3, 67x70x19 shared B (folded into one product)', batch: 3, m: 67, n: 70, k: 19, bShared: true, bias: true },
  { name: 'batch 3, 37x9x13 shared B^T, A^T', batch: 3, m: 37, n: 9, k: 13, bShared: true, transA: true, transB: true },
  { name: 'batch 2, 13x37x5 shared A^T accumulate', batch: 2, m: 13, n: 37, k: 5, aShared: true, transA: true, accumulate: true },
  { name: 'batch 3, 70x67x21 sumBatch A^T B (stacked along K)', batch: 3, m: 70, n: 67, k: 21, transA: true, sumBatch: true },
  { name: 'batch 3, 37x6x13 sumBatch A B^T (partials)', batch: 3, m: 37, n: 6, k: 13, transB: true, sumBatch: true, bias: true },
  { name: 'batch 2, 9x11x7 sumBatch shared B, accumulate', batch: 2, m: 9, n: 11, k: 7, bShared: true, sumBatch: true, accumulate: true },
  { name: '67x70x101 split-K 3 A^T, bias', batch: 1, m: 67, n: 70, k: 101, transA: true, splitK: 3, bias: true },
  { name: '5x7x37 split-K 2 B^T, accumulate', batch: 1, m: 5, n: 7, k: 37, transB: true, splitK: 2, accumulate: true },
  // Narrow C (matmul_register_gather's blocks of 3 column quads): 12 columns, every quad whole
  // but the last row's; an output head's 11 columns with K a multiple of 4 (no k tail).
  { name: '37x12x13 bias', batch: 1, m: 37, n: 12, k: 13, bias: true },
  { name: '70x11x64 bias (an output head)', batch: 1, m: 70, n: 11, k: 64, bias: true },
];

/**
 * Shapes whose K and operands' contiguous dimensions (M of A^T, N of B) are multiples of 4, so
 * 'swiftshader' reads them as vec4s (matmul_register_vec4); every other size is odd (A^T B with an
 * odd K runs matmul_register_gather, see the entry test). matmul_register_vec4's blocks
 * are 16 x 16: 37 and 53 rows end in a partial quad and a partial block, 20 and 44 columns in a
 * whole quad of a partial block, so both of its stores (whole quads, and storeRow at the edges)
 * and several blocks per workgroup run.
 */
export const VEC4_CASES: Case[] = [
  { name: '37x20x24 AB bias accumulate', batch: 1, m: 37, n: 20, k: 24, bias: true, accumulate: true },
  { name: '20x12x36 A^TB', batch: 1, m: 20, n: 12, k: 36, transA: true },
  { name: '37x13x24 AB^T', batch: 1, m: 37, n: 13, k: 24, transB: true },
  { name: '20x13x24 A^TB^T bias', batch: 1, m: 20, n: 13, k: 24, transA: true, transB: true, bias: true },
  { name: 'batch 3, 37x20x24 AB', batch: 3, m: 37, n: 20, k: 24 },
  { name: 'batch 3, 37x20x24 shared B (folded), bias', batch: 3, m: 37, n: 20, k: 24, bShared: true, bias: true },
  { name: 'batch 2, 12x20x8 shared A^T accumulate', batch: 2, m: 12, n: 20, k: 8, aShared: true, transA: true, accumulate: true },
  { name: 'batch 3, 20x12x12 sumBatch A^T B (stacked along K)', batch: 3, m: 20, n: 12, k: 12, transA: true, sumBatch: true },
  { name: 'batch 3, 37x13x8 sumBatch A B^T (partials)', batch: 3, m: 37, n: 13, k: 8, transB: true, sumBatch: true, bias: true },
  { name: '20x12x100 split-K 3 A^T, bias', batch: 1, m: 20, n: 12, k: 100, transA: true, splitK: 3, bias: true },
  { name: 'batch 2, 53x44x28 AB bias', batch: 2, m: 53, n: 44, k: 28, bias: true },
  { name: '44x53x36 A^TB^T', batch: 1, m: 44, n: 53, k: 36, transA: true, transB: true },
  { name: '53x44x40 AB^T bias accumulate', batch: 1, m: 53, n: 44, k: 40, transB: true, bias: true, accumulate: true },
  { name: '44x44x36 A^TB bias', batch: 1, m: 44, n: 44, k: 36, transA: true, bias: true },
  // Two superblocks of 16 x 64 along N for matmul_register_vec4_sg, the second with lanes past N.
  { name: '37x84x24 AB accumulate', batch: 1, m: 37, n: 84, k: 24, accumulate: true },
  { name: '37x69x16 AB^T bias', batch: 1, m: 37, n: 69, k: 16, transB: true, bias: true },
  // Few rows (matmul_register_vec4's blocks of 1 to 3 row quads): a sampling step's 8 tokens,
  // A^T with 4 rows, 6 rows ending mid-quad.
  { name: '8x192x64 AB bias (a sampling step)', batch: 1, m: 8, n: 192, k: 64, bias: true },
  { name: '4x20x12 A^TB accumulate', batch: 1, m: 4, n: 20, k: 12, transA: true, accumulate: true },
  { name: '6x13x24 AB^T', batch: 1, m: 6, n: 13, k: 24, transB: true },
];

/** Whether this device runs matmul_register_vec4_sg (subgroups of SUBGROUP_LANES). */
export const hasSubgroups = (g: Gpu) => g.subgroupSize === SUBGROUP_LANES;

/** The subgroup kernels' tests run on every adapter the suite runs on: one without subgroups of
 *  SUBGROUP_LANES fails them with what to install, never passes them untested. */
export function requireSubgroups(g: Gpu): void {
  if (!hasSubgroups(g)) throw new Error(`this adapter has no subgroups of ${SUBGROUP_LANES} (${g.description}); the SwiftShader of Debian's chromium has them (apt-get install chromium)`);
}

function stored(rows: number, cols: number, trans: boolean | undefined): string {
  return trans ? `[${cols}, ${rows}]` : `[${rows}, ${cols}]`;
}

/** Runs one case on the GPU and on the CPU reference (C starts random, so overwrite is checked too). */
export async function runCase(gpu: Gpu, c: Case, variant: MatmulVariant, seed = 1): Promise<{ got: Float32Array; want: Float32Array }> {
  const aLen = (c.aShared ? 1 : c.batch) * c.m * c.k;
  const bLen = (c.bShared ? 1 : c.batch) * c.k * c.n;
  const cLen = (c.sumBatch ? 1 : c.batch) * c.m * c.n;
  const a = uniform(aLen, seed);
  const b = uniform(bLen, seed + 1);
  const c0 = uniform(cLen, seed + 2);
  const bias = c.bias ? uniform(c.n, seed + 3) : null;
  const want = c0.slice();
  cpu.matmulInto({ ...c, a, b, c: want, bias });
  const ta = fromArray(gpu, a, [aLen], `a ${stored(c.m, c.k, c.transA)}`);
  const tb = fromArray(gpu, b, [bLen], `b ${stored(c.k, c.n, c.transB)}`);
  const tc = fromArray(gpu, c0, [cLen], 'c');
  const tbias = bias ? fromArray(gpu, bias, [c.n], 'bias') : null;
  matmulInto(gpu, { ...c, a: ta, b: tb, c: tc, bias: tbias, variant });
  const got = await tc.read();
  for (const t of [ta, tb, tc, tbias]) t?.dispose();
  return { got, want };
}
