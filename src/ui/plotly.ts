// Plotly, loaded on demand (the basic bundle: scatter traces are all its charts need), so the page
// and the no-WebGPU explanation appear before the chart library has been fetched. The sweep view
// draws with it; the live curves, redrawn while runs train, draw on a canvas (livePlot.ts), since
// one Plotly redraw took longer than a main-thread task may.
export interface PlotlyLike {
  newPlot(el: HTMLElement, data: object[], layout: object, config?: object): Promise<unknown>;
  react(el: HTMLElement, data: object[], layout: object, config?: object): Promise<unknown>;
  extendTraces(el: HTMLElement, update: { x: number[][]; y: number[][] }, indices: number[]): Promise<unknown>;
  relayout(el: HTMLElement, update: object): Promise<unknown>;
  purge(el: HTMLElement): void;
}

let loading: Promise<PlotlyLike> | null = null;

export function loadPlotly(): Promise<PlotlyLike> {
  loading ??= import('plotly.js/dist/plotly-basic.min.js').then((m) => ((m as { default?: PlotlyLike }).default ?? m) as PlotlyLike);
  return loading;
}
