// The inspector's heatmaps: a grid of small maps (layers x heads), one enlarged with a readout of
// the cell under the pointer (query and key, their tokens or pixels, the weight, the row's sum for
// momentum), and beta~ per layer and token for adaptive runs. Maps are canvases, one pixel per
// cell scaled up by CSS, so a 783 x 783 MNIST map costs no more DOM than a 24 x 24 copy map.
import { useEffect, useRef, useState, type MouseEvent } from 'react';
import type { Inspection } from '../worker/inspection.ts';
import { cellAt, describeCell, describePosition, formatWeight, headMatrix, heatColour, maxOf, rowSums, targetShare } from './inspectView.ts';

const SMALL_PX = 96;
const LARGE_PX = 360;

interface HeatmapProps {
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  max: number;
  /** CSS size of the longer side. */
  px: number;
  label: string;
  /** Per row, a column drawn in orange (the copy task's read position), or -1. */
  marks?: Int32Array | null;
  onCell?: (cell: [number, number] | null) => void;
}

export function Heatmap({ values, rows, cols, max, px, label, marks, onCell }: HeatmapProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return; // jsdom has no 2-D canvas
    const img = ctx.createImageData(cols, rows);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const [r, g, b] = heatColour(values[i * cols + j]!, max);
        const at = (i * cols + j) * 4;
        const marked = marks && marks[i] === j;
        // Marked cells: the same ramp in orange, so the weight there still reads.
        img.data[at] = marked ? 255 : r;
        img.data[at + 1] = marked ? Math.round(g * 0.6) : g;
        img.data[at + 2] = marked ? Math.round(b * 0.2) : b;
        img.data[at + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }, [values, rows, cols, max, marks]);
  const scale = px / Math.max(rows, cols);
  const move = (e: MouseEvent<HTMLCanvasElement>) => {
    if (!onCell) return;
    const r = e.currentTarget.getBoundingClientRect();
    onCell(cellAt(e.clientX - r.left, e.clientY - r.top, r.width, r.height, rows, cols));
  };
  return (
    <canvas
      ref={canvas}
      className="heatmap"
      width={cols}
      height={rows}
      style={{ width: `${cols * scale}px`, height: `${rows * scale}px` }}
      role="img"
      aria-label={label}
      onMouseMove={onCell ? move : undefined}
      onMouseLeave={onCell ? () => onCell(null) : undefined}
    />
  );
}

function shareText(x: Inspection, l: number, h: number): string | null {
  const s = targetShare(x, l, h);
  return s === null ? null : `${(100 * s).toFixed(0)}% on the read position`;
}

/** Layers x heads of small maps; a click enlarges one. */
export function AttentionGrid({ x, selected, onSelect }: { x: Inspection; selected: [number, number]; onSelect(c: [number, number]): void }) {
  const n = x.seq;
  return (
    <table className="attention-grid">
      <thead>
        <tr>
          <th />
          {Array.from({ length: x.heads }, (_, h) => (
            <th key={h} scope="col">head {h + 1}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {Array.from({ length: x.layers }, (_, l) => (
          <tr key={l}>
            <th scope="row">layer {l + 1}</th>
            {Array.from({ length: x.heads }, (_, h) => {
              const a = headMatrix(x, l, h);
              const share = shareText(x, l, h);
              const on = selected[0] === l && selected[1] === h;
              return (
                <td key={h}>
                  <button
                    type="button"
                    className={on ? 'cell selected' : 'cell'}
                    aria-pressed={on}
                    aria-label={`Enlarge layer ${l + 1}, head ${h + 1}${share ? ` (${share})` : ''}`}
                    onClick={() => onSelect([l, h])}
                  >
                    <Heatmap values={a} rows={n} cols={n} max={maxOf(a)} px={SMALL_PX} label={`layer ${l + 1}, head ${h + 1}`} marks={x.target} />
                  </button>
                  {share && <div className="share">{share}</div>}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One head's map at full size, with the readout of the cell under the pointer. */
export function EnlargedMap({ x, layer, head }: { x: Inspection; layer: number; head: number }) {
  const [cell, setCell] = useState<[number, number] | null>(null);
  const a = headMatrix(x, layer, head);
  const n = x.seq;
  const momentum = x.attention.kind === 'momentum';
  const sums = momentum ? rowSums(a, n) : null;
  const share = shareText(x, layer, head);
  return (
    <figure className="enlarged">
      <div className="enlarged-maps">
        <Heatmap
          values={a}
          rows={n}
          cols={n}
          max={maxOf(a)}
          px={LARGE_PX}
          label={`attention of layer ${layer + 1}, head ${head + 1}: queries down, keys across`}
          marks={x.target}
          onCell={setCell}
        />
        {sums && (
          <Heatmap
            values={sums}
            rows={n}
            cols={1}
            max={maxOf(sums)}
            px={LARGE_PX}
            label="row sums"
            onCell={(c) => setCell(c ? [c[0], -1] : null)}
          />
        )}
      </div>
      <p className="readout" role="status" aria-label="cell under the pointer">
        {cell === null
          ? 'Point at a cell: query down, key across.'
          : cell[1] < 0
            ? `query ${describePosition(x, cell[0])}: row sum ${sums![cell[0]]!.toFixed(3)}`
            : describeCell(x, layer, head, cell[0], cell[1])}
      </p>
      <figcaption>
        Layer {layer + 1}, head {head + 1}: weight of each key (across) for each query (down), step {x.step}, held-out example{' '}
        {x.example}.{sums && ` Momentum rows do not sum to 1: row sums ${formatWeight(Math.min(...sums))} to ${formatWeight(Math.max(...sums))} (the strip).`}
        {share && ` Orange: the position each query should read (${share}).`}
      </figcaption>
    </figure>
  );
}

/** beta~ per layer (from the second) and token; the adaptive connection's momentum (0 to 1). */
export function BetaTildeMap({ x }: { x: Inspection }) {
  const [cell, setCell] = useState<[number, number] | null>(null);
  if (!x.betaTilde) return null;
  const rows = x.layers - 1;
  return (
    <figure className="beta-tilde">
      <Heatmap values={x.betaTilde} rows={rows} cols={x.seq} max={1} px={LARGE_PX} label="beta~ per layer and token" onCell={setCell} />
      <p className="readout" role="status" aria-label="beta~ under the pointer">
        {cell ? `layer ${cell[0] + 2}, ${describePosition(x, cell[1])}: beta~ ${x.betaTilde[cell[0] * x.seq + cell[1]]!.toFixed(3)}` : 'Point at a cell.'}
      </p>
      <figcaption>Adaptive beta~ per token (across) for layers 2 to {x.layers} (down), white 0 to blue 1.</figcaption>
    </figure>
  );
}
