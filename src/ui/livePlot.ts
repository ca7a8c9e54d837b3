// One canvas plot in the page (canvasPlot.ts draws it): the canvas sized to its box (device pixels),
// an HTML legend whose entries hide and show their trace group on click, the hover readout (a
// vertical line and a box naming each trace's nearest value, kept up to date while new points
// arrive), drag on the plot to zoom the x axis, double-click to see everything again.
import { drawPlot, legendKey, readout, type Drawn, type PlotSpec, type Trace } from './canvasPlot.ts';
import { fromPx } from './plotScale.ts';

export const PLOT_HEIGHT = 240;
/** The readout names at most this many traces (the highest values first). */
const READOUT_ROWS = 12;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, parent: HTMLElement): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  parent.appendChild(e);
  return e;
}

export class LivePlot {
  readonly canvas: HTMLCanvasElement;
  readonly legend: HTMLDivElement;
  readonly tip: HTMLDivElement;
  private readonly line: HTMLDivElement;
  private readonly box: HTMLDivElement;
  private ctx: CanvasRenderingContext2D | null;
  private spec: PlotSpec | null = null;
  private drawn: Drawn | null = null;
  private width: number;
  private mouse: { x: number; y: number } | null = null;
  private drag: number | null = null;
  private hidden = new Set<string>();
  private xRange: [number, number] | undefined;
  private legendSig = '';
  private readonly resize: ResizeObserver | null;
  private readonly off: (() => void)[] = [];

  /** `context`: where to draw (tests); by default the canvas's 2D context (none under jsdom, which has no canvas). */
  constructor(
    private readonly root: HTMLElement,
    context?: CanvasRenderingContext2D | null,
  ) {
    root.classList.add('live-plot');
    this.canvas = el('canvas', 'plot-canvas', root);
    this.canvas.title = 'Drag to zoom the horizontal axis, double-click to see everything';
    this.canvas.setAttribute('role', 'img');
    this.line = el('div', 'plot-hover-line', root);
    this.box = el('div', 'plot-zoom-box', root);
    this.tip = el('div', 'plot-tip', root);
    this.tip.setAttribute('role', 'status');
    this.legend = el('div', 'plot-legend', root);
    this.line.hidden = this.box.hidden = this.tip.hidden = true;
    this.ctx = context !== undefined ? context : typeof navigator !== 'undefined' && navigator.userAgent.includes('jsdom') ? null : this.canvas.getContext('2d');
    this.width = root.clientWidth || 600;
    this.resize =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver(() => {
            const w = root.clientWidth;
            if (w > 0 && w !== this.width) {
              this.width = w;
              this.redraw();
            }
          });
    this.resize?.observe(root);
    const on = <K extends keyof HTMLElementEventMap>(t: EventTarget, type: K, f: (e: HTMLElementEventMap[K]) => void) => {
      t.addEventListener(type, f as EventListener);
      this.off.push(() => t.removeEventListener(type, f as EventListener));
    };
    const pos = (e: MouseEvent) => {
      const r = this.canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    on(this.canvas, 'mousemove', (e) => {
      this.mouse = pos(e);
      this.hover();
      if (this.drag !== null) this.showBox(this.drag, this.mouse.x);
    });
    on(this.canvas, 'mouseleave', () => {
      this.mouse = null;
      this.hover();
    });
    on(this.canvas, 'mousedown', (e) => {
      const p = pos(e);
      if (this.drawn && p.x >= this.drawn.left && p.x <= this.drawn.right) this.drag = p.x;
    });
    on(window, 'mouseup', (e) => {
      if (this.drag === null) return;
      const a = this.drag;
      this.drag = null;
      this.box.hidden = true;
      const b = Math.min(Math.max(pos(e).x, this.drawn?.left ?? 0), this.drawn?.right ?? 0);
      if (this.drawn && Math.abs(b - a) > 4) this.zoom([fromPx(this.drawn.x, Math.min(a, b)), fromPx(this.drawn.x, Math.max(a, b))]);
    });
    on(this.canvas, 'dblclick', () => this.zoom(undefined));
  }

  /** Draws these traces (and keeps them for the legend, hover and zoom). */
  update(spec: PlotSpec): void {
    this.spec = spec;
    this.canvas.setAttribute('aria-label', spec.title);
    this.redraw();
    this.fillLegend(spec.traces);
  }

  /** The zoomed x range (undefined: all of it). */
  zoom(range: [number, number] | undefined): void {
    this.xRange = range;
    this.redraw();
  }

  get zoomed(): [number, number] | undefined {
    return this.xRange;
  }

  /** Hides or shows a legend entry's traces. */
  toggle(key: string): void {
    if (!this.hidden.delete(key)) this.hidden.add(key);
    this.legendSig = '';
    if (this.spec) this.update(this.spec);
  }

  private redraw(): void {
    if (!this.spec) return;
    const spec = { ...this.spec, hidden: this.hidden, xRange: this.xRange };
    const dpr = globalThis.devicePixelRatio || 1;
    const w = this.width;
    const h = PLOT_HEIGHT;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${h}px`;
    }
    if (this.ctx) {
      this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      this.drawn = drawPlot(this.ctx, spec, w, h);
    }
    this.hover();
  }

  /** The readout at the cursor, from the newest drawing. */
  private hover(): void {
    const r = this.mouse && this.drawn && this.spec ? readout(this.drawn, { ...this.spec, hidden: this.hidden }, this.mouse.x, this.mouse.y) : null;
    this.line.hidden = this.tip.hidden = !r;
    if (!r || !this.drawn || !this.mouse) return;
    const d = this.drawn;
    Object.assign(this.line.style, { left: `${r.px}px`, top: `${d.top}px`, height: `${d.bottom - d.top}px` });
    const rows = r.rows.slice(0, READOUT_ROWS);
    const parts: HTMLElement[] = [];
    const head = document.createElement('div');
    head.className = 'plot-tip-head';
    head.textContent = r.head;
    parts.push(head);
    for (const row of rows) {
      const div = document.createElement('div');
      const sw = document.createElement('span');
      sw.className = 'plot-swatch';
      sw.style.background = row.color;
      div.append(sw, `${row.name}: ${row.value}`);
      parts.push(div);
    }
    if (r.rows.length > rows.length) {
      const more = document.createElement('div');
      more.textContent = `and ${r.rows.length - rows.length} more`;
      parts.push(more);
    }
    this.tip.replaceChildren(...parts);
    // Beside the cursor, on the side with room.
    const right = r.px < (d.left + d.right) / 2;
    Object.assign(this.tip.style, right ? { left: `${r.px + 12}px`, right: '' } : { left: '', right: `${this.width - r.px + 12}px` }, { top: `${d.top}px` });
  }

  private showBox(a: number, b: number): void {
    if (!this.drawn) return;
    this.box.hidden = false;
    Object.assign(this.box.style, { left: `${Math.min(a, b)}px`, width: `${Math.abs(b - a)}px`, top: `${this.drawn.top}px`, height: `${this.drawn.bottom - this.drawn.top}px` });
  }

  /** One entry per legend group (rebuilt only when the entries change). */
  private fillLegend(traces: Trace[]): void {
    const entries = traces.filter((t) => t.showlegend !== false && t.name);
    const sig = entries.map((t) => `${legendKey(t)}|${t.name}|${t.line?.color}|${t.line?.dash}`).join(';');
    if (sig === this.legendSig) return;
    this.legendSig = sig;
    this.legend.replaceChildren(
      ...entries.map((t) => {
        const key = legendKey(t);
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'plot-legend-entry';
        b.setAttribute('aria-pressed', String(!this.hidden.has(key)));
        b.title = this.hidden.has(key) ? 'Show this trace' : 'Hide this trace';
        const sw = document.createElement('span');
        sw.className = 'plot-legend-line';
        sw.style.borderTop = `2px ${t.line?.dash === 'dot' ? 'dotted' : t.line?.dash === 'dash' ? 'dashed' : 'solid'} ${t.line?.color ?? '#444'}`;
        b.append(sw, t.name!);
        b.addEventListener('click', () => this.toggle(key));
        return b;
      }),
    );
  }

  destroy(): void {
    this.resize?.disconnect();
    for (const f of this.off) f();
    this.root.replaceChildren();
    this.root.classList.remove('live-plot');
  }
}
