// @vitest-environment jsdom
// The attention inspector: the worker's 'inspect' request and reply (host with fakes), the view
// helpers (row sums, share on the copy task's read positions, what a cell names), and the page:
// a grid of layers x heads, one enlarged on click, the hover readout, two runs side by side,
// beta~ for adaptive runs, refreshes while training and clear errors. Plotly is mocked.
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetApp, useApp } from '../../src/store/store.ts';
import { cellAt, describeCell, headMatrix, rowSums, targetShare } from '../../src/ui/inspectView.ts';
import { TrainingHost, type GpuLike, type HostDeps, type TrainerLike } from '../../src/worker/host.ts';
import { packMetrics, type FromWorker, type RunConfig, type ToWorker } from '../../src/worker/protocol.ts';
import { FakePort, mountApp } from './fakePort.tsx';
import { copyInspection } from './inspectionFixture.ts';

const plotly = vi.hoisted(() => ({
  newPlot: vi.fn(async () => undefined),
  react: vi.fn(async () => undefined),
  extendTraces: vi.fn(async () => undefined),
  relayout: vi.fn(async () => undefined),
  purge: vi.fn(),
}));
vi.mock('../../src/ui/plotly.ts', () => ({ loadPlotly: async () => plotly }));

describe('inspector view helpers', () => {
  const x = copyInspection();
  it('cuts one head out, sums rows and measures the share on the read positions', () => {
    const a = headMatrix(x, 1, 0); // head index 2: first key weighs 3
    expect(a.length).toBe(25);
    expect(Array.from(rowSums(a, 5)).map((s) => s.toFixed(3))).toEqual(['1.500', '1.500', '1.500', '1.500', '1.500']);
    // Query 2 reads position 0 (weight 3/5 of its row), query 3 position 1 (1/6).
    expect(targetShare(x, 1, 0)).toBeCloseTo((3 / 5 + 1 / 6) / 2, 6);
    expect(targetShare({ ...x, target: null }, 0, 0)).toBeNull();
  });
  it('names a cell by positions, tokens, weight, row sum and the read position', () => {
    expect(describeCell(x, 0, 0, 3, 1)).toBe('query position 3, token 2 → key position 1, token 3: weight 0.375; row sum 1.500; should read position 1');
    const img = { ...x, imageSide: 3, target: null, attention: { kind: 'softmax' as const } };
    expect(describeCell(img, 0, 0, 4, 2)).toBe('query pixel (1, 1), grey 3 → key pixel (0, 2), grey 0: weight 0.300');
    expect(describeCell(img, 0, 0, 1, 3)).toBe('query pixel (0, 1), grey 3 → key pixel (1, 0), grey 2: weight 0');
    expect(cellAt(50, 10, 100, 100, 5, 5)).toEqual([0, 2]);
    expect(cellAt(100, 10, 100, 100, 5, 5)).toBeNull();
    expect(cellAt(1, 1, 0, 0, 5, 5)).toBeNull();
  });
});

describe('TrainingHost: inspect', () => {
  const gpu: GpuLike = { backend: 'swiftshader', description: 'fake', error: null, destroy() {} };
  const trainer = {
    config: { name: 'x', task: { kind: 'copy' } },
    step: 3,
    finished: false,
    model: { parameterCount: 1 },
    setHypers() {},
    run: async () => ({ records: [], stop: null }),
    checkpoint: async () => new Uint8Array(1),
    dispose() {},
  } as unknown as TrainerLike;
  function host(inspect?: HostDeps['inspect']) {
    const sent: FromWorker[] = [];
    const deps: HostDeps = {
      openGpu: async () => ({ gpu, lost: new Promise<string>(() => {}) }),
      makeConfig: () => trainer.config,
      presets: () => ({ names: [], descriptions: {}, configs: { copy: {}, mnist: {} } }),
      createTrainer: () => trainer,
      restoreTrainer: () => trainer,
      loadEmbedded: async () => ({ count: 0, rows: 1, cols: 1, pixels: new Uint8Array(0) }),
      ...(inspect ? { inspect } : {}),
      post: (m) => sent.push(m),
      now: () => 0,
    };
    return { h: new TrainingHost(deps), sent };
  }
  it('answers with the inspection under the request id', async () => {
    const calls: [string, number][] = [];
    const { h, sent } = host(async (_g, _t, runId, example) => {
      calls.push([runId, example]);
      return copyInspection({ runId, example });
    });
    await h.handle({ type: 'create', runId: 'r1', config: trainer.config, data: { kind: 'copy' } });
    await h.handle({ type: 'inspect', runId: 'r1', requestId: 7, example: 3 });
    expect(calls).toEqual([['r1', 3]]);
    const reply = sent.find((m) => m.type === 'inspection');
    expect(reply).toMatchObject({ type: 'inspection', runId: 'r1', requestId: 7, inspection: { example: 3, seq: 5 } });
  });
  it('says so for a run the worker does not hold, and passes the inspector errors on', async () => {
    const { h, sent } = host(async () => {
      throw new Error('held-out example 99 is out of range: run r1 has 8 (0 to 7)');
    });
    await h.handle({ type: 'inspect', runId: 'nope', requestId: 1, example: 0 });
    expect(sent.filter((m) => m.type === 'error').at(-1)).toMatchObject({ type: 'error', requestId: 1, message: expect.stringMatching(/run nope has no parameters in the worker yet/) });
    await h.handle({ type: 'create', runId: 'r1', config: trainer.config, data: { kind: 'copy' } });
    await h.handle({ type: 'inspect', runId: 'r1', requestId: 2, example: 99 });
    expect(sent.filter((m) => m.type === 'error').at(-1)).toMatchObject({ type: 'error', requestId: 2, message: expect.stringMatching(/out of range/) });
  });
  it('a build without the inspector refuses clearly', async () => {
    const { h, sent } = host();
    await h.handle({ type: 'create', runId: 'r1', config: trainer.config, data: { kind: 'copy' } });
    await h.handle({ type: 'inspect', runId: 'r1', requestId: 3, example: 0 });
    expect(sent.filter((m) => m.type === 'error')).toMatchObject([{ type: 'error', requestId: 3, message: 'the inspector is not available in this build' }]);
  });
});

/** Replies are awaited: the inspector's requests resolve after a microtask. */
class InspectPort extends FakePort {
  override async reply(m: FromWorker) {
    await act(async () => {
      this.fn?.({ data: m } as MessageEvent<FromWorker>);
      await Promise.resolve();
    });
  }
  inspects() {
    return this.sent.filter((m): m is Extract<ToWorker, { type: 'inspect' }> => m.type === 'inspect');
  }
}

function config(name: string, kind: 'momentum' | 'softmax'): RunConfig {
  return {
    name,
    variant: kind,
    task: { kind: 'copy', maxLen: 5, symbols: 3, heldOut: 8 },
    model: { layers: 2, attention: kind === 'momentum' ? { kind, beta: 0.1, gamma: 0.6 } : { kind }, connection: { kind: 'residual' } },
    optim: { kind: 'radam', weightDecay: 0, clipNorm: null, schedule: { kind: 'constant', lr: 1e-3 } },
    batch: 4,
    steps: 100,
    evalEvery: 10,
    seed: 1,
  } as unknown as RunConfig;
}

async function mount() {
  const { port } = mountApp(new InspectPort(), () => 'r9');
  await port.reply({ type: 'ready', backend: 'gpu', description: 'test GPU' });
  await port.reply({ type: 'created', runId: 'r1', config: config('momentum run', 'momentum'), step: 0, parameters: 1 });
  await port.reply({ type: 'created', runId: 'r2', config: config('softmax run', 'softmax'), step: 0, parameters: 1 });
  act(() => useApp.getState().selectRun('r1'));
  return { port };
}

beforeEach(() => {
  resetApp();
  globalThis.requestAnimationFrame ??= ((fn: FrameRequestCallback) => setTimeout(() => fn(0), 0) as unknown as number) as typeof requestAnimationFrame;
  globalThis.cancelAnimationFrame ??= ((id: number) => clearTimeout(id)) as typeof cancelAnimationFrame;
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
  vi.spyOn(HTMLCanvasElement.prototype, 'getBoundingClientRect').mockReturnValue({ left: 0, top: 0, width: 100, height: 100 } as DOMRect);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Inspector on the page', () => {
  it('shows layers x heads, enlarges one on click, names the cell under the pointer and the share on the read position', async () => {
    const { port } = await mount();
    fireEvent.click(screen.getByRole('button', { name: 'Open the attention inspector' }));
    expect(port.inspects()).toEqual([{ type: 'inspect', runId: 'r1', requestId: expect.any(Number), example: 0 }]);
    const req = port.inspects()[0]!;
    await port.reply({ type: 'inspection', runId: 'r1', requestId: req.requestId, inspection: copyInspection() });
    const pane = screen.getByRole('region', { name: 'Attention of momentum run' });
    const cells = within(pane).getAllByRole('button', { name: /^Enlarge layer/ });
    expect(cells).toHaveLength(4);
    // Head 1 of layer 1 weighs keys uniformly: query 2 puts 1/3 on its read position, query 3 puts 1/4.
    expect(within(pane).getByRole('button', { name: 'Enlarge layer 1, head 1 (29% on the read position)' })).toBeTruthy();
    fireEvent.click(within(pane).getByRole('button', { name: /Enlarge layer 2, head 1/ }));
    expect(within(pane).getByRole('img', { name: /attention of layer 2, head 1/ })).toBeTruthy();
    expect(within(pane).getByText(/Momentum rows do not sum to 1: row sums 1\.500 to 1\.500/)).toBeTruthy();
    // Pointer at (30, 50) of a 100 x 100 map of 5 x 5 cells: query 2, key 1.
    fireEvent.mouseMove(within(pane).getByRole('img', { name: /attention of layer 2, head 1/ }), { clientX: 30, clientY: 50 });
    expect(within(pane).getByLabelText('cell under the pointer').textContent).toBe(
      'query position 2, token 0 → key position 1, token 3: weight 0.300; row sum 1.500; should read position 0',
    );
    fireEvent.mouseMove(within(pane).getByRole('img', { name: 'row sums' }), { clientX: 5, clientY: 90 });
    expect(within(pane).getByLabelText('cell under the pointer').textContent).toBe('query position 4, token 3: row sum 1.500');
  });

  it('puts a second run beside the first on the same example, with beta~ for an adaptive run', async () => {
    const { port } = await mount();
    fireEvent.click(screen.getByRole('button', { name: 'Open the attention inspector' }));
    await port.reply({ type: 'inspection', runId: 'r1', requestId: port.inspects()[0]!.requestId, inspection: copyInspection() });
    fireEvent.change(screen.getByLabelText('Held-out example'), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Show' }));
    fireEvent.change(screen.getByLabelText('Beside it'), { target: { value: 'r2' } });
    const reqs = port.inspects();
    expect(reqs.slice(1).map((m) => [m.runId, m.example])).toEqual([
      ['r1', 3],
      ['r2', 3],
    ]);
    const beta = Float32Array.from({ length: 5 }, (_, i) => i / 5);
    await port.reply({ type: 'inspection', runId: 'r1', requestId: reqs[1]!.requestId, inspection: copyInspection({ example: 3, betaTilde: beta }) });
    await port.reply({
      type: 'inspection',
      runId: 'r2',
      requestId: reqs[2]!.requestId,
      inspection: copyInspection({ runId: 'r2', example: 3, attention: { kind: 'softmax' } }),
    });
    const left = screen.getByRole('region', { name: 'Attention of momentum run' });
    const right = screen.getByRole('region', { name: 'Attention of softmax run' });
    expect(within(right).getAllByRole('button', { name: /^Enlarge layer/ })).toHaveLength(4);
    expect(within(right).queryByText(/row sums/)).toBeNull();
    expect(within(right).getByText(/softmax attention, 2 layers x 2 heads, 5 tokens; step 10, held-out example 3 of 8/)).toBeTruthy();
    fireEvent.mouseMove(within(left).getByRole('img', { name: 'beta~ per layer and token' }), { clientX: 85, clientY: 50 });
    expect(within(left).getByLabelText('beta~ under the pointer').textContent).toBe('layer 2, position 4, token 3: beta~ 0.800');
    expect(within(right).queryByRole('img', { name: 'beta~ per layer and token' })).toBeNull();
  });

  it('refreshes every few steps while the run trains', async () => {
    const { port } = await mount();
    fireEvent.click(screen.getByRole('button', { name: 'Open the attention inspector' }));
    await port.reply({ type: 'inspection', runId: 'r1', requestId: port.inspects()[0]!.requestId, inspection: copyInspection({ step: 0 }) });
    await port.reply({ type: 'state', runId: 'r1', state: 'running', step: 0 });
    const rec = (step: number) => ({ step, wallSeconds: step, trainLoss: 1, testLoss: null, tokensPerSec: 1, lr: 1e-3, gradNorm: 1 });
    // The store takes run step counters a few times a second (src/store/inbox.ts): wait for each.
    const stepShown = (n: number) => waitFor(() => expect(useApp.getState().runs['r1']?.step).toBe(n), { timeout: 3000 });
    await port.reply({ type: 'metrics', runId: 'r1', batch: packMetrics([rec(1), rec(2), rec(3)]) });
    await stepShown(3);
    expect(port.inspects()).toHaveLength(1);
    await port.reply({ type: 'metrics', runId: 'r1', batch: packMetrics([rec(4), rec(5)]) });
    await stepShown(5);
    await waitFor(() => expect(port.inspects()).toHaveLength(2));
    // Not again until that reply is in and five more steps have passed.
    await port.reply({ type: 'metrics', runId: 'r1', batch: packMetrics([rec(6)]) });
    await stepShown(6);
    expect(port.inspects()).toHaveLength(2);
    await port.reply({ type: 'inspection', runId: 'r1', requestId: port.inspects()[1]!.requestId, inspection: copyInspection({ step: 5 }) });
    expect(screen.getByText(/step 5, held-out example 0 of 8/)).toBeTruthy();
  });

  it('shows the worker error (an example out of range) and explains a run not loaded in the worker', async () => {
    const { port } = await mount();
    fireEvent.click(screen.getByRole('button', { name: 'Open the attention inspector' }));
    await port.reply({
      type: 'error',
      runId: 'r1',
      requestId: port.inspects()[0]!.requestId,
      message: 'held-out example 0 is out of range: run r1 has 0 (0 to -1)',
    });
    const pane = screen.getByRole('region', { name: 'Attention of momentum run' });
    expect(within(pane).getByRole('alert').textContent).toMatch(/held-out example 0 is out of range/);
    act(() => useApp.getState().patchRun('r2', { live: false }));
    fireEvent.change(screen.getByLabelText('Beside it'), { target: { value: 'r2' } });
    const right = screen.getByRole('region', { name: 'Attention of softmax run' });
    expect(within(right).getByRole('alert').textContent).toMatch(/has no parameters in the worker yet/);
    expect(port.inspects().filter((m) => m.runId === 'r2')).toHaveLength(0);
  });
});
