// Attention forward + backward timings and peak memory at growing N, shared by `npm run bench`
// (Node, Dawn) and the browser benchmark page. One attention layer, causal, batch 1; softmax
// stops once the previous N predicts more than the per-(kind, N) budget.
import type { Gpu } from '../engine/gpu.ts';
import { attention, type AttentionKind, type AttentionSpec } from '../engine/ops/attention.ts';
import { Tape, variable } from '../engine/tensor.ts';
import type { AttentionRow } from './report.ts';

export interface AttentionBenchOptions {
  heads: number;
  dim: number;
  /** Smallest and largest N; N doubles from minN. */
  minN: number;
  maxN: number;
  /** Seconds one (kind, N) measurement may take before larger N of that kind is skipped. */
  budget: number;
  reps: number;
  /** momentum attention's beta and gamma (the paper's MNIST values by default). */
  beta?: number;
  gamma?: number;
}

export const ATTENTION_KINDS: AttentionKind[] = ['softmax', 'linear', 'momentum'];

/** Deterministic values in [-0.25, 0.25): no denormals or NaNs, which slow CPU emulation. */
export function benchData(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 0.5;
  }
  return out;
}

export function attentionSpec(kind: AttentionKind, beta = 0.6, gamma = 0.9): AttentionSpec {
  return kind === 'momentum' ? { kind, causal: true, beta, gamma } : { kind, causal: true };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median milliseconds of one forward + backward (each run waited for on its own, so a busy moment
 * of a shared machine spoils one sample, not the figure), after one warm-up run; and the pool's
 * peak bytes over the measured runs.
 */
export async function timeAttention(gpu: Gpu, kind: AttentionKind, n: number, o: AttentionBenchOptions): Promise<AttentionRow> {
  const shape = [1, o.heads, n, o.dim];
  const size = o.heads * n * o.dim;
  const q = variable(gpu, benchData(size, 1), shape, 'q'); // [1, H, N, D]
  const k = variable(gpu, benchData(size, 2), shape, 'k'); // [1, H, N, D]
  const v = variable(gpu, benchData(size, 3), shape, 'v'); // [1, H, N, D]
  const dOut = variable(gpu, benchData(size, 4), shape, 'dOut'); // [1, H, N, D]
  const spec = attentionSpec(kind, o.beta, o.gamma);
  const once = () => {
    const tape = new Tape(gpu);
    const out = attention(tape, spec, q, k, v);
    tape.backward(out, dOut);
    tape.dispose([q, k, v]);
  };
  try {
    once();
    await gpu.sync();
    gpu.pool.resetPeak();
    const times: number[] = [];
    for (let r = 0; r < o.reps; r++) {
      const t0 = performance.now();
      once();
      await gpu.sync();
      times.push(performance.now() - t0);
    }
    return { kind, seq: n, ms: median(times), peakBytes: gpu.pool.peakBytes };
  } finally {
    for (const t of [q, k, v, dOut]) t.dispose();
    gpu.pool.trim();
  }
}

/**
 * Every kind at N = minN, 2 minN, ... maxN. A kind stops when its last time times its growth per
 * doubling (4 for O(N^2) softmax, 2 otherwise) would pass the budget.
 */
export async function attentionSweep(
  gpu: Gpu,
  o: AttentionBenchOptions,
  log: (line: string) => void = () => {},
): Promise<{ rows: AttentionRow[]; skipped: { kind: AttentionKind; fromSeq: number }[] }> {
  const rows: AttentionRow[] = [];
  const skipped: { kind: AttentionKind; fromSeq: number }[] = [];
  const stopped = new Set<AttentionKind>();
  for (let n = o.minN; n <= o.maxN; n *= 2) {
    for (const kind of ATTENTION_KINDS) {
      if (stopped.has(kind)) continue;
      const prev = rows.find((r) => r.kind === kind && r.seq === n / 2);
      const growthPerDoubling = kind === 'softmax' ? 4 : 2;
      if (prev && (prev.ms * growthPerDoubling * (o.reps + 1)) / 1000 > o.budget) {
        stopped.add(kind);
        skipped.push({ kind, fromSeq: n });
        log(`  ${kind} N=${n}: skipped (predicted over the ${o.budget} s budget)`);
        continue;
      }
      const row = await timeAttention(gpu, kind, n, o);
      rows.push(row);
      log(`  ${kind} N=${n}: ${row.ms.toFixed(1)} ms, peak ${(row.peakBytes / 2 ** 20).toFixed(2)} MiB`);
    }
  }
  return { rows, skipped };
}
