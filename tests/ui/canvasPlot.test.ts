// The live curves' canvas plots: nice ticks and ranges (linear and log), the drawing of each kind
// of trace on a recording 2D context (band fill, dashes, markers for short traces, gaps at
// missing values, marker lines), and the hover readout (nearest point per trace, the band's range).
import { describe, expect, it } from 'vitest';
import { drawPlot, readout, scales, type PlotSpec, type Trace } from '../../src/ui/canvasPlot.ts';
import { recorder } from './recordingContext.ts';
import { extent, fromPx, linearTicks, logTicks, nearest, niceStep, tickLabel, toPx, valueLabel } from '../../src/ui/plotScale.ts';

const line = (name: string, x: number[], y: number[], extra: Partial<Trace> = {}): Trace => ({ type: 'scatter', mode: 'lines', name, x, y, line: { color: '#1f77b4', width: 1.5 }, ...extra });
const spec = (traces: Trace[], extra: Partial<PlotSpec> = {}): PlotSpec => ({ title: 'Training loss', xTitle: 'step', yTitle: 'loss', logY: false, traces, vlines: [], ...extra });

describe('plot scales', () => {
  it('picks 1-2-5 steps and ticks inside the range', () => {
    expect(niceStep(0.13)).toBeCloseTo(0.2);
    expect(niceStep(3)).toBe(5);
    expect(niceStep(7)).toBe(10);
    expect(linearTicks(0, 1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(linearTicks(0.95, 1.32, 4)).toEqual([1, 1.1, 1.2, 1.3]);
    expect(linearTicks(2, 2)).toEqual([2]);
  });

  it('puts powers of ten on a log axis, with 2 and 5 over a short range', () => {
    expect(logTicks(0.003, 20)).toEqual([0.01, 0.1, 1, 10]);
    expect(logTicks(0.8, 30)).toEqual([1, 2, 5, 10, 20]);
    const inside = logTicks(2.2, 2.9); // no 1-2-5 value inside: evenly spaced ones
    expect(inside.length).toBeGreaterThanOrEqual(2);
    for (const v of inside) expect(v >= 2.2 && v <= 2.9).toBe(true);
  });

  it('spans the finite values with padding, and copes with one value or none', () => {
    expect(extent([1, NaN, 3, Infinity], false, 0.5)).toEqual([0, 4]);
    expect(extent([5], false, 0.1)).toEqual([4.5, 5.5]);
    expect(extent([], false, 0.1)).toEqual([0, 1]);
    const [lo, hi] = extent([-1, 0, 0.1, 10], true, 0); // values <= 0 have no place on a log axis
    expect(lo).toBeCloseTo(0.1);
    expect(hi).toBeCloseTo(10);
    expect(extent([], true, 0)).toEqual([1, 10]);
  });

  it('maps values to pixels and back, linear and log', () => {
    const s = { min: 0, max: 10, log: false, pxMin: 100, pxMax: 0 };
    expect(toPx(s, 2.5)).toBe(75);
    expect(fromPx(s, 75)).toBe(2.5);
    const l = { min: 1, max: 100, log: true, pxMin: 0, pxMax: 200 };
    expect(toPx(l, 10)).toBeCloseTo(100);
    expect(fromPx(l, 100)).toBeCloseTo(10);
    expect(toPx(l, 0)).toBeNaN();
  });

  it('labels ticks and values shortly', () => {
    expect([0, 0.001, 2.5, 12_000, 3_000_000, 1e-7].map(tickLabel)).toEqual(['0', '0.001', '2.5', '12k', '3M', '1e-7']);
    expect(valueLabel(1.234567)).toBe('1.235');
    expect(valueLabel(0.0001234)).toBe('1.234e-4');
  });

  it('finds the nearest point of an ascending column', () => {
    const xs = [0, 10, 20, 30];
    expect(nearest(xs, -5)).toBe(0);
    expect(nearest(xs, 14)).toBe(1);
    expect(nearest(xs, 16)).toBe(2);
    expect(nearest(xs, 99)).toBe(3);
    expect(nearest([], 1)).toBe(-1);
  });
});

describe('canvas plot', () => {
  const band: Trace = { type: 'scatter', mode: 'lines', x: [0, 100, 200, 200, 100, 0], y: [3, 2, 1.5, 1.1, 1.6, 2.6], fill: 'toself', fillcolor: 'rgba(31, 119, 180, 0.22)', line: { width: 0, color: '#1f77b4' }, hoverinfo: 'skip', showlegend: false, legendgroup: 'g' };
  const mean = line('linear (mean of 3, min–max)', [0, 100, 200], [2.8, 1.8, 1.3], { legendgroup: 'g' });

  it('draws the band as one filled shape, the mean as a line, and a title and axis labels', () => {
    const { ctx, log } = recorder();
    drawPlot(ctx, spec([band, mean]), 600, 240);
    const fills = log.filter((c) => c.op === 'fill');
    expect(fills).toHaveLength(1);
    const fillStyle = log.slice(0, log.indexOf(fills[0]!)).filter((c) => c.op === '=fillStyle').at(-1);
    expect(fillStyle?.args[0]).toBe('rgba(31, 119, 180, 0.22)');
    const texts = log.filter((c) => c.op === 'fillText').map((c) => c.args[0]);
    expect(texts).toEqual(expect.arrayContaining(['Training loss', 'step', 'loss', '0', '200']));
    // The mean's three points: one moveTo and two lineTo after the fill.
    const after = log.slice(log.indexOf(fills[0]!));
    expect(after.filter((c) => c.op === 'lineTo').length).toBeGreaterThanOrEqual(2);
    expect(after.some((c) => c.op === 'stroke')).toBe(true);
  });

  it('gives short traces markers, dashes dotted ones, and breaks a line at a missing value', () => {
    const { ctx, log } = recorder();
    drawPlot(ctx, spec([line('a', [0, 1, 2, 3], [1, NaN, 2, 3], { mode: 'lines+markers', marker: { size: 5 }, line: { color: '#f00', dash: 'dot', width: 1 } })]), 600, 240);
    expect(log.filter((c) => c.op === 'arc')).toHaveLength(3); // the three finite points
    expect(log.some((c) => c.op === 'setLineDash' && (c.args[0] as number[]).length === 2)).toBe(true);
    const moves = log.filter((c) => c.op === 'moveTo');
    // After the gap the line starts again: two moveTo for the trace (plus grid and marker lines).
    const plotPart = log.slice(log.findIndex((c) => c.op === 'clip'));
    expect(plotPart.filter((c) => c.op === 'moveTo').length).toBe(2);
    expect(moves.length).toBeGreaterThan(2);
  });

  it('draws a vertical marker line per hyper-parameter change and leaves hidden traces out', () => {
    const { ctx, log } = recorder();
    const d = drawPlot(ctx, spec([band, mean, line('other', [0, 200], [5, 6])], { vlines: [{ x: 100, color: '#0a0' }], hidden: new Set(['other']) }), 600, 240);
    expect(d.traces.map((t) => t.name ?? 'band')).toEqual(['band', mean.name]);
    expect(d.y.max).toBeLessThan(5); // the hidden trace does not stretch the axis
    expect(log.some((c) => c.op === '=strokeStyle' && c.args[0] === '#0a0')).toBe(true);
  });

  it('scales a zoomed x range to its own points', () => {
    const d = scales(spec([line('a', [0, 100, 200], [10, 2, 1])], { xRange: [150, 200] }), 600, 240);
    expect([d.x.min, d.x.max]).toEqual([150, 200]);
    expect(d.y.max).toBeLessThan(2); // only the point at 200 is inside
  });

  it('reads out the nearest value of each trace near the cursor, with the band, highest first', () => {
    const other = line('softmax', [0, 100, 200], [0.5, 0.4, 0.3], { line: { color: '#ff7f0e' } });
    const s = spec([band, mean, other]);
    const { ctx } = recorder();
    const d = drawPlot(ctx, s, 600, 240);
    const r = readout(d, s, toPx(d.x, 105), (d.top + d.bottom) / 2)!;
    expect(r.head).toBe('step 100');
    expect(r.px).toBeCloseTo(toPx(d.x, 100));
    expect(r.rows.map((x) => [x.name, x.value])).toEqual([
      [mean.name, '1.8 [1.6, 2]'],
      ['softmax', '0.4'],
    ]);
    expect(readout(d, s, d.left - 5, d.top + 5)).toBeNull(); // outside the plot area
    expect(readout(d, spec([line('a', [0, 1000], [1, 2])]), toPx(d.x, 500), d.top + 5)).toBeNull();
  });
});
