// The WGSL of each linear/momentum attention kernel: whole files of shaders/linear_attention/
// joined in order (the family's prelude, what a group of kernels shares, the kernel's own file);
// src/engine/kernel.ts prepends shaders/common.wgsl. One entry point per kernel; its label (the
// file name) names it in errors and in the pipeline cache. The kernels that read an example's
// length come in two builds after the prelude: LINEAR_KERNELS's (lengths_full.wgsl, no extra
// binding) and LINEAR_MASKED's (lengths_masked.wgsl binds `lengths`), separate pipelines, so the
// unmasked path (the causal decoder's) binds and reads nothing more than before.
import attend from '../../../../shaders/linear_attention/attend.wgsl?raw';
import attendQuads from '../../../../shaders/linear_attention/attend_quads.wgsl?raw';
import attendRows from '../../../../shaders/linear_attention/attend_rows.wgsl?raw';
import attendRowsDk from '../../../../shaders/linear_attention/attend_rows_dk.wgsl?raw';
import attendRowsDkv from '../../../../shaders/linear_attention/attend_rows_dkv.wgsl?raw';
import attendRowsDq from '../../../../shaders/linear_attention/attend_rows_dq.wgsl?raw';
import attendRowsDv from '../../../../shaders/linear_attention/attend_rows_dv.wgsl?raw';
import attendRowsForward from '../../../../shaders/linear_attention/attend_rows_forward.wgsl?raw';
import attendTiled from '../../../../shaders/linear_attention/attend_tiled.wgsl?raw';
import attendTiledDk from '../../../../shaders/linear_attention/attend_tiled_dk.wgsl?raw';
import attendTiledDq from '../../../../shaders/linear_attention/attend_tiled_dq.wgsl?raw';
import attendTiledDv from '../../../../shaders/linear_attention/attend_tiled_dv.wgsl?raw';
import attendTiledForward from '../../../../shaders/linear_attention/attend_tiled_forward.wgsl?raw';
import bwdPrep from '../../../../shaders/linear_attention/bwd_prep.wgsl?raw';
import chunkSums from '../../../../shaders/linear_attention/chunk_sums.wgsl?raw';
import lengthsFull from '../../../../shaders/linear_attention/lengths_full.wgsl?raw';
import lengthsMasked from '../../../../shaders/linear_attention/lengths_masked.wgsl?raw';
import params from '../../../../shaders/linear_attention/params.wgsl?raw';
import phiMap from '../../../../shaders/linear_attention/phi_map.wgsl?raw';
import rows from '../../../../shaders/linear_attention/rows.wgsl?raw';
import scan from '../../../../shaders/linear_attention/scan.wgsl?raw';
import step from '../../../../shaders/linear_attention/step.wgsl?raw';
import stepRows from '../../../../shaders/linear_attention/step_rows.wgsl?raw';
import sumsScanRows from '../../../../shaders/linear_attention/sums_scan_rows.wgsl?raw';
import tiles from '../../../../shaders/linear_attention/tiles.wgsl?raw';

export interface LinearKernel {
  label: string;
  code: string;
  entry: string;
}

function kernel(file: string, entry: string, ...parts: string[]): LinearKernel {
  return { label: `linear_attention/${file}`, code: [params, ...parts].join('\n'), entry };
}

/** The kernels that read an example's length, in one build (lengths_full or lengths_masked). */
function lengthKernels(build: 'full' | 'masked', lengths: string) {
  const k = (file: string, entry: string, ...parts: string[]) =>
    kernel(build === 'full' ? file : `${file}+lengths`, entry, lengths, ...parts);
  return {
    // The forward scan (stops at the example's length).
    chunkSums: k('chunk_sums', 'chunk_sums', tiles, chunkSums),
    scan: k('scan', 'scan', scan),
    sumsScanRows: k('sums_scan_rows', 'sums_scan_rows', sumsScanRows),
    // Attend forward, dk, dv (padding rows 0, eq. 14 weighs by the example's length).
    attendTiledForward: k('attend_tiled_forward', 'attend_forward', tiles, attend, attendTiled, attendTiledForward),
    attendTiledDk: k('attend_tiled_dk', 'attend_dk', tiles, attend, attendTiled, attendTiledDk),
    attendTiledDv: k('attend_tiled_dv', 'attend_dv', tiles, attend, attendTiled, attendTiledDv),
    attendRowsForward: k('attend_rows_forward', 'attend_rows_forward', attend, rows, attendRows, attendRowsForward),
    attendRowsDk: k('attend_rows_dk', 'attend_rows_dk', attend, rows, attendRows, attendRowsDk),
    attendRowsDv: k('attend_rows_dv', 'attend_rows_dv', attend, rows, attendRows, attendRowsDv),
    attendRowsDkv: k('attend_rows_dkv', 'attend_rows_dkv', attend, rows, attendRowsDkv),
    // The same entry files on the row-quad body (attend_quads.wgsl).
    attendQuadsForward: k('attend_quads_forward', 'attend_rows_forward', attend, rows, attendQuads, attendRowsForward),
    attendQuadsDk: k('attend_quads_dk', 'attend_rows_dk', attend, rows, attendQuads, attendRowsDk),
    attendQuadsDv: k('attend_quads_dv', 'attend_rows_dv', attend, rows, attendQuads, attendRowsDv),
    // g|r rows (0 on padding rows).
    bwdPrep: k('bwd_prep', 'bwd_prep', bwdPrep),
  };
}

export type LinearLengthKernel = keyof ReturnType<typeof lengthKernels>;

export const LINEAR_KERNELS = {
  ...lengthKernels('full', lengthsFull),
  // dq needs no length (padding rows get g = r = 0 from bwd_prep); it shares the epilogue
  // (attend_tiled's, rows_main) that masks the others' padding rows, so it takes lengths_full.
  attendTiledDq: kernel('attend_tiled_dq', 'attend_dq', lengthsFull, tiles, attend, attendTiled, attendTiledDq),
  attendRowsDq: kernel('attend_rows_dq', 'attend_rows_dq', lengthsFull, attend, rows, attendRows, attendRowsDq),
  attendQuadsDq: kernel('attend_quads_dq', 'attend_rows_dq', lengthsFull, attend, rows, attendQuads, attendRowsDq),
  phiMap: kernel('phi_map', 'phi_map', 'alias V = f32;\nfn phi_v(x: V) -> V { return phi(x); }', phiMap),
  phiMapVec4: kernel('phi_map.vec4', 'phi_map', 'alias V = vec4f;\nfn phi_v(x: V) -> V { return V(phi(x.x), phi(x.y), phi(x.z), phi(x.w)); }', phiMap),
  step: kernel('step', 'step', step),
  stepRows: kernel('step_rows', 'step_rows', stepRows),
} as const;

export const LINEAR_MASKED = lengthKernels('masked', lengthsMasked);
