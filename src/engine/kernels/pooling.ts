// GPU primitives of shaders/pooling.wgsl: masked mean pooling over the sequence and its backward.
// They only encode: src/engine/ops/pooling.ts checks the tensors first.
import src from '../../../shaders/pooling.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';

const POOL_WG = 256;

export interface PoolDims {
  batch: number;
  seq: number;
  width: number;
}

function run(gpu: Gpu, entry: 'mean_pool_forward' | 'mean_pool_backward', lengths: Tensor, from: Tensor, to: Tensor, dims: PoolDims, n: number) {
  gpu
    .kernel({ label: 'pooling', code: src, entry, constants: { WG: POOL_WG } })
    .run({ lengths, src: from, dst: to }, { batch: dims.batch, seq: dims.seq, width: dims.width }, gpu.grid(Math.ceil(n / POOL_WG)));
}

/** x [B, N, C], lengths u32 [B] -> y [B, C]. */
export function meanPoolForward(gpu: Gpu, x: Tensor, lengths: Tensor, y: Tensor, dims: PoolDims): void {
  run(gpu, 'mean_pool_forward', lengths, x, y, dims, dims.batch * dims.width);
}

/** dy [B, C], lengths u32 [B] -> dx [B, N, C] (overwritten, zero on the padding). */
export function meanPoolBackward(gpu: Gpu, dy: Tensor, lengths: Tensor, dx: Tensor, dims: PoolDims): void {
  run(gpu, 'mean_pool_backward', lengths, dy, dx, dims, dims.batch * dims.seq * dims.width);
}
