// The WGSL of each matmul kernel: whole files of shaders/matmul/ joined in order (the product
// kernels' prelude, how it binds A and B, then the kernel's own file); src/engine/kernel.ts prepends shaders/common.wgsl.
// All share the label 'matmul', so a dispatch reads 'matmul:<entry>' (src/bench/profile.ts counts
// the flops of 'matmul:matmul_*').
import operands from '../../../../shaders/matmul/operands.wgsl?raw';
import product from '../../../../shaders/matmul/product.wgsl?raw';
import register from '../../../../shaders/matmul/register.wgsl?raw';
import block16 from '../../../../shaders/matmul/block16.wgsl?raw';
import registerGather from '../../../../shaders/matmul/register_gather.wgsl?raw';
import registerVec4 from '../../../../shaders/matmul/register_vec4.wgsl?raw';
import registerVec4Lanes from '../../../../shaders/matmul/register_vec4_lanes.wgsl?raw';
import registerVec4Subgroup from '../../../../shaders/matmul/register_vec4_subgroup.wgsl?raw';
import sumRows from '../../../../shaders/matmul/sum_rows.wgsl?raw';
import sumRowsScalar from '../../../../shaders/matmul/sum_rows_scalar.wgsl?raw';
import sumRowsVec4 from '../../../../shaders/matmul/sum_rows_vec4.wgsl?raw';
import subgroup from '../../../../shaders/matmul/subgroup.wgsl?raw';
import tiled from '../../../../shaders/matmul/tiled.wgsl?raw';

export interface MatmulKernel {
  label: string;
  code: string;
  entry: string;
}

function kernel(entry: string, ...parts: string[]): MatmulKernel {
  return { label: 'matmul', code: parts.join('\n'), entry };
}

export const MATMUL_KERNELS = {
  matmul_register: kernel('matmul_register', product, operands, register),
  matmul_register_vec4: kernel('matmul_register_vec4', product, registerVec4, block16, registerVec4Lanes),
  matmul_register_vec4_sg: kernel('matmul_register_vec4_sg', product, registerVec4, block16, registerVec4Subgroup),
  matmul_register_gather: kernel('matmul_register_gather', product, registerGather, block16, registerVec4Lanes),
  matmul_tiled: kernel('matmul_tiled', product, operands, tiled),
  matmul_subgroup: kernel('matmul_subgroup', product, operands, subgroup),
  sum_rows: kernel('sum_rows', sumRows, sumRowsScalar),
  sum_rows_vec4: kernel('sum_rows_vec4', sumRows, sumRowsVec4),
} as const;
