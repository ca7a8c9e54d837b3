// Attention forward + backward timings and peak memory at growing N, shared by `npm run bench`
// (Node, Dawn) and the browser benchmark page. One attention layer, causal, batch 1; softmax
// stops once the previous N predicts more than the per-(kind, N) budget.
import type { Gpu } from '../engine/gpu.ts';
import { attention, type AttentionKind, type AttentionSpec } from '../engine/ops/attention.ts';
import { Tape, variable } from '../engine/tensor.ts';
import { median, medianInterval } from '../util/stats.ts';
import type { AttentionRow, PairedRatioRow } from './report.ts';

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

/**
 * Median milliseconds of one forward + backward (each run waited for on its own, so a busy moment
 * of a shared machine spoils one sample, not the figure), after one warm-up run; and the pool's
 * peak bytes over the measured runs.
 */
export async function timeAttention(gpu: Gpu, kind: AttentionKind, n: number, o: AttentionBenchOptions): Promise<AttentionRow> {
  const inputs = attentionInputs(gpu, n, o);
  const once = () => inputs.run(kind);
  try {
    once();
    await gpu.sync();
    gpu.pool.resetPeak();
    const times: number[] = [];
    for (let r = 0; r < o.reps; r++) times.push(await timed(gpu, once));
    return { kind, seq: n, ms: median(times), peakBytes: gpu.pool.peakBytes };
  } finally {
    inputs.dispose();
  }
}

/** q, k, v and the output gradient at one N, shared by every kind timed on them (and scripts/attention-profile.ts). */
export function attentionInputs(gpu: Gpu, n: number, o: Pick<AttentionBenchOptions, 'heads' | 'dim' | 'beta' | 'gamma'>) {
  const shape = [1, o.heads, n, o.dim];
  const size = o.heads * n * o.dim;
  const q = variable(gpu, benchData(size, 1), shape, 'q'); // [1, H, N, D]
  const k = variable(gpu, benchData(size, 2), shape, 'k'); // [1, H, N, D]
  const v = variable(gpu, benchData(size, 3), shape, 'v'); // [1, H, N, D]
  const dOut = variable(gpu, benchData(size, 4), shape, 'dOut'); // [1, H, N, D]
  return {
    /** One forward + backward of `kind`, recorded and submitted (not waited for). */
    run(kind: AttentionKind) {
      const tape = new Tape(gpu);
      const out = attention(tape, attentionSpec(kind, o.beta, o.gamma), q, k, v);
      tape.backward(out, dOut);
      tape.dispose([q, k, v]);
    },
    dispose() {
      for (const t of [q, k, v, dOut]) t.dispose();
      gpu.pool.trim();
    },
  };
}

/** Wall milliseconds of `run` and the wait for its GPU work. */
async function timed(gpu: Gpu, run: () => void): Promise<number> {
  const t0 = performance.now();
  run();
  await gpu.sync();
  return performance.now() - t0;
}

/**
 * Momentum / linear time at one N from `pairs` interleaved pairs: each pair times one forward +
 * backward of each kind back to back (linear first in even pairs, momentum first in odd ones, so
 * neither kind always follows the other), and its ratio is one sample. The median and its
 * distribution-free 95% interval then say whether the ratio is under a target, where two
 * separately taken medians on a shared machine move by more than the difference.
 */
export async function pairedAttentionRatio(gpu: Gpu, n: number, o: AttentionBenchOptions, pairs: number): Promise<PairedRatioRow> {
  if (!(Number.isInteger(pairs) && pairs >= 1)) throw new Error(`pairs must be a positive integer; got ${pairs}`);
  const inputs = attentionInputs(gpu, n, o);
  try {
    for (const kind of ['linear', 'momentum'] as const) {
      inputs.run(kind); // warm-up: pipelines built, pool filled
      await gpu.sync();
    }
    const ratios: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? (['linear', 'momentum'] as const) : (['momentum', 'linear'] as const);
      const ms: Record<string, number> = {};
      for (const kind of order) ms[kind] = await timed(gpu, () => inputs.run(kind));
      ratios.push(ms.momentum! / ms.linear!);
    }
    const m = medianInterval(ratios);
    return { seq: n, ratios, median: m.median, low: m.low, high: m.high };
  } finally {
    inputs.dispose();
  }
}

/** pairedAttentionRatio at N = minN, 2 minN, ... maxN. */
export async function pairedSweep(gpu: Gpu, o: AttentionBenchOptions, pairs: number, log: (line: string) => void = () => {}): Promise<PairedRatioRow[]> {
  const rows: PairedRatioRow[] = [];
  for (let n = o.minN; n <= o.maxN; n *= 2) {
    const row = await pairedAttentionRatio(gpu, n, o, pairs);
    rows.push(row);
    const ci = Number.isNaN(row.low) ? '' : ` [${row.low.toFixed(3)}, ${row.high.toFixed(3)}]`;
    log(`  momentum / linear N=${n}: median ${row.median.toFixed(3)}${ci} over ${pairs} interleaved pairs`);
  }
  return rows;
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
