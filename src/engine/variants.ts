// Kernel variants, one table per family. A variant is named after the adapter it is tuned for:
// 'gpu' (a real GPU: workgroup memory, barriers, tiles) or 'swiftshader' (CPU emulation, where
// every barrier and workgroup-memory access costs a thread switch, so one thread per row or tile
// and no barriers wins). `variantOf` picks `gpu.backend` unless a caller (a test, a benchmark)
// forces one; it is the only place that default is derived.
import { fail } from './check.ts';
import type { Gpu } from './gpu.ts';

export type Variant = 'gpu' | 'swiftshader';
export const VARIANTS: readonly Variant[] = ['gpu', 'swiftshader'];

/** Throws unless a forced variant (if any) is one of VARIANTS. */
export function checkVariant(what: string, forced: unknown): void {
  if (forced !== undefined && forced !== 'gpu' && forced !== 'swiftshader') {
    fail(what, `unknown variant '${String(forced)}': variant must be 'gpu' or 'swiftshader'`);
  }
}

/** The forced variant, checked, or the adapter's. */
export function variantOf(what: string, gpu: Gpu, forced?: Variant): Variant {
  checkVariant(what, forced);
  return forced ?? gpu.backend;
}

/**
 * matmul: 'gpu' stages BK-deep slices of A and B in workgroup memory; 'swiftshader' reads them
 * straight (4x4 register blocks, `workgroup[0] x workgroup[1]` invocations per 1-D workgroup),
 * or as vec4s four k at a time into 16x16 blocks (`vec4Entry`, `vec4Workgroup` invocations per
 * workgroup, one block each) where each operand's contiguous
 * dimension and K are multiples of 4. 16x16 blocks in workgroups of 4 against the former 4x8
 * blocks in 8x8 workgroups, one process alternating, on the products of the MQAR tiny and bench
 * training steps: 1.6-3.0x each, 2.0x the set (README "Benchmarks"); 8x16, 16x8, 16x32, 32x32
 * blocks, workgroups of 8 or 16 and split-K for the K = 768 weight gradients were slower.
 * `subgroupEntry`, where the device has subgroups of 4: the same blocks, the four lanes of a
 * workgroup in one row band sharing op(A)'s loads by subgroup broadcasts (same bits).
 * `gatherEntry`, for every other shape (an output head's 11 columns, K = 11): the same 16 x 16
 * blocks with A and B read as floats, a k tail zeroed (same bits as `entry`, the 4 x 4 blocks,
 * now only run when forced): 1.1-3.4x on the head's three products (README "Benchmarks"). On a C
 * with fewer than 13 columns or rows, its blocks and `vec4Entry`'s have only the quads C fills
 * (3 column quads for 11 columns: 1.2-1.5x on the head's forward and weight gradient; 2 row quads
 * for a sampling step's 8 rows: 1.3-1.6x per product, `vec4Entry` there rather than
 * `subgroupEntry`, whose blocks stay 16 x 16).
 * 'gpu' `subgroupEntry` (matmul_subgroup), where the device has one fixed subgroup size: a
 * workgroup of one subgroup computing a 16 x 4 SG tile with A passed between lanes by shuffles and
 * no workgroup memory; run with `subgroups: true` and timed beside `entry` by the benchmark, not
 * the default until a real GPU has measured it (same bits).
 * Column sums (bias gradients, split-K finishes): an invocation per column in workgroups of
 * `sumWorkgroup`, in two passes over long columns where `twoPassColumnSums`; with
 * `vec4ColumnSums`, where the columns are a multiple of 4, an invocation per four columns reading
 * vec4s, `vec4SumWorkgroup` a workgroup (same bits; 2x on SwiftShader's [1024, 64..192] bias
 * gradients, README "Benchmarks").
 */
export const MATMUL = {
  gpu: {
    entry: 'matmul_tiled',
    vec4Entry: null,
    vec4Workgroup: 0,
    subgroupEntry: 'matmul_subgroup',
    gatherEntry: null,
    workgroup: [16, 16] as const,
    sliceK: 16,
    splitK: true,
    twoPassColumnSums: true,
    vec4ColumnSums: false,
    sumWorkgroup: 256,
    vec4SumWorkgroup: 64,
  },
  swiftshader: {
    entry: 'matmul_register',
    vec4Entry: 'matmul_register_vec4',
    vec4Workgroup: 4,
    subgroupEntry: 'matmul_register_vec4_sg',
    gatherEntry: 'matmul_register_gather',
    workgroup: [8, 8] as const,
    sliceK: 0,
    splitK: false,
    twoPassColumnSums: false,
    vec4ColumnSums: true,
    sumWorkgroup: 256,
    vec4SumWorkgroup: 4,
  },
} as const;

/** LayerNorm: a workgroup per row with a tree reduction ('gpu'), or a thread per row, no barriers. */
export const LAYER_NORM = {
  gpu: { workgroupPerRow: true, forward: 'forward_workgroup_per_row', backwardDx: 'backward_dx_workgroup_per_row' },
  swiftshader: { workgroupPerRow: false, forward: 'forward_thread_per_row', backwardDx: 'backward_dx_thread_per_row' },
} as const;

/** Cross-entropy forward: a workgroup per row with tree reductions ('gpu'), or a thread per row. */
export const CROSS_ENTROPY = {
  gpu: { workgroupPerRow: true, forward: 'ce_forward' },
  swiftshader: { workgroupPerRow: false, forward: 'ce_forward_rows' },
} as const;

export interface ReduceTiles {
  /** Threads per workgroup, a power of two. */
  workgroupSize: number;
  /** Elements each thread adds in order before the workgroup's tree. */
  itemsPerThread: number;
}

/**
 * Reductions. Real GPUs: 256 threads with 4 loads each keep enough memory requests in flight and
 * give one partial per 1024 elements. SwiftShader runs a workgroup's threads on one CPU core and
 * pays heavily for every barrier and every workgroup, so few threads with long serial runs win
 * there: sum of squares of 4M floats took 1340 ms at 256 x 4, 92 ms at 64 x 32 and 31-39 ms at 16 x 256.
 */
export const REDUCE_TILES: Record<Variant, ReduceTiles> = {
  gpu: { workgroupSize: 256, itemsPerThread: 4 },
  swiftshader: { workgroupSize: 16, itemsPerThread: 256 },
};

/**
 * Row reductions of the adaptive momentum connection: `tx` threads per row (a power of two; they
 * stride over the row's columns and meet in a tree), `ty` rows per workgroup. 'gpu': 64 threads
 * per row, so loads of a row are coalesced and C = 256 is 4 values a thread. 'swiftshader': one
 * thread per row (64 rows a workgroup): its tree has no levels, and SwiftShader's barriers are what
 * dominate the 'gpu' layout there (R = 8192, C = 256: forward 211 ms, backward 381 ms against 1255
 * and 2106 ms with the 'gpu' layout).
 */
export const CONNECTION_ROWS = {
  gpu: { tx: 64, ty: 4 },
  swiftshader: { tx: 1, ty: 64 },
} as const;

/** Softmax attention: FlashAttention-2 tiles in workgroup memory ('gpu'), or a thread per query/key row. */
export const SOFTMAX_ATTENTION = {
  gpu: { tiled: true },
  swiftshader: { tiled: false },
} as const;

/**
 * Linear and momentum attention. 'gpu': tiled kernels (16 x 16 threads, register tiles, slices
 * staged in workgroup memory), chunk chosen by the workgroup-memory budget. 'swiftshader': one
 * thread per 4 x 4 state tile (sums and scan in one pass) or per two tokens, no barriers and no
 * workgroup memory, which SwiftShader runs several times faster; chunk 16, measured fastest there
 * for both paths (B=1, H=4, D=Dv=32, N=4096 forward+backward: linear 554 ms at 16, 707 ms at 32).
 * The recurrent step (sampling): 'gpu' a workgroup per (batch, head), threads over value columns
 * (`step`); 'swiftshader' one thread per (batch, head) walking its state as vec4s (`step_rows`,
 * where Dv is a multiple of 4 and at most 128).
 */
export const LINEAR_ATTENTION = {
  gpu: { tiled: true, defaultChunk: null, stepRows: false },
  swiftshader: { tiled: false, defaultChunk: 16, stepRows: true },
} as const;

/**
 * Head reshapes (shaders/heads.wgsl): a thread per element ('gpu': neighbouring threads touch
 * neighbouring addresses, so loads and stores coalesce) or a thread per D-long row
 * ('swiftshader': the index arithmetic, integer divisions emulated per SIMD lane, is paid once a
 * row; README "Benchmarks" has the A/B). `gather3`: the three parts of a fused q | k | v
 * projection in one dispatch (a sampling step makes one per layer where it made three).
 */
export const HEADS = {
  gpu: { gather: 'gather_part', gather3: 'gather_part3', scatter: 'scatter_part', perRow: false, workgroup: 256 },
  swiftshader: { gather: 'gather_rows', gather3: 'gather_rows3', scatter: 'scatter_rows', perRow: true, workgroup: 64 },
} as const;
