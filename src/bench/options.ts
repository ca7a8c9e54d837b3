// The benchmark's options: one typed object with defaults, read from the page's query string (the
// browser runner passes its command-line options that way).

export const SECTIONS = ['matmul', 'train', 'attention', 'sampling', 'encoder'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  sections: Section[];
  /** Attention: N from minN doubling to maxN; heads x dim per head; batch 1. */
  minN: number;
  maxN: number;
  heads: number;
  dim: number;
  /** Timed repetitions of each attention and training-step measurement (after one warm-up). */
  reps: number;
  /** Seconds one (kind, N) attention measurement may take before larger N of that kind are skipped. */
  budget: number;
  /** Interleaved momentum / linear pairs timed at each N for the ratio's median (attention section). */
  pairs: number;
  /** Products timed per matmul shape. */
  matmulIters: number;
  /** Tokens per sampled sequence (784 = a 28 x 28 image) and sequences side by side. */
  sampleSeq: number;
  sampleBatch: number;
  /** Interleaved pairs of whole samples (recurrent, KV cache) the sampling figures are medians of. */
  samplePairs: number;
  /** Section 'encoder': one ListOps training step at this many tokens per sequence, this batch. */
  encoderSeq: number;
  encoderBatch: number;
}

export const defaultBenchOptions: BenchOptions = {
  sections: [...SECTIONS],
  minN: 256,
  maxN: 8192,
  heads: 4,
  dim: 32,
  reps: 3,
  budget: 60,
  pairs: 15,
  matmulIters: 5,
  sampleSeq: 784,
  sampleBatch: 8,
  samplePairs: 3,
  encoderSeq: 2000,
  encoderBatch: 32,
};

const NUMERIC = ['minN', 'maxN', 'heads', 'dim', 'reps', 'budget', 'pairs', 'matmulIters', 'sampleSeq', 'sampleBatch', 'samplePairs', 'encoderSeq', 'encoderBatch'] as const;

/** Options from a query string; throws naming the first bad value. */
export function parseBenchQuery(query: string): BenchOptions {
  const p = new URLSearchParams(query);
  const o: BenchOptions = { ...defaultBenchOptions, sections: [...defaultBenchOptions.sections] };
  for (const name of NUMERIC) {
    const raw = p.get(name);
    if (raw === null) continue;
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number; got '${raw}'`);
    o[name] = name === 'budget' ? v : Math.round(v);
  }
  const sections = p.get('sections');
  if (sections !== null) {
    const list = sections.split(',').filter(Boolean);
    for (const s of list) {
      if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`unknown section '${s}' (use ${SECTIONS.join(', ')})`);
    }
    o.sections = list as Section[];
  }
  if (o.minN > o.maxN) throw new Error(`minN ${o.minN} is larger than maxN ${o.maxN}`);
  return o;
}

/** The query string that gives these options (only what differs from the defaults). */
export function benchQuery(o: Partial<BenchOptions>): string {
  const p = new URLSearchParams();
  for (const name of NUMERIC) {
    const v = o[name];
    if (v !== undefined && v !== defaultBenchOptions[name]) p.set(name, String(v));
  }
  if (o.sections && o.sections.join(',') !== SECTIONS.join(',')) p.set('sections', o.sections.join(','));
  return p.toString();
}
