// @vitest-environment jsdom
// The canvas plot in a page (jsdom, a recording 2D context): a legend entry per group that hides
// and shows its traces, the hover readout that follows the cursor and the newest points, drag to
// zoom the x axis and double-click to see everything.
import { afterEach, describe, expect, it } from 'vitest';
import type { PlotSpec, Trace } from '../../src/ui/canvasPlot.ts';
import { LivePlot } from '../../src/ui/livePlot.ts';
import { recorder } from './recordingContext.ts';

const line = (name: string, color: string, y: number[], extra: Partial<Trace> = {}): Trace => ({ mode: 'lines', name, x: y.map((_, i) => i * 100), y, line: { color, width: 1.5 }, ...extra });
const spec = (traces: Trace[]): PlotSpec => ({ title: 'Training loss', xTitle: 'step', yTitle: 'loss', logY: false, traces, vlines: [] });

function mount() {
  const root = document.createElement('div');
  document.body.appendChild(root);
  const rec = recorder();
  const plot = new LivePlot(root, rec.ctx);
  // jsdom lays nothing out: the canvas's box is at the origin, 600 px wide.
  plot.canvas.getBoundingClientRect = () => ({ left: 0, top: 0, right: 600, bottom: 240, width: 600, height: 240, x: 0, y: 0, toJSON: () => ({}) });
  return { root, plot, rec };
}
const mouse = (t: EventTarget, type: string, x: number, y = 120) => t.dispatchEvent(new MouseEvent(type, { clientX: x, clientY: y, bubbles: true }));

afterEach(() => document.body.replaceChildren());

describe('live plot', () => {
  it('lists one legend entry per shown group and hides a group on click', () => {
    const { plot, rec } = mount();
    const band: Trace = { x: [0, 100, 100, 0], y: [3, 2, 1, 2], fill: 'toself', showlegend: false, legendgroup: 'g', hoverinfo: 'skip' };
    plot.update(spec([band, line('linear (mean of 2)', '#1f77b4', [2.5, 1.5], { legendgroup: 'g' }), line('softmax', '#ff7f0e', [1, 0.5])]));
    const entries = [...plot.legend.querySelectorAll('button')];
    expect(entries.map((b) => b.textContent)).toEqual(['linear (mean of 2)', 'softmax']);
    const fillsBefore = rec.log.filter((c) => c.op === 'fill').length;
    entries[0]!.click();
    expect(plot.legend.querySelector('button')!.getAttribute('aria-pressed')).toBe('false');
    // Redrawn without the group: no band fill this time.
    expect(rec.log.filter((c) => c.op === 'fill').length).toBe(fillsBefore);
    plot.legend.querySelector('button')!.click();
    expect(plot.legend.querySelector('button')!.getAttribute('aria-pressed')).toBe('true');
    expect(rec.log.filter((c) => c.op === 'fill').length).toBe(fillsBefore + 1);
  });

  it('reads out the values under the cursor and keeps the readout current as points arrive', () => {
    const { plot } = mount();
    plot.update(spec([line('softmax', '#ff7f0e', [1, 0.5, 0.25])]));
    expect(plot.tip.hidden).toBe(true);
    mouse(plot.canvas, 'mousemove', 580); // near the last point (step 200), at the right end
    expect(plot.tip.hidden).toBe(false);
    expect(plot.tip.textContent).toBe('step 200softmax: 0.25');
    plot.update(spec([line('softmax', '#ff7f0e', [1, 0.5, 0.25, 0.2, 0.125])])); // the axis grows: the cursor now points at step 400
    expect(plot.tip.textContent).toBe('step 400softmax: 0.125');
    mouse(plot.canvas, 'mouseleave', 0);
    expect(plot.tip.hidden).toBe(true);
  });

  it('zooms the x axis by a drag and shows everything again on double-click', () => {
    const { plot } = mount();
    plot.update(spec([line('a', '#000', [4, 3, 2, 1, 0.5])])); // steps 0..400 over pixels 56..588
    mouse(plot.canvas, 'mousedown', 56 + 133);
    mouse(plot.canvas, 'mousemove', 56 + 266);
    mouse(window, 'mouseup', 56 + 266);
    const z = plot.zoomed!;
    expect(z[0]).toBeCloseTo(100, 0);
    expect(z[1]).toBeCloseTo(200, 0);
    mouse(plot.canvas, 'dblclick', 300);
    expect(plot.zoomed).toBeUndefined();
    // A click without a drag does not zoom.
    mouse(plot.canvas, 'mousedown', 300);
    mouse(window, 'mouseup', 301);
    expect(plot.zoomed).toBeUndefined();
  });

  it('leaves an empty box when destroyed', () => {
    const { root, plot } = mount();
    plot.update(spec([line('a', '#000', [1, 2])]));
    plot.destroy();
    expect(root.childElementCount).toBe(0);
  });
});
