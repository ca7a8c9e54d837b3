// The chunked scan (MATH.md section 9): chunk-local sums of phi(a) b^T (and of [r] phi(a)) into
// every chunk's slot, then the scan that turns them into the state carried into each chunk (slot
// NC: the whole sequence). Forward: a = k, b = v. Backward: a = q, b = g|r, run in reverse for
// causal attention. The tiled variant applies phi to `a` as it loads it; the row variant takes
// phi(a) as `a` and does sums and scan in one pass.
import type { Gpu } from '../../gpu.ts';
import { empty, type Tensor } from '../../tensor.ts';
import { ROW_SUM_TILE, SLICE, TILE, WG1, colsFor, rowsFor, type MomentumPlan } from './plan.ts';
import { LINEAR_KERNELS as K, LINEAR_MASKED } from './shaders.ts';
import { ZERO_UNIFORMS, type Uniforms } from './uniforms.ts';

export interface ScanTensors {
  /** [B, H, N, D]: k (forward) or q (backward); phi(k), phi(q) for the row variant. */
  a: Tensor;
  /** [B, H, N, bStride]: v (forward) or g|r (backward). */
  b: Tensor;
  /** Out: the states [B, H, NC+1, D, Dv, P]. */
  hs: Tensor;
  /** Out: the normaliser prefixes [B, H, NC+1, D]. */
  zs: Tensor;
  /** Key-padding lengths u32 [B]: the scan stops at each example's length (the forward's, when masked). */
  lengths?: Tensor | null;
}

export interface ScanOptions {
  /** Row stride of b: Dv, or grStride(Dv) for g|r. */
  bStride: number;
  /** Scan backwards in time (the causal backward). */
  reverse: boolean;
  /** Weight the z sums by b's column Dv (r, in the backward). */
  weighted: boolean;
  /** Carry (S, m) pairs; false: S alone. */
  momentum: boolean;
}

/**
 * sums_scan_rows' workgroup. Its threads are B H ceil(D / 4) ceil(Dv / 4), each walking the whole
 * sequence: 64 at the attention benchmark's batch 1, 4 heads, D 16, one workgroup of WG1 = 64,
 * which SwiftShader runs on one CPU thread. Workgroups of 16 spread them over the cores: per-kernel
 * time (scripts/attention-profile.ts, two runs each way) at N 4096 linear 40.8, 46.0 -> 32.2,
 * 34.0 ms and momentum 58.7, 58.8 -> 43.3, 42.7 ms; at N 1024 1.1-1.2x; the training step's
 * (512 threads) unchanged within noise. Workgroups of 4 were as fast for linear and erratic for
 * momentum (50-56 ms). The same threads compute the same sums: the bits do not change.
 */
const SCAN_ROWS_WG = 16;

export function scanChunks(gpu: Gpu, plan: MomentumPlan, u: Uniforms, t: ScanTensors, o: ScanOptions): void {
  const { dims } = plan;
  const bh = dims.batch * dims.heads;
  const flags = { C: plan.chunk, MOMENTUM: o.momentum ? 1 : 0, REVERSE: o.reverse ? 1 : 0, HAS_ZW: o.weighted ? 1 : 0 };
  const { lengths, ...st } = t;
  const kernels = lengths ? LINEAR_MASKED : K;
  const masks: Record<string, Tensor> = lengths ? { lengths } : {};
  if (!plan.tiled) {
    // Sums and scan in one pass, one thread per 4 x 4 tile of the state walking the chunks.
    const threads = bh * Math.ceil(dims.dim / ROW_SUM_TILE) * Math.ceil(dims.dimV / ROW_SUM_TILE);
    const view = (x: Tensor) => ({ buffer: x.buffer, byteLength: Math.ceil(x.byteLength / 16) * 16 });
    const by4 = (...n: number[]) => (n.every((x) => x % 4 === 0) ? 1 : 0);
    const vec = { VA: by4(dims.dim), VB: by4(o.bStride, dims.dimV) };
    gpu
      .kernel({ ...kernels.sumsScanRows, constants: { WG1: SCAN_ROWS_WG, ...flags, ...vec } })
      .run({ a4v: view(st.a), b4v: view(st.b), hs: st.hs, zs: st.zs, ...masks }, { ...u, sq: dims.dim, sk: o.bStride }, gpu.grid(Math.ceil(threads / SCAN_ROWS_WG)));
    return;
  }
  const rows = rowsFor(dims.dim);
  const cols = colsFor(dims.dimV);
  const smem = SLICE * TILE * (rows.perThread + cols.perThread) + SLICE;
  gpu
    .kernel({ ...kernels.chunkSums, constants: { T: TILE, RT: rows.perThread, ST: cols.perThread, SMEM: smem, ...flags } })
    .run(
      { ...st, ...masks },
      { ...u, sq: dims.dim, sk: o.bStride, nblk: rows.blocks, nblk2: cols.blocks },
      [plan.chunks * rows.blocks * cols.blocks, bh],
    );
  gpu
    .kernel({ ...kernels.scan, constants: { WG1, C: plan.chunk, MOMENTUM: flags.MOMENTUM, REVERSE: flags.REVERSE } })
    .run({ hs: t.hs, zs: t.zs, ...masks }, u, [Math.ceil((dims.dim * dims.dimV + dims.dim) / WG1), bh]);
}

/**
 * phi(x) = elu(x) + 1 elementwise into a new pooled tensor (the row variant's query and key rows):
 * four values an invocation where the size is a multiple of 4 (the phi_map.vec4 build, same bits), else
 * one. `vec4` forces either (tests); true needs the size a multiple of 4.
 */
export function phiFeatures(gpu: Gpu, x: Tensor, name: string, vec4 = x.size % 4 === 0): Tensor {
  if (vec4 && x.size % 4 !== 0) throw new Error(`phiFeatures: vec4 needs a size that is a multiple of 4; got ${x.size}`);
  const f = empty(gpu, x.shape, `linearAttention.${name}`); // [B, H, N, D]
  const n = vec4 ? x.size / 4 : x.size;
  gpu
    .kernel({ ...(vec4 ? K.phiMapVec4 : K.phiMap), constants: { WG1 } })
    .run({ src: x, dst: f }, { ...ZERO_UNIFORMS, n }, gpu.grid(Math.ceil(n / WG1)));
  return f;
}
