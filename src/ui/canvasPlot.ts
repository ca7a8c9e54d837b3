// The live curves drawn on a 2D canvas: Plotly's redraw of one chart took 20-50 ms of main thread
// on a quiet CPU (90-200 ms with the page training), over the 50 ms a task may take; drawing the
// same traces here takes a few milliseconds. The traces keep Plotly's shape (a subset of its
// scatter attributes: lines, dashes, markers, closed 'toself' fills, opacity, legend groups), so a
// chart reads the same either way. Axes with nice ticks and grid, titles, vertical marker lines, a
// zoomed x range; the hover readout (readout) names each trace's value nearest the cursor, with
// its group's band. The legend and the readout's box are HTML (livePlot.ts).
import { extent, fromPx, nearest, tickLabel, ticks, toPx, valueLabel, type Scale } from './plotScale.ts';

/** A Plotly scatter trace, the attributes the live charts use. */
export interface Trace {
  type?: string;
  mode?: string;
  name?: string;
  x: number[];
  y: number[];
  line?: { color?: string; width?: number; dash?: string };
  marker?: { size?: number; color?: string };
  fill?: string;
  fillcolor?: string;
  opacity?: number;
  hoverinfo?: string;
  showlegend?: boolean;
  legendgroup?: string;
}

export interface PlotSpec {
  title: string;
  xTitle: string;
  yTitle: string;
  logY: boolean;
  traces: Trace[];
  /** Vertical dotted lines across the plot (live hyper-parameter changes). */
  vlines: { x: number; color: string }[];
  /** Legend keys (legendgroup, else name) hidden by a click on the legend. */
  hidden?: ReadonlySet<string>;
  /** A zoomed x range (drag on the plot); undefined: everything. */
  xRange?: [number, number];
}

/** What a drawing left for the hover readout and zoom: the plot area, its scales, the traces shown. */
export interface Drawn {
  x: Scale;
  y: Scale;
  left: number;
  top: number;
  right: number;
  bottom: number;
  traces: Trace[];
}

export const MARGIN = { l: 56, r: 12, t: 30, b: 40 };
const DASH: Record<string, number[]> = { dot: [2, 3], dash: [6, 4] };
const FONT = '11px system-ui, sans-serif';

export const legendKey = (t: Trace) => t.legendgroup ?? t.name ?? '';

function shown(spec: PlotSpec): Trace[] {
  return spec.traces.filter((t) => !spec.hidden?.has(legendKey(t)));
}

/** The scales of a plot area of this size for these traces. */
export function scales(spec: PlotSpec, width: number, height: number): Drawn {
  const traces = shown(spec);
  const left = MARGIN.l;
  const top = MARGIN.t;
  const right = Math.max(left + 10, width - MARGIN.r);
  const bottom = Math.max(top + 10, height - MARGIN.b);
  const markers = traces.some((t) => t.mode?.includes('markers'));
  const xs = function* () {
    for (const t of traces) yield* t.x;
    for (const v of spec.vlines) yield v.x;
  };
  const [x0, x1] = spec.xRange ?? extent(xs(), false, markers ? 0.03 : 0);
  const inRange = function* () {
    for (const t of traces) for (let i = 0; i < t.x.length; i++) if (t.x[i]! >= x0 && t.x[i]! <= x1) yield t.y[i]!;
  };
  const [y0, y1] = extent(inRange(), spec.logY, 0.05);
  return {
    x: { min: x0, max: x1, log: false, pxMin: left, pxMax: right },
    y: { min: y0, max: y1, log: spec.logY, pxMin: bottom, pxMax: top },
    left,
    top,
    right,
    bottom,
    traces,
  };
}

/** Draws the plot into a canvas of `width` x `height` CSS pixels (the context already scaled). */
export function drawPlot(ctx: CanvasRenderingContext2D, spec: PlotSpec, width: number, height: number): Drawn {
  const d = scales(spec, width, height);
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.font = '14px system-ui, sans-serif';
  ctx.fillStyle = '#222';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(spec.title, width / 2, 8);
  axes(ctx, d, spec);

  ctx.save();
  ctx.beginPath();
  ctx.rect(d.left, d.top, d.right - d.left, d.bottom - d.top);
  ctx.clip();
  for (const t of d.traces) trace(ctx, d, t);
  ctx.lineWidth = 1;
  ctx.setLineDash(DASH.dot!);
  for (const v of spec.vlines) {
    const px = toPx(d.x, v.x);
    ctx.strokeStyle = v.color;
    ctx.beginPath();
    ctx.moveTo(px, d.top);
    ctx.lineTo(px, d.bottom);
    ctx.stroke();
  }
  ctx.restore();
  return d;
}

function axes(ctx: CanvasRenderingContext2D, d: Drawn, spec: PlotSpec): void {
  ctx.font = FONT;
  ctx.lineWidth = 1;
  ctx.setLineDash([]);
  ctx.strokeStyle = '#e6e6e6';
  ctx.fillStyle = '#444';
  const xt = ticks(d.x, Math.max(2, Math.floor((d.right - d.left) / 90)));
  const yt = ticks(d.y, 5);
  ctx.beginPath();
  for (const v of xt) {
    const px = Math.round(toPx(d.x, v)) + 0.5;
    ctx.moveTo(px, d.top);
    ctx.lineTo(px, d.bottom);
  }
  for (const v of yt) {
    const py = Math.round(toPx(d.y, v)) + 0.5;
    ctx.moveTo(d.left, py);
    ctx.lineTo(d.right, py);
  }
  ctx.stroke();
  ctx.strokeStyle = '#888';
  ctx.strokeRect(d.left + 0.5, d.top + 0.5, d.right - d.left, d.bottom - d.top);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of xt) ctx.fillText(tickLabel(v), toPx(d.x, v), d.bottom + 4);
  ctx.fillText(spec.xTitle, (d.left + d.right) / 2, d.bottom + 20);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of yt) ctx.fillText(tickLabel(v), d.left - 4, toPx(d.y, v));
  ctx.save();
  ctx.translate(12, (d.top + d.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText(spec.yTitle, 0, 0);
  ctx.restore();
}

/** One trace: a filled closed shape ('toself'), or a polyline broken at missing values, with its markers. */
function trace(ctx: CanvasRenderingContext2D, d: Drawn, t: Trace): void {
  const color = t.line?.color ?? '#444';
  ctx.globalAlpha = t.opacity ?? 1;
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < t.x.length; i++) {
    const px = toPx(d.x, t.x[i]!);
    const py = toPx(d.y, t.y[i]!);
    if (!Number.isFinite(px) || !Number.isFinite(py)) {
      pen = t.fill === 'toself' && pen;
      continue;
    }
    if (pen) ctx.lineTo(px, py);
    else ctx.moveTo(px, py);
    pen = true;
  }
  if (t.fill === 'toself') {
    ctx.closePath();
    ctx.fillStyle = t.fillcolor ?? color;
    ctx.fill();
  }
  const width = t.line?.width ?? 2;
  if (width > 0 && t.fill !== 'toself') {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    ctx.setLineDash(DASH[t.line?.dash ?? ''] ?? []);
    ctx.stroke();
  }
  if (t.mode?.includes('markers')) {
    ctx.fillStyle = t.marker?.color ?? color;
    const r = (t.marker?.size ?? 6) / 2;
    for (let i = 0; i < t.x.length; i++) {
      const px = toPx(d.x, t.x[i]!);
      const py = toPx(d.y, t.y[i]!);
      if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
      ctx.beginPath();
      ctx.arc(px, py, r, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  ctx.globalAlpha = 1;
}

export interface ReadoutRow {
  name: string;
  color: string;
  value: string;
  /** Pixel of the point, for the marker the readout draws on it. */
  py: number;
}

export interface Readout {
  /** The x of the points named, as the axis labels it (x axis title and value). */
  head: string;
  /** Pixel of that x. */
  px: number;
  rows: ReadoutRow[];
}

/** Pixels from the cursor within which a trace's nearest point is named. */
const NEAR_PX = 24;

/**
 * What the cursor at (px, py) points at: each shown trace that has a point within NEAR_PX of its x,
 * that point's value (the mean trace of a band with the band's range), highest first; null outside
 * the plot area or with no point near.
 */
export function readout(d: Drawn, spec: PlotSpec, px: number, py: number): Readout | null {
  if (px < d.left || px > d.right || py < d.top || py > d.bottom) return null;
  const x = fromPx(d.x, px);
  const bands = new Map<string, Trace>();
  for (const t of d.traces) if (t.fill === 'toself' && t.legendgroup) bands.set(t.legendgroup, t);
  let at: number | null = null;
  const rows: (ReadoutRow & { y: number })[] = [];
  for (const t of d.traces) {
    if (t.hoverinfo === 'skip' || t.fill === 'toself' || !t.name) continue;
    const i = nearest(t.x, x);
    if (i < 0 || Math.abs(toPx(d.x, t.x[i]!) - px) > NEAR_PX || !Number.isFinite(t.y[i]!)) continue;
    at ??= t.x[i]!;
    let value = valueLabel(t.y[i]!);
    const band = t.legendgroup ? bands.get(t.legendgroup) : undefined;
    if (band && band.x.length === 2 * t.x.length) value += ` [${valueLabel(band.y[2 * t.x.length - 1 - i]!)}, ${valueLabel(band.y[i]!)}]`;
    rows.push({ name: t.name, color: t.line?.color ?? '#444', value, py: toPx(d.y, t.y[i]!), y: t.y[i]! });
  }
  if (at === null) return null;
  rows.sort((a, b) => b.y - a.y);
  return { head: `${spec.xTitle} ${valueLabel(at)}`, px: toPx(d.x, at), rows: rows.map(({ y: _y, ...r }) => r) };
}
