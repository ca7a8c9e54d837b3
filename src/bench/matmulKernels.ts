// The matmul kernels of the adapter's variant on one square product, 1024^3 (the real-GPU
// shape): the default kernel beside the others that could run it, so an adapter shows which is
// faster on it. On a GPU: matmul_tiled (the default) and, where the device has one fixed
// subgroup size, matmul_subgroup; on SwiftShader: the default (matmul_register_vec4_sg where the
// device has subgroups of 4) and matmul_register_vec4. The kernels alternate over ROUNDS rounds
// and each reports its median, so a slow moment of the machine moves all of them alike.
import { matmulGflops, planMatmul, type MatmulEntry } from '../engine/kernels/matmul.ts';
import type { Gpu } from '../engine/gpu.ts';

export const SQUARE = 1024;
const ROUNDS = 3;

export interface MatmulKernelRow {
  /** "MxNxK" of C[M, N] = A[M, K] B[K, N]. */
  shape: string;
  entry: MatmulEntry;
  /** Whether planMatmul picks this kernel for the shape on this device. */
  isDefault: boolean;
  /** Median GFLOP/s over the rounds (2 M N K flops per product). */
  gflops: number;
  /** gflops over the FMA ceiling of the run (null where it was not measured). */
  fraction?: number | null;
}

/** The kernels timed on `gpu`, the default first. */
export function squareEntries(gpu: Gpu): MatmulEntry[] {
  const chosen = planMatmul('squareEntries', gpu, { batch: 1, m: SQUARE, n: SQUARE, k: SQUARE }).launch.entry;
  const others: MatmulEntry[] = gpu.backend === 'gpu' ? (gpu.subgroupSize !== null && gpu.subgroupSize >= 4 ? ['matmul_subgroup'] : []) : ['matmul_register_vec4'];
  return [chosen, ...others.filter((e) => e !== chosen)];
}

/** Times each of squareEntries(gpu) on SQUARE^3, `iterations` products a timing. */
export async function matmulKernels(gpu: Gpu, iterations: number, log: (line: string) => void = () => {}): Promise<MatmulKernelRow[]> {
  const entries = squareEntries(gpu);
  const runs: number[][] = entries.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < entries.length; i++) {
      runs[i]!.push((await matmulGflops(gpu, SQUARE, SQUARE, SQUARE, iterations, { entry: entries[i] })).gflops);
    }
  }
  const shape = `${SQUARE}x${SQUARE}x${SQUARE}`;
  return entries.map((entry, i) => {
    const gflops = [...runs[i]!].sort((a, b) => a - b)[ROUNDS >> 1]!;
    log(`  ${shape} ${entry}${i === 0 ? ' (default)' : ''}: ${gflops.toFixed(2)} GFLOP/s`);
    return { shape, entry, isDefault: i === 0, gflops };
  });
}
