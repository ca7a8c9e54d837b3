// The benchmark report: its JSON shape (top-level keys are stable: device, matmul, trainStep,
// attention, sampling; added: ceiling, profile), the ratios every figure is reported as (ours / peer, N / N0, taken in one
// run), the targets of issue 5 and the printed tables. Pure functions of the report, so the Node
// CLI, the browser page and the browser runner print the same thing and tests need no GPU.
import type { AttentionKind } from '../engine/ops/attention.ts';
import { medianInterval } from '../util/stats.ts';
import type { Ceiling } from './ceiling.ts';
import { SQUARE, SQUARE_ROLE, type MatmulKernelRow } from './matmulKernels.ts';
import type { StepProfile } from './profile.ts';
import type { AdapterFacts } from '../util/adapter.ts';

export interface DeviceInfo {
  /** The adapter as WebGPU describes it (vendor, architecture, device, description). */
  description: string;
  backend: 'swiftshader' | 'gpu';
  /** Where it ran: a browser's user agent, or "node <version> (Dawn)". */
  runtime: string;
}

export interface MatmulRow {
  /** "MxNxK", C[M, N] = op(A) op(B) with K the shared dimension. */
  shape: string;
  /** Which product of the training step this shape is (e.g. "qkv forward", "ffn.2 dW"). */
  role: string;
  transA: boolean;
  transB: boolean;
  oursGflops: number;
  /** null where the peer was not measured (the Node CLI has no TF.js). */
  tfjsGflops: number | null;
  /** oursGflops over the FMA ceiling of this run (null where it was not measured). */
  fraction?: number | null;
}

export interface TrainStepResult {
  /** The model both implementations train, and the batch. */
  config: Record<string, unknown>;
  oursMs: number;
  tfjsMs: number | null;
  /** Mean loss of the measured steps (both start from different random weights, so only a sanity check). */
  oursLoss?: number;
  tfjsLoss?: number | null;
  /** Flops of the step's matmuls and attention (src/bench/model.ts trainStepFlops). */
  flops?: { matmul: number; attention: number; total: number };
  /** flops.total / oursMs, and that over the FMA ceiling. */
  oursGflops?: number | null;
  fraction?: number | null;
  notes: string[];
}

export interface AttentionRow {
  kind: AttentionKind;
  seq: number;
  /** Median milliseconds of one causal forward + backward. */
  ms: number;
  /** Largest pooled GPU memory in use during the measured runs (our buffer accounting). */
  peakBytes: number;
}

/**
 * Momentum / linear attention time at one N from interleaved pairs (src/bench/attention.ts
 * pairedAttentionRatio): each pair times both kinds back to back, in alternating order, and its
 * ratio is one sample, so a slow moment of a shared machine moves one pair, not one kind.
 */
export interface PairedRatioRow {
  seq: number;
  /** Each pair's momentum ms / linear ms, in the order measured. */
  ratios: number[];
  median: number;
  /** The median's distribution-free 95% interval (order statistics; NaN below 6 pairs). */
  low: number;
  high: number;
}

/** One attention layer stepped token by token: the attention's own share of sampling. */
export interface AttentionSamplingResult {
  seq: number;
  batch: number;
  recurrentTokensPerSec: number;
  kvCacheTokensPerSec: number;
  noCacheTokensPerSec: number;
  notes: string[];
}

export interface SamplingResult {
  /** 'model': the whole transformer through the sampler; 'attention': one attention layer only. */
  level: 'attention' | 'model';
  /** Tokens per generated sequence (784 = one 28 x 28 MNIST image, unless capped). */
  seq: number;
  batch: number;
  recurrentTokensPerSec: number;
  kvCacheTokensPerSec: number;
  noCacheTokensPerSec: number;
  /** Images per second at `seq` tokens each (batch sequences generated side by side). */
  recurrentImagesPerSec: number;
  kvCacheImagesPerSec: number;
  noCacheImagesPerSec: number;
  /** Recurrent / KV-cache tokens per second of each interleaved pair of whole samples (absent in older reports). */
  pairRatios?: number[];
  notes: string[];
  /** The same three forms for one attention layer alone, where measured. */
  attentionLevel?: AttentionSamplingResult | null;
}

/** One training step of the ListOps encoder (src/bench/encoderStep.ts) for one attention kind. */
export interface EncoderStepRow {
  kind: AttentionKind;
  seq: number;
  batch: number;
  /** Median milliseconds of one step (forward, backward, AdamW). */
  ms: number;
  /** Largest pooled GPU memory in use during the measured steps (our buffer accounting). */
  peakBytes: number;
}

export interface BenchReport {
  device: DeviceInfo;
  options: Record<string, unknown>;
  matmul: MatmulRow[];
  /** The variant's matmul kernels side by side on 1024^3 and the step's shapes, each shape's default first (section 'matmul'); absent in older reports. */
  matmulKernels?: MatmulKernelRow[];
  trainStep: TrainStepResult | null;
  attention: AttentionRow[];
  /** Kinds whose larger N were skipped because the previous N predicted more than the budget. */
  attentionSkipped: { kind: AttentionKind; fromSeq: number }[];
  /** Momentum / linear from interleaved pairs at each linear-time N (section 'attention'); absent in older reports. */
  attentionPaired?: PairedRatioRow[];
  sampling: SamplingResult | null;
  /** One ListOps encoder training step per attention kind (section 'encoder'); absent or empty where not measured. */
  encoderStep?: EncoderStepRow[];
  /** The FMA ceiling measured in this run (src/bench/ceiling.ts); null where not measured. */
  ceiling?: Ceiling | null;
  /** Per-kernel profiles of one training step and one sampling step (`--profile`). */
  profile?: { train: StepProfile | null; sample: StepProfile | null } | null;
  /** The adapter's name, features and limits, where the runner recorded them. */
  adapter?: AdapterFacts | null;
  notes: string[];
}

export { adapterFacts, LIMITS_SHOWN, type AdapterFacts } from '../util/adapter.ts';

/**
 * Fills every throughput's fraction of the FMA ceiling (matmul rows, the training step, the
 * profiles' rows) and the training step's GFLOP/s from its flops. Call once the run is measured.
 */
export function applyCeiling(r: BenchReport): BenchReport {
  const c = r.ceiling?.fmaGflops ?? null;
  const of = (g: number | null | undefined) => (c && g != null && Number.isFinite(g) ? g / c : null);
  for (const m of r.matmul) m.fraction = of(m.oursGflops);
  for (const m of r.matmulKernels ?? []) m.fraction = of(m.gflops);
  const t = r.trainStep;
  if (t) {
    t.oursGflops = t.flops && t.oursMs > 0 ? t.flops.total / (t.oursMs * 1e6) : null;
    t.fraction = of(t.oursGflops);
  }
  for (const p of [r.profile?.train, r.profile?.sample]) {
    for (const row of p?.rows ?? []) row.fraction = of(row.gflops);
  }
  return r;
}

/** A report with nothing measured yet, for one device and the options of the run. */
export function emptyReport(device: DeviceInfo, options: object, notes: string[] = []): BenchReport {
  return {
    device,
    options: { ...options },
    matmul: [],
    trainStep: null,
    attention: [],
    attentionSkipped: [],
    sampling: null,
    ceiling: null,
    profile: null,
    notes,
  };
}

export interface TargetCheck {
  name: string;
  /** The figure, as a ratio taken in this run. */
  value: number | null;
  /** What the figure should reach, in the same units. */
  target: number;
  /** 'min': value >= target holds; 'max': value <= target holds. */
  sense: 'min' | 'max';
  holds: boolean | null;
  /** How far off: value / target for 'min', target / value for 'max' (1 or more when it holds). */
  margin: number | null;
}

const KINDS: AttentionKind[] = ['softmax', 'linear', 'momentum'];

/** a / b, or null when either is missing or b is not positive. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null;
  return a / b;
}

export function attentionRow(rows: AttentionRow[], kind: AttentionKind, seq: number): AttentionRow | undefined {
  return rows.find((r) => r.kind === kind && r.seq === seq);
}

/** Sequence lengths measured, ascending. */
export function attentionSeqs(rows: AttentionRow[]): number[] {
  return [...new Set(rows.map((r) => r.seq))].sort((a, b) => a - b);
}

/** Each kind's time at N over its own time at the smallest N measured (N0). */
export function growth(rows: AttentionRow[], kind: AttentionKind, seq: number): number | null {
  const n0 = attentionSeqs(rows.filter((r) => r.kind === kind))[0];
  if (n0 === undefined) return null;
  return ratio(attentionRow(rows, kind, seq)?.ms, attentionRow(rows, kind, n0)?.ms);
}

export function momentumOverLinear(rows: AttentionRow[], seq: number): number | null {
  return ratio(attentionRow(rows, 'momentum', seq)?.ms, attentionRow(rows, 'linear', seq)?.ms);
}

function check(name: string, value: number | null, target: number, sense: 'min' | 'max'): TargetCheck {
  if (value === null) return { name, value, target, sense, holds: null, margin: null };
  const holds = sense === 'min' ? value >= target : value <= target;
  const margin = sense === 'min' ? value / target : target / value;
  return { name, value, target, sense, holds, margin };
}

/** Issue 5's targets, each as a ratio from this run. */
export function checkTargets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  out.push(check('training step: TF.js ms / ours ms', ratio(r.trainStep?.tfjsMs, r.trainStep?.oursMs), 2, 'min'));
  const mm = r.matmul.filter((m) => m.tfjsGflops !== null);
  const worst = mm.length ? Math.min(...mm.map((m) => m.oursGflops / m.tfjsGflops!)) : null;
  out.push(check('matmul: ours / TF.js GFLOP/s, worst shape', worst, 1, 'min'));
  const square = r.matmulKernels?.find((m) => m.isDefault && m.role === SQUARE_ROLE);
  if (r.device.backend === 'gpu' && square) {
    // Issue 14's real-GPU target, against this run's FMA ceiling as the adapter's fp32 peak.
    out.push(check(`matmul ${square.shape} on a GPU: default kernel / FMA ceiling`, square.fraction ?? null, 0.3, 'min'));
  }
  const paired = r.attentionPaired ?? [];
  if (paired.length) {
    // The issue asks for medians of repeated runs: the worst N's median over interleaved pairs.
    out.push(check('attention: momentum / linear ms, worst N (median of interleaved pairs)', Math.max(...paired.map((p) => p.median)), 1.1, 'max'));
  } else {
    const seqs = attentionSeqs(r.attention);
    const ratios = seqs.map((n) => momentumOverLinear(r.attention, n)).filter((x): x is number => x !== null);
    out.push(check('attention: momentum / linear ms, worst N', ratios.length ? Math.max(...ratios) : null, 1.1, 'max'));
  }
  const s = r.sampling;
  if (s?.pairRatios?.length) {
    out.push(check('sampling: recurrent / KV-cache images per s (median of interleaved pairs)', medianInterval(s.pairRatios).median, 5, 'min'));
  } else {
    out.push(check('sampling: recurrent / KV-cache images per s', ratio(s?.recurrentImagesPerSec, s?.kvCacheImagesPerSec), 5, 'min'));
  }
  return out;
}

export function fmt(x: number | null | undefined, digits = 1): string {
  return x == null || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const MiB = 2 ** 20;

/** A fraction as a percentage, or '-'. */
export function pct(x: number | null | undefined): string {
  return x == null || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`;
}

/** One step's per-kernel profile as a table, the costliest kernel first. */
export function formatProfile(p: StepProfile): string {
  return (
    `## 6. Profile: ${p.step} (${p.method}; ${p.dispatches} dispatches; step ${fmt(p.stepMs, 2)} ms wall, kernels ${fmt(p.kernelMs, 2)} ms)\n\n` +
    table(
      ['kernel', 'calls', 'ms', 'share', 'GFLOP/s', 'GB/s (bound)', 'of ceiling'],
      p.rows.map((row) => [
        row.kernel + (row.timedAlone && p.method === 'timestamps' ? ' (alone)' : ''),
        String(row.calls),
        fmt(row.ms, 3),
        pct(row.share),
        fmt(row.gflops, 2),
        fmt(row.gbps, 2),
        pct(row.fraction),
      ]),
    ) +
    (p.notes.length ? '\n\n' + p.notes.map((n) => `- ${n}`).join('\n') : '')
  );
}

/** The report as Markdown tables, every figure beside the ratio it is reported as. */
export function formatReport(r: BenchReport): string {
  const parts: string[] = [];
  parts.push(`device: ${r.device.description} (${r.device.backend}); runtime: ${r.device.runtime}`);
  if (r.adapter) {
    parts.push(
      `features: ${r.adapter.features.join(', ') || 'none'}\nlimits: ` +
        Object.entries(r.adapter.limits)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
    );
  }
  const c = r.ceiling;
  if (c) {
    parts.push(
      `FMA ceiling: ${fmt(c.fmaGflops, 2)} GFLOP/s (shaders/fma_ceiling.wgsl: ${c.workgroups} workgroups of ${c.workgroupSize}, ` +
        `${c.iterations} rounds of 8 vec4 FMAs, median ${fmt(c.ms, 1)} ms); "of ceiling" below is a fraction of it`,
    );
  }

  if (r.matmul.length) {
    parts.push(
      '## 1. Matmul, the shapes of one training step (GFLOP/s, 2 M N K flops per product)\n\n' +
        table(
          ['shape MxNxK', 'role', 'ours', 'TF.js', 'ours / TF.js', 'of ceiling'],
          r.matmul.map((m) => [
            m.shape + (m.transA ? ' (A^T)' : '') + (m.transB ? ' (B^T)' : ''),
            m.role,
            fmt(m.oursGflops, 2),
            fmt(m.tfjsGflops, 2),
            fmt(ratio(m.oursGflops, m.tfjsGflops), 2),
            pct(m.fraction),
          ]),
        ),
    );
  }

  const mk = r.matmulKernels ?? [];
  if (mk.length) {
    const base = (m: MatmulKernelRow) => mk.find((d) => d.isDefault && d.shape === m.shape && d.role === m.role)?.gflops;
    parts.push(
      `## 1b. Matmul kernels of the ${r.device.backend} variant, side by side (GFLOP/s, medians of alternating rounds; ${SQUARE_ROLE}: ${SQUARE}^3)\n\n` +
        table(
          ['shape MxNxK', 'role', 'kernel', 'GFLOP/s', 'over the default', 'of ceiling'],
          mk.map((m) => [m.shape, m.role, m.entry + (m.isDefault ? ' (default)' : ''), fmt(m.gflops, 2), fmt(ratio(m.gflops, base(m)), 2), pct(m.fraction)]),
        ),
    );
  }

  const t = r.trainStep;
  if (t) {
    const cfg = Object.entries(t.config)
      .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(', ');
    parts.push(
      `## 2. One training step (forward, backward, Adam)\n\n${cfg}\n\n` +
        table(
          ['ours ms', 'TF.js ms', 'TF.js / ours (speed-up)', 'ours GFLOP/s (matmuls + attention)', 'of ceiling'],
          [[fmt(t.oursMs), fmt(t.tfjsMs), fmt(ratio(t.tfjsMs, t.oursMs), 2), fmt(t.oursGflops, 2), pct(t.fraction)]],
        ) +
        (t.notes.length ? '\n\n' + t.notes.map((n) => `- ${n}`).join('\n') : ''),
    );
  }

  if (r.attention.length) {
    const seqs = attentionSeqs(r.attention);
    const n0 = seqs[0]!;
    const cell = (kind: AttentionKind, n: number) => {
      const row = attentionRow(r.attention, kind, n);
      return row ? `${fmt(row.ms)} (${fmt(growth(r.attention, kind, n), 2)}x)` : 'skipped (over budget)';
    };
    parts.push(
      `## 3. Attention forward + backward, causal (ms, and growth from N = ${n0})\n\n` +
        table(
          ['N', ...KINDS.map((k) => `${k} ms (x N0)`), 'momentum / linear', `N / ${n0}`],
          seqs.map((n) => [String(n), ...KINDS.map((k) => cell(k, n)), fmt(momentumOverLinear(r.attention, n), 2), String(n / n0)]),
        ),
    );
    const paired = r.attentionPaired ?? [];
    if (paired.length) {
      parts.push(
        '## 3b. Momentum / linear attention time from interleaved pairs (median and its 95% interval)\n\n' +
          table(
            ['N', 'pairs', 'median', '95% interval', 'pairs over 1.10'],
            paired.map((p) => [String(p.seq), String(p.ratios.length), fmt(p.median, 3), Number.isNaN(p.low) ? '-' : `${fmt(p.low, 3)} .. ${fmt(p.high, 3)}`, String(p.ratios.filter((x) => x > 1.1).length)]),
          ),
      );
    }
    const mem = (kind: AttentionKind, n: number) => {
      const row = attentionRow(r.attention, kind, n);
      return row ? fmt(row.peakBytes / MiB, 2) : '-';
    };
    parts.push(
      '## 5. Peak GPU memory of one attention forward + backward (MiB, our pool accounting)\n\n' +
        table(
          ['N', ...KINDS.map((k) => `${k}`), 'softmax / linear', 'momentum / linear'],
          seqs.map((n) => {
            const lin = attentionRow(r.attention, 'linear', n)?.peakBytes;
            return [
              String(n),
              ...KINDS.map((k) => mem(k, n)),
              fmt(ratio(attentionRow(r.attention, 'softmax', n)?.peakBytes, lin), 2),
              fmt(ratio(attentionRow(r.attention, 'momentum', n)?.peakBytes, lin), 2),
            ];
          }),
        ),
    );
  }

  const e = r.encoderStep ?? [];
  if (e.length) {
    const soft = e.find((x) => x.kind === 'softmax');
    parts.push(
      `## 6. One ListOps training step, encoder (the paper preset's model), N = ${e[0]!.seq}, batch ${e[0]!.batch}\n\n` +
        table(
          ['kind', 'ms', 'peak MiB', 'softmax / this (time)', 'softmax / this (memory)'],
          e.map((x) => [x.kind, fmt(x.ms), fmt(x.peakBytes / MiB, 2), fmt(ratio(soft?.ms, x.ms), 2), fmt(ratio(soft?.peakBytes, x.peakBytes), 2)]),
        ),
    );
  }

  const s = r.sampling;
  if (s) {
    parts.push(
      `## 4. Sampling (${s.level} level, batch ${s.batch}, ${s.seq} tokens per sequence)\n\n` +
        table(
          ['form', 'tokens/s', 'images/s', 'recurrent / this'],
          [
            ['recurrent (momentum state)', fmt(s.recurrentTokensPerSec), fmt(s.recurrentImagesPerSec, 3), '1.00'],
            ['softmax + KV cache', fmt(s.kvCacheTokensPerSec), fmt(s.kvCacheImagesPerSec, 3), fmt(ratio(s.recurrentTokensPerSec, s.kvCacheTokensPerSec), 2)],
            ['softmax, no cache', fmt(s.noCacheTokensPerSec), fmt(s.noCacheImagesPerSec, 3), fmt(ratio(s.recurrentTokensPerSec, s.noCacheTokensPerSec), 2)],
          ],
        ) +
        (s.notes.length ? '\n\n' + s.notes.map((n) => `- ${n}`).join('\n') : ''),
    );
    const a = s.attentionLevel;
    if (a) {
      parts.push(
        `### 4b. Sampling, one attention layer alone (batch ${a.batch}, ${a.seq} tokens)\n\n` +
          table(
            ['form', 'tokens/s', 'recurrent / this'],
            [
              ['recurrent (momentum state)', fmt(a.recurrentTokensPerSec), '1.00'],
              ['softmax + KV cache', fmt(a.kvCacheTokensPerSec), fmt(ratio(a.recurrentTokensPerSec, a.kvCacheTokensPerSec), 2)],
              ['softmax, no cache', fmt(a.noCacheTokensPerSec), fmt(ratio(a.recurrentTokensPerSec, a.noCacheTokensPerSec), 2)],
            ],
          ) +
          (a.notes.length ? '\n\n' + a.notes.map((n) => `- ${n}`).join('\n') : ''),
      );
    }
  }

  for (const p of [r.profile?.train, r.profile?.sample]) if (p) parts.push(formatProfile(p));

  const targets = checkTargets(r);
  parts.push(
    '## Targets\n\n' +
      table(
        ['target', 'this run', 'wanted', 'holds', 'margin'],
        targets.map((c) => [
          c.name,
          fmt(c.value, 2),
          `${c.sense === 'min' ? '>=' : '<='} ${c.target}`,
          c.holds === null ? 'not measured' : c.holds ? 'yes' : 'no',
          c.margin === null ? '-' : c.holds ? `${fmt(c.margin, 2)}x inside` : `misses by ${fmt(1 / c.margin, 2)}x`,
        ]),
      ),
  );
  if (r.notes.length) parts.push('Notes:\n' + r.notes.map((n) => `- ${n}`).join('\n'));
  return parts.join('\n\n');
}
