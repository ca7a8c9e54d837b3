// The WGSL of each linear/momentum attention kernel: whole files of shaders/linear_attention/
// joined in order (the family's prelude, what a group of kernels shares, the kernel's own file);
// src/engine/kernel.ts prepends shaders/common.wgsl. One entry point per kernel; its label (the
// file name) names it in errors and in the pipeline cache.
import attend from '../../../../shaders/linear_attention/attend.wgsl?raw';
import attendRows from '../../../../shaders/linear_attention/attend_rows.wgsl?raw';
import attendRowsBwd from '../../../../shaders/linear_attention/attend_rows_bwd.wgsl?raw';
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
import params from '../../../../shaders/linear_attention/params.wgsl?raw';
import phiMap from '../../../../shaders/linear_attention/phi_map.wgsl?raw';
import rows from '../../../../shaders/linear_attention/rows.wgsl?raw';
import scan from '../../../../shaders/linear_attention/scan.wgsl?raw';
import step from '../../../../shaders/linear_attention/step.wgsl?raw';
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

export const LINEAR_KERNELS = {
  // The scan: tiled in two passes ('gpu'), or in one ('swiftshader').
  chunkSums: kernel('chunk_sums', 'chunk_sums', tiles, chunkSums),
  scan: kernel('scan', 'scan', scan),
  sumsScanRows: kernel('sums_scan_rows', 'sums_scan_rows', sumsScanRows),
  // Attend, tiled ('gpu').
  attendTiledForward: kernel('attend_tiled_forward', 'attend_forward', tiles, attend, attendTiled, attendTiledForward),
  attendTiledDq: kernel('attend_tiled_dq', 'attend_dq', tiles, attend, attendTiled, attendTiledDq),
  attendTiledDk: kernel('attend_tiled_dk', 'attend_dk', tiles, attend, attendTiled, attendTiledDk),
  attendTiledDv: kernel('attend_tiled_dv', 'attend_dv', tiles, attend, attendTiled, attendTiledDv),
  // Attend, one thread per two tokens ('swiftshader').
  attendRowsForward: kernel('attend_rows_forward', 'attend_rows_forward', attend, rows, attendRows, attendRowsForward),
  attendRowsDq: kernel('attend_rows_dq', 'attend_rows_dq', attend, rows, attendRows, attendRowsBwd, attendRowsDq),
  attendRowsDk: kernel('attend_rows_dk', 'attend_rows_dk', attend, rows, attendRows, attendRowsBwd, attendRowsDk),
  attendRowsDv: kernel('attend_rows_dv', 'attend_rows_dv', attend, rows, attendRows, attendRowsBwd, attendRowsDv),
  attendRowsDkv: kernel('attend_rows_dkv', 'attend_rows_dkv', attend, rows, attendRowsDkv),
  // Helpers.
  bwdPrep: kernel('bwd_prep', 'bwd_prep', bwdPrep),
  phiMap: kernel('phi_map', 'phi_map', phiMap),
  step: kernel('step', 'step', step),
} as const;
