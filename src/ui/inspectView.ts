// Plain functions behind the inspector's views (no React, no engine): one head's matrix out of an
// inspection, row sums, the share of weight on the copy task's read positions, what a position is
// (a token, or a pixel), and the colour scale.
import type { Inspection } from '../worker/inspection.ts';

/** Steps of a running run between two refreshes of its matrices. */
export const REFRESH_STEPS = 5;

/** A[l, h] as an N x N view (row i: query i). */
export function headMatrix(x: Inspection, layer: number, head: number): Float32Array {
  const nn = x.seq * x.seq;
  const at = (layer * x.heads + head) * nn;
  return x.weights.subarray(at, at + nn);
}

export function rowSums(a: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j]!;
    out[i] = s;
  }
  return out;
}

/**
 * Copy task: the mean over the queries that must read a position of the share of their row's
 * weight that lands on it (weight / row sum, so momentum rows that do not sum to 1 compare too).
 * null when no query has a read position.
 */
export function targetShare(x: Inspection, layer: number, head: number): number | null {
  if (!x.target) return null;
  const a = headMatrix(x, layer, head);
  const n = x.seq;
  let total = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const t = x.target[i]!;
    if (t < 0) continue;
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j]!;
    if (s !== 0) total += a[i * n + t]! / s;
    count++;
  }
  return count > 0 ? total / count : null;
}

/** "position 7, token 3" or, for images, "pixel (2, 5), grey 118". */
export function describePosition(x: Inspection, pos: number): string {
  const tok = x.tokens[pos]!;
  if (x.imageSide > 0) return `pixel (${Math.floor(pos / x.imageSide)}, ${pos % x.imageSide}), grey ${tok}`;
  return `position ${pos}, token ${tok}`;
}

/** The text the enlarged map shows for the cell under the pointer. */
export function describeCell(x: Inspection, layer: number, head: number, i: number, j: number): string {
  const a = headMatrix(x, layer, head);
  const n = x.seq;
  let text = `query ${describePosition(x, i)} → key ${describePosition(x, j)}: weight ${formatWeight(a[i * n + j]!)}`;
  if (x.attention.kind === 'momentum') text += `; row sum ${rowSums(a, n)[i]!.toFixed(3)}`;
  const t = x.target?.[i] ?? -1;
  if (t >= 0) text += `; should read position ${t}`;
  return text;
}

export function formatWeight(w: number): string {
  return w === 0 ? '0' : Math.abs(w) >= 0.01 ? w.toFixed(3) : w.toExponential(2);
}

/** Largest entry, the top of the colour scale (at least a small positive number). */
export function maxOf(a: ArrayLike<number>): number {
  let m = 1e-12;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/** White (0) to dark blue (max), with a square-root ramp so small weights stay visible. */
export function heatColour(v: number, max: number): [number, number, number] {
  const t = Math.sqrt(Math.min(1, Math.max(0, v / max)));
  return [Math.round(255 - 227 * t), Math.round(255 - 187 * t), Math.round(255 - 115 * t)];
}

/** The cell (row, column) of an n_rows x n_cols map under a pointer at (px, py) in a w x h box. */
export function cellAt(px: number, py: number, w: number, h: number, rows: number, cols: number): [number, number] | null {
  if (!(w > 0 && h > 0) || px < 0 || py < 0 || px >= w || py >= h) return null;
  return [Math.min(rows - 1, Math.floor((py / h) * rows)), Math.min(cols - 1, Math.floor((px / w) * cols))];
}
