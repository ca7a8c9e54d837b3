// @vitest-environment jsdom
// The classification parts of the page in jsdom: the ListOps and image fields of the form, the
// selected run's confusion matrix and test examples from the worker's report, the accuracy panel,
// a classifier's Samples note, and every run's tokens/s. Plotly is mocked.
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetApp } from '../../src/store/store.ts';
import { makeRunConfig } from '../../src/train/presets.ts';
import { FakePort, mountApp } from './fakePort.tsx';
import { packMetrics, type ClassReport, type PresetTable } from '../../src/worker/protocol.ts';

const plotly = vi.hoisted(() => ({
  newPlot: vi.fn(async () => undefined),
  react: vi.fn(async () => undefined),
  extendTraces: vi.fn(async () => undefined),
  relayout: vi.fn(async () => undefined),
  purge: vi.fn(),
}));
vi.mock('../../src/ui/plotly.ts', () => ({ loadPlotly: async () => plotly }));


const TASKS = ['copy', 'listops', 'images'] as const;
const table: PresetTable = {
  names: ['tiny'],
  descriptions: {},
  configs: Object.fromEntries(TASKS.map((t) => [t, { tiny: makeRunConfig({ task: t, variant: 'momentum', preset: 'tiny' }) }])),
};
const listopsRun = makeRunConfig({ task: 'listops', variant: 'softmax', preset: 'tiny', overrides: { name: 'softmax listops' } });
const imagesRun = makeRunConfig({ task: 'images', variant: 'linear', preset: 'tiny', overrides: { name: 'linear images' } });

function mount() {
  const { port, hub } = mountApp(new FakePort());
  port.reply({ type: 'ready', backend: 'gpu', description: 'test GPU' });
  port.reply({ type: 'presets', table });
  return { port, hub };
}

const matrix = (k: number) => Array.from({ length: k }, (_, t) => Array.from({ length: k }, (_, p) => (t === p ? 3 : t === (p + 1) % k ? 1 : 0)));

beforeEach(() => {
  resetApp();
  globalThis.requestAnimationFrame ??= ((fn: FrameRequestCallback) => setTimeout(() => fn(0), 0) as unknown as number) as typeof requestAnimationFrame;
  globalThis.cancelAnimationFrame ??= ((id: number) => clearTimeout(id)) as typeof cancelAnimationFrame;
});
afterEach(() => cleanup());

/** The images the canvases were given (jsdom has no 2d context). */
const drawn: { width: number; data: Uint8ClampedArray }[] = [];
beforeEach(() => {
  drawn.length = 0;
  HTMLCanvasElement.prototype.getContext = (() => ({
    createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    putImageData: (img: { width: number; data: Uint8ClampedArray }) => drawn.push(img),
  })) as unknown as HTMLCanvasElement['getContext'];
});

describe('classification in the page', () => {
  it("offers ListOps with its fields at the tiny preset's values, marking a bad one as typed", () => {
    mount();
    fireEvent.change(screen.getByLabelText('Task'), { target: { value: 'listops' } });
    expect((screen.getByLabelText('Preset') as HTMLSelectElement).value).toBe('tiny');
    const depth = screen.getByLabelText('Nesting depth') as HTMLInputElement;
    expect(depth.placeholder).toBe('3');
    expect((screen.getByLabelText('Longest expression (tokens)') as HTMLInputElement).placeholder).toBe('40');
    fireEvent.change(screen.getByLabelText('Fewest arguments'), { target: { value: '9' } });
    expect(screen.getByTestId('train-blocker').textContent).toBe('Train is disabled: Fewest arguments 9 is more than the most arguments 5');
    expect(screen.queryByLabelText('Sequence length')).toBeNull();
    fireEvent.change(screen.getByLabelText('Task'), { target: { value: 'images' } });
    expect((screen.getByLabelText('Classes') as HTMLInputElement).placeholder).toBe('10');
    expect(screen.getByRole('option', { name: '28 x 28 (784 tokens)' })).toBeTruthy();
    expect(screen.getByTestId('train-blocker').textContent).toBe('');
  });

  it("shows the selected run's confusion matrix, its ListOps examples and tokens/s", async () => {
    const { port } = mount();
    port.reply({ type: 'created', runId: 'a', config: listopsRun, step: 0, parameters: 1000 });
    expect(screen.getByText(/appear at the run's next evaluation \(every 50 steps\)/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Evaluate now (step 0)' }));
    expect(port.sent.at(-1)).toEqual({ type: 'evaluate', runId: 'a' });
    expect(screen.getByText(/A classifier generates nothing/)).toBeTruthy();
    const rec = (step: number, tokensPerSec: number) => ({ step, wallSeconds: step, trainLoss: 2, testLoss: null, tokensPerSec, lr: 1e-3, gradNorm: 1 });
    port.reply({ type: 'metrics', runId: 'a', batch: packMetrics([rec(1, 1000), rec(2, 3000), { ...rec(3, 2000), testLoss: 1.5, accuracy: 0.3, trainAccuracy: 0.4 }]) });
    const report: ClassReport = {
      step: 3,
      accuracy: 0.75,
      testLoss: 1.5,
      classes: 10,
      matrix: matrix(10),
      examples: [
        { tokens: [11, 3, 5, 15], text: '[MAX 3 5 ]', label: 5, predicted: 5 },
        { tokens: [12, 2, 9, 15], text: '[MIN 2 9 ]', label: 2, predicted: 7 },
      ],
    };
    port.reply({ type: 'classified', runId: 'a', report });
    const table = screen.getByTestId('confusion');
    expect(table.querySelector('caption')!.textContent).toBe('Confusion matrix at step 3: 40 test sequences, accuracy 75.0% (rows: true class, columns: predicted)');
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(11); // the header and one row per class
    expect(Array.from(rows[1]!.querySelectorAll('td'), (c) => c.textContent)).toEqual(['3', '0', '0', '0', '0', '0', '0', '0', '0', '1', '4']);
    const examples = screen.getAllByTestId('class-example');
    expect(examples.map((e) => e.textContent)).toEqual(['[MAX 3 5 ]true 5, predicted 5 ✓', '[MIN 2 9 ]true 2, predicted 7 ✗']);
    expect(examples.map((e) => e.className)).toEqual(['ok', 'wrong']);
    // The run list follows the steps (a few times a second): the mean rate of the last steps.
    await waitFor(() => expect(screen.getByTestId('run-tps').textContent).toBe(' · 2,000 tokens/s · up to 40 tokens a sequence'));
  });

  it('draws image examples on canvases of their side', () => {
    const { port } = mount();
    port.reply({ type: 'created', runId: 'b', config: imagesRun, step: 0, parameters: 1000 });
    const examples = [0, 1, 2].map((i) => ({ tokens: new Array<number>(49).fill(40 * i), label: i, predicted: 1 }));
    port.reply({ type: 'classified', runId: 'b', report: { step: 50, accuracy: 1 / 3, testLoss: 2, classes: 10, matrix: matrix(10), examples, side: 7 } });
    const canvases = screen.getByTestId('class-examples').querySelectorAll('canvas');
    expect(canvases).toHaveLength(3);
    expect(canvases[0]!.width).toBe(7);
    expect(canvases[0]!.getAttribute('aria-label')).toBe('test image, class 0');
    expect(drawn.map((d) => [d.width, d.data[0], d.data[4 * 48 + 2], d.data[3]])).toEqual([[7, 0, 0, 255], [7, 40, 40, 255], [7, 80, 80, 255]]);
    expect(screen.getByTestId('run-tps').textContent).toBe(' · – tokens/s · 49 tokens a sequence');
  });
});
