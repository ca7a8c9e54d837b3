// The benchmark report: its JSON shape (top-level keys are stable: device, matmul, trainStep,
// attention, sampling), the ratios every figure is reported as (ours / peer, N / N0, taken in one
// run), the targets of issue 5 and the printed tables. Pure functions of the report, so the Node
// CLI, the browser page and the browser runner print the same thing and tests need no GPU.
import type { AttentionKind } from '../engine/ops/attention.ts';

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
}

export interface TrainStepResult {
  /** The model both implementations train, and the batch. */
  config: Record<string, unknown>;
  oursMs: number;
  tfjsMs: number | null;
  /** Mean loss of the measured steps (both start from different random weights, so only a sanity check). */
  oursLoss?: number;
  tfjsLoss?: number | null;
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
  notes: string[];
  /** The same three forms for one attention layer alone, where measured. */
  attentionLevel?: AttentionSamplingResult | null;
}

export interface BenchReport {
  device: DeviceInfo;
  options: Record<string, unknown>;
  matmul: MatmulRow[];
  trainStep: TrainStepResult | null;
  attention: AttentionRow[];
  /** Kinds whose larger N were skipped because the previous N predicted more than the budget. */
  attentionSkipped: { kind: AttentionKind; fromSeq: number }[];
  sampling: SamplingResult | null;
  notes: string[];
}

/** A report with nothing measured yet, for one device and the options of the run. */
export function emptyReport(device: DeviceInfo, options: object, notes: string[] = []): BenchReport {
  return { device, options: { ...options }, matmul: [], trainStep: null, attention: [], attentionSkipped: [], sampling: null, notes };
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
  const seqs = attentionSeqs(r.attention);
  const ratios = seqs.map((n) => momentumOverLinear(r.attention, n)).filter((x): x is number => x !== null);
  out.push(check('attention: momentum / linear ms, worst N', ratios.length ? Math.max(...ratios) : null, 1.1, 'max'));
  const s = r.sampling;
  out.push(check('sampling: recurrent / KV-cache images per s', ratio(s?.recurrentImagesPerSec, s?.kvCacheImagesPerSec), 5, 'min'));
  return out;
}

export function fmt(x: number | null | undefined, digits = 1): string {
  return x == null || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const MiB = 2 ** 20;

/** The report as Markdown tables, every figure beside the ratio it is reported as. */
export function formatReport(r: BenchReport): string {
  const parts: string[] = [];
  parts.push(`device: ${r.device.description} (${r.device.backend}); runtime: ${r.device.runtime}`);

  if (r.matmul.length) {
    parts.push(
      '## 1. Matmul, the shapes of one training step (GFLOP/s, 2 M N K flops per product)\n\n' +
        table(
          ['shape MxNxK', 'role', 'ours', 'TF.js', 'ours / TF.js'],
          r.matmul.map((m) => [
            m.shape + (m.transA ? ' (A^T)' : '') + (m.transB ? ' (B^T)' : ''),
            m.role,
            fmt(m.oursGflops, 2),
            fmt(m.tfjsGflops, 2),
            fmt(ratio(m.oursGflops, m.tfjsGflops), 2),
          ]),
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
          ['ours ms', 'TF.js ms', 'TF.js / ours (speed-up)'],
          [[fmt(t.oursMs), fmt(t.tfjsMs), fmt(ratio(t.tfjsMs, t.oursMs), 2)]],
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
