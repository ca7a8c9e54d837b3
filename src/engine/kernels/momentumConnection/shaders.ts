// The WGSL of each momentum-connection kernel: whole files of shaders/momentum_connection/ joined
// in order (the form's prelude, what a group of kernels shares, the kernel's own file);
// src/engine/kernel.ts prepends shaders/common.wgsl. Labels (file names) key the pipeline cache.
import adaptive from '../../../../shaders/momentum_connection/adaptive.wgsl?raw';
import adaptiveBackwardElems from '../../../../shaders/momentum_connection/adaptive_backward_elems.wgsl?raw';
import adaptiveBackwardRows from '../../../../shaders/momentum_connection/adaptive_backward_rows.wgsl?raw';
import adaptiveForward from '../../../../shaders/momentum_connection/adaptive_forward.wgsl?raw';
import fixed from '../../../../shaders/momentum_connection/fixed.wgsl?raw';
import fixedBackward from '../../../../shaders/momentum_connection/fixed_backward.wgsl?raw';
import fixedBackwardFirst from '../../../../shaders/momentum_connection/fixed_backward_first.wgsl?raw';
import fixedForward from '../../../../shaders/momentum_connection/fixed_forward.wgsl?raw';
import fixedForwardFirst from '../../../../shaders/momentum_connection/fixed_forward_first.wgsl?raw';
import grads from '../../../../shaders/momentum_connection/grads.wgsl?raw';
import rows from '../../../../shaders/momentum_connection/rows.wgsl?raw';

export interface ConnectionKernel {
  label: string;
  code: string;
  entry: string;
}

function kernel(file: string, ...parts: string[]): ConnectionKernel {
  return { label: `momentum_connection/${file}`, code: parts.join('\n'), entry: file };
}

export const CONNECTION_KERNELS = {
  fixedForward: kernel('fixed_forward', fixed, fixedForward),
  fixedForwardFirst: kernel('fixed_forward_first', fixed, fixedForwardFirst),
  fixedBackward: kernel('fixed_backward', fixed, grads, fixedBackward),
  fixedBackwardFirst: kernel('fixed_backward_first', fixed, grads, fixedBackwardFirst),
  adaptiveForward: kernel('adaptive_forward', adaptive, rows, adaptiveForward),
  adaptiveBackwardRows: kernel('adaptive_backward_rows', adaptive, rows, grads, adaptiveBackwardRows),
  adaptiveBackwardElems: kernel('adaptive_backward_elems', adaptive, grads, adaptiveBackwardElems),
} as const;
