// The FMA ceiling of the device, measured in the same run as every benchmark: a shader of nothing
// but independent vec4 FMA chains (shaders/fma_ceiling.wgsl) over enough workgroups to fill the
// device. Every throughput in the report is also given as a fraction of it.
import fmaWgsl from '../../shaders/fma_ceiling.wgsl?raw';
import type { Gpu } from '../engine/gpu.ts';
import { empty } from '../engine/tensor.ts';
import { median } from '../util/stats.ts';

export interface Ceiling {
  /** Median GFLOP/s of the FMA shader (8 flops per vec4 FMA). */
  fmaGflops: number;
  workgroups: number;
  workgroupSize: number;
  /** FMA rounds per invocation, doubled until one dispatch takes at least minMs. */
  iterations: number;
  /** Median milliseconds of one dispatch, and the flops it does. */
  ms: number;
  flops: number;
}

export interface CeilingOptions {
  /** Workgroups of 64 invocations (default: 4096 on a GPU, 64 on SwiftShader: two per core is plenty). */
  workgroups?: number;
  /** The dispatch is lengthened until it takes this long (ms). */
  minMs?: number;
  /** Timed dispatches after calibration; the median is reported. */
  reps?: number;
}

const WG = 64;
const CHAINS = 8;
const MAX_ITERS = 1 << 22;

/** Flops of one dispatch of the FMA shader. */
export function fmaFlops(workgroups: number, iterations: number): number {
  return workgroups * WG * iterations * CHAINS * 4 * 2;
}

export async function fmaCeiling(gpu: Gpu, opts: CeilingOptions = {}): Promise<Ceiling> {
  const workgroups = opts.workgroups ?? (gpu.backend === 'swiftshader' ? 64 : 4096);
  const minMs = opts.minMs ?? 200;
  const reps = opts.reps ?? 3;
  if (!Number.isInteger(workgroups) || workgroups < 1) throw new Error(`fmaCeiling: workgroups must be a positive integer; got ${workgroups}`);
  const [gx, gy] = gpu.grid(workgroups);
  const out = empty(gpu, [gx * gy * WG], 'bench.fma'); // [invocations]
  const kernel = gpu.kernel({ label: 'fma_ceiling', code: fmaWgsl, entry: 'fma_ceiling', constants: { WG } });
  const time = async (iters: number): Promise<number> => {
    const t0 = performance.now();
    kernel.run({ fmaOut: out }, { iters, rowLen: gx * WG, seed: 0, pad: 0 }, [gx, gy]);
    await gpu.sync();
    return performance.now() - t0;
  };
  try {
    await time(1); // builds the pipeline
    // The faster of two runs calibrates: a first run at a new length can be slow for other reasons.
    const twice = async (n: number) => Math.min(await time(n), await time(n));
    let iters = 64;
    let ms = await twice(iters);
    while (ms < minMs && iters < MAX_ITERS) {
      iters = Math.min(MAX_ITERS, iters * Math.max(2, Math.min(16, Math.ceil(minMs / Math.max(ms, 1e-3)))));
      ms = await twice(iters);
    }
    const times = [ms];
    for (let i = 1; i < reps; i++) times.push(await time(iters));
    const med = median(times);
    // Read one value back: the results are used, and a broken shader fails here.
    const [v] = await out.read();
    if (!Number.isFinite(v)) throw new Error(`fmaCeiling: the FMA shader wrote ${v}`);
    const flops = fmaFlops(gx * gy, iters);
    return { fmaGflops: flops / (med * 1e6), workgroups: gx * gy, workgroupSize: WG, iterations: iters, ms: med, flops };
  } finally {
    out.dispose();
  }
}
