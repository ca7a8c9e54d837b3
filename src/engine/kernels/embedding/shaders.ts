// The WGSL of each embedding kernel: whole files of shaders/embedding/ joined in order (the
// family's params.wgsl, what a group of kernels shares, the kernel's own file); src/engine/kernel.ts
// prepends shaders/common.wgsl. Labels (file names) key the pipeline cache.
import forward from '../../../../shaders/embedding/forward.wgsl?raw';
import index from '../../../../shaders/embedding/index.wgsl?raw';
import indexCount from '../../../../shaders/embedding/index_count.wgsl?raw';
import indexPlace from '../../../../shaders/embedding/index_place.wgsl?raw';
import indexScan from '../../../../shaders/embedding/index_scan.wgsl?raw';
import params from '../../../../shaders/embedding/params.wgsl?raw';
import positionBackward from '../../../../shaders/embedding/position_backward.wgsl?raw';
import sinusoid from '../../../../shaders/embedding/sinusoid.wgsl?raw';
import tablePartial from '../../../../shaders/embedding/table_partial.wgsl?raw';
import tableReduce from '../../../../shaders/embedding/table_reduce.wgsl?raw';

export interface EmbeddingKernel {
  label: string;
  code: string;
  entry: string;
}

function kernel(file: string, entry: string, ...parts: string[]): EmbeddingKernel {
  return { label: `embedding/${file}`, code: [params, ...parts].join('\n'), entry };
}

export const EMBEDDING_KERNELS = {
  forward: kernel('forward', 'embed_forward', sinusoid, forward),
  tablePartial: kernel('table_partial', 'embed_table_partial', tablePartial),
  tableReduce: kernel('table_reduce', 'embed_table_reduce', tableReduce),
  positionBackward: kernel('position_backward', 'embed_position_backward', positionBackward),
  indexCount: kernel('index_count', 'embed_index_count', index, indexCount),
  indexScan: kernel('index_scan', 'embed_index_scan', indexScan),
  indexPlace: kernel('index_place', 'embed_index_place', index, indexPlace),
} as const;
