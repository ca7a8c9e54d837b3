// The WGSL of each softmax attention kernel: whole files of shaders/softmax_attention/ joined in
// order (the family's prelude, what a group of kernels shares, the kernel's own file);
// src/engine/kernel.ts prepends shaders/common.wgsl. Labels (file names) key the pipeline cache.
// The kernels that see key-padding lengths come in two builds after the prelude: `full`
// (lengths_full.wgsl: every row runs to N, no extra binding) and `masked` (lengths_masked.wgsl:
// binds `lengths` and reads each example's own length), separate pipelines, so the unmasked path
// (the causal decoder's) binds and reads nothing more than before.
import backward from '../../../../shaders/softmax_attention/backward.wgsl?raw';
import backwardDelta from '../../../../shaders/softmax_attention/backward_delta.wgsl?raw';
import backwardDkdvRows from '../../../../shaders/softmax_attention/backward_dkdv_rows.wgsl?raw';
import backwardDkdvTiled from '../../../../shaders/softmax_attention/backward_dkdv_tiled.wgsl?raw';
import backwardDqRows from '../../../../shaders/softmax_attention/backward_dq_rows.wgsl?raw';
import backwardDqTiled from '../../../../shaders/softmax_attention/backward_dq_tiled.wgsl?raw';
import backwardTiles from '../../../../shaders/softmax_attention/backward_tiles.wgsl?raw';
import forwardRows from '../../../../shaders/softmax_attention/forward_rows.wgsl?raw';
import forwardTiled from '../../../../shaders/softmax_attention/forward_tiled.wgsl?raw';
import lengthsFull from '../../../../shaders/softmax_attention/lengths_full.wgsl?raw';
import lengthsMasked from '../../../../shaders/softmax_attention/lengths_masked.wgsl?raw';
import params from '../../../../shaders/softmax_attention/params.wgsl?raw';
import step from '../../../../shaders/softmax_attention/step.wgsl?raw';
import tiles from '../../../../shaders/softmax_attention/tiles.wgsl?raw';

export interface SoftmaxKernel {
  label: string;
  code: string;
  entry: string;
}

function kernel(file: string, entry: string, ...parts: string[]): SoftmaxKernel {
  return { label: `softmax_attention/${file}`, code: [params, ...parts].join('\n'), entry };
}

/** The kernels that read a row's length, in the build `lengths` (lengths_full or lengths_masked). */
function lengthKernels(build: 'full' | 'masked', lengths: string) {
  const k = (file: string, entry: string, ...parts: string[]) =>
    kernel(build === 'full' ? file : `${file}+lengths`, entry, lengths, ...parts);
  return {
    forward: k('forward_tiled', 'forward', tiles, forwardTiled),
    backward_dq: k('backward_dq_tiled', 'backward_dq', tiles, backward, backwardTiles, backwardDqTiled),
    backward_dkdv: k('backward_dkdv_tiled', 'backward_dkdv', tiles, backward, backwardTiles, backwardDkdvTiled),
    forward_rows: k('forward_rows', 'forward_rows', forwardRows),
    backward_dq_rows: k('backward_dq_rows', 'backward_dq_rows', backward, backwardDqRows),
    backward_dkdv_rows: k('backward_dkdv_rows', 'backward_dkdv_rows', backward, backwardDkdvRows),
  };
}

export type SoftmaxKernelName = keyof ReturnType<typeof lengthKernels>;

export const SOFTMAX_KERNELS = {
  full: {
    ...lengthKernels('full', lengthsFull),
    backward_delta: kernel('backward_delta', 'backward_delta', backward, backwardDelta),
  },
  masked: lengthKernels('masked', lengthsMasked),
  step: kernel('step', 'step', step),
} as const;
