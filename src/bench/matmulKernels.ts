// The matmul kernels of the adapter's variant side by side: on one square product, 1024^3 (the
// issue's real-GPU shape), and on the shapes of the benchmark's training step, each kernel that
// can run the shape beside the default, so one run on an adapter shows which is faster where. On a
// GPU: matmul_tiled (the default) and, where the device has one fixed subgroup size,
// matmul_subgroup; on SwiftShader: its default beside matmul_register_vec4 where that applies.
// For each shape the kernels alternate over ROUNDS rounds and each reports its median, so a slow
// moment of the machine moves all of them alike.
import { matmulGflops, planMatmul, type MatmulEntry } from '../engine/kernels/matmul.ts';
import type { Gpu } from '../engine/gpu.ts';
import { median } from '../util/stats.ts';
import { shapeName, trainStepMatmuls, type MatmulShape } from './model.ts';

export const SQUARE = 1024;
/** The role of the square product in the rows. */
export const SQUARE_ROLE = 'square';
const ROUNDS = 3;

export interface MatmulKernelRow {
  /** "MxNxK" of C[M, N] = op(A) op(B). */
  shape: string;
  /** SQUARE_ROLE, or the training step's product (e.g. "qkv forward"). */
  role: string;
  entry: MatmulEntry;
  /** Whether planMatmul picks this kernel for the shape on this device. */
  isDefault: boolean;
  /** Median GFLOP/s over the rounds (2 M N K flops per product). */
  gflops: number;
  /** gflops over the FMA ceiling of the run (null where it was not measured). */
  fraction?: number | null;
}

/** The kernels timed on `gpu` for shape `s`: the default first, then those that can also run it. */
export function kernelsFor(gpu: Gpu, s: MatmulShape): MatmulEntry[] {
  const shape = { batch: 1, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB };
  const chosen = planMatmul('kernelsFor', gpu, shape).launch.entry;
  const candidates: MatmulEntry[] = gpu.backend === 'gpu' ? ['matmul_tiled', 'matmul_subgroup'] : ['matmul_register_vec4_sg', 'matmul_register_vec4'];
  const runs = (entry: MatmulEntry) => {
    try {
      planMatmul('kernelsFor', gpu, { ...shape, entry });
      return true;
    } catch {
      return false; // this device or shape cannot run it
    }
  };
  return [chosen, ...candidates.filter((e) => e !== chosen && runs(e))];
}

/** Times kernelsFor each of SQUARE^3 and the training step's shapes, `iterations` products a timing. */
export async function matmulKernels(gpu: Gpu, iterations: number, log: (line: string) => void = () => {}): Promise<MatmulKernelRow[]> {
  const shapes: MatmulShape[] = [{ m: SQUARE, n: SQUARE, k: SQUARE, transA: false, transB: false, role: SQUARE_ROLE }, ...trainStepMatmuls()];
  const rows: MatmulKernelRow[] = [];
  for (const s of shapes) {
    const entries = kernelsFor(gpu, s);
    const runs: number[][] = entries.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < entries.length; i++) {
        runs[i]!.push((await matmulGflops(gpu, s.m, s.n, s.k, iterations, { entry: entries[i], transA: s.transA, transB: s.transB })).gflops);
      }
    }
    entries.forEach((entry, i) => {
      const gflops = median(runs[i]!);
      log(`  ${shapeName(s)} ${s.role} ${entry}${i === 0 ? ' (default)' : ''}: ${gflops.toFixed(2)} GFLOP/s`);
      rows.push({ shape: shapeName(s), role: s.role, entry, isDefault: i === 0, gflops });
    });
  }
  return rows;
}
