// @vitest-environment jsdom
// Components in jsdom: every control reachable by its visible label, sliders that cannot reach a
// divergent value, the momentum-weights view, the no-WebGPU page. Plotly is mocked.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetApp, useApp } from '../../src/store/store.ts';
import { momentumWeights } from '../../src/ui/MomentumWeights.tsx';
import { FakePort, mountApp } from './fakePort.tsx';
import type { RunConfig, ToWorker } from '../../src/worker/protocol.ts';

const plotly = vi.hoisted(() => ({
  newPlot: vi.fn(async () => undefined),
  react: vi.fn(async () => undefined),
  extendTraces: vi.fn(async () => undefined),
  relayout: vi.fn(async () => undefined),
  purge: vi.fn(),
}));
vi.mock('../../src/ui/plotly.ts', () => ({ loadPlotly: async () => plotly }));

class PlanningPort extends FakePort {
  /** What the fake worker's plan says a step costs (seconds), and per-variant failures. */
  stepSeconds = 0.1;
  failures: Record<string, string> = {};
  override postMessage(msg: ToWorker) {
    super.postMessage(msg);
    if (msg.type === 'plan') {
      const items = msg.specs.map((sp) =>
        this.failures[sp.variant]
          ? { ok: false as const, message: this.failures[sp.variant]! }
          : { ok: true as const, config: { ...momentumConfig, name: sp.overrides.name!, variant: sp.variant, seed: sp.overrides.seed! }, flopsPerStep: 2e12, stepSeconds: this.stepSeconds },
      );
      setTimeout(() => this.reply({ type: 'plan', requestId: msg.requestId, items, gflops: 10 }), 0);
    }
  }
}

const momentumConfig = {
  name: 'momentum run',
  variant: 'momentum',
  task: { kind: 'copy', maxLen: 16, symbols: 4, heldOut: 8 },
  model: { layers: 1, attention: { kind: 'momentum', beta: 0.1, gamma: 0.6 }, connection: { kind: 'residual' } },
  optim: { kind: 'radam', weightDecay: 0, clipNorm: null, schedule: { kind: 'constant', lr: 1e-3 } },
  batch: 4,
  steps: 100,
  evalEvery: 10,
  seed: 1,
} as unknown as RunConfig;

function mount(newId: () => string = () => 'r1') {
  const { port, session } = mountApp(new PlanningPort(), newId);
  return { port, session };
}

beforeEach(() => {
  resetApp();
  globalThis.requestAnimationFrame ??= ((fn: FrameRequestCallback) => setTimeout(() => fn(0), 0) as unknown as number) as typeof requestAnimationFrame;
  globalThis.cancelAnimationFrame ??= ((id: number) => clearTimeout(id)) as typeof cancelAnimationFrame;
});
afterEach(() => cleanup());

describe('App', () => {
  it('labels every control', () => {
    mount();
    act(() => useApp.getState().setDevice({ status: 'ready', backend: 'gpu', description: 'test GPU' }));
    const controls = document.querySelectorAll('input, select, button');
    expect(controls.length).toBeGreaterThan(20);
    for (const c of controls) {
      const name = (c as HTMLElement).getAttribute('aria-label') ?? (c.id ? document.querySelector(`label[for="${c.id}"]`)?.textContent : null) ?? c.closest('label')?.textContent ?? c.textContent;
      expect(name?.trim(), c.outerHTML).toBeTruthy();
    }
    expect(screen.getByLabelText('Sequence length')).toBeTruthy();
    expect(screen.getByLabelText('Momentum')).toBeTruthy();
  });

  it('starts one run per chosen variant and seed, once however often Train is clicked', async () => {
    let n = 0;
    const { port } = mount(() => `id${++n}`);
    act(() => useApp.getState().setDevice({ status: 'ready', backend: 'gpu', description: 'test GPU' }));
    fireEvent.click(screen.getByLabelText('Softmax'));
    fireEvent.change(screen.getByLabelText('Seeds'), { target: { value: '1, 2' } });
    const train = screen.getByRole('button', { name: /Train 2 variants x 2 seeds \(4 runs\)/ });
    fireEvent.click(train);
    fireEvent.click(train);
    expect((train as HTMLButtonElement).disabled).toBe(true);
    await waitFor(() => expect(port.sent.filter((m) => m.type === 'create')).toHaveLength(4));
    const creates = port.sent.filter((m): m is Extract<ToWorker, { type: 'create' }> => m.type === 'create');
    expect(creates.map((m) => `${m.config!.variant}:${m.config!.seed}`)).toEqual(['linear:1', 'linear:2', 'momentum:1', 'momentum:2']);
    expect(port.sent.filter((m) => m.type === 'plan')).toHaveLength(1);
  });

  it('keeps an invalid value as typed, marks it with the range, and says why Train is disabled', () => {
    mount();
    act(() => useApp.getState().setDevice({ status: 'ready', backend: 'gpu', description: 'test GPU' }));
    const layers = screen.getByLabelText('Layers') as HTMLInputElement;
    fireEvent.change(layers, { target: { value: '1000000000000' } });
    expect(layers.value).toBe('1000000000000');
    expect(layers.getAttribute('aria-invalid')).toBe('true');
    const note = document.getElementById(layers.getAttribute('aria-describedby')!)!;
    expect(note.textContent).toBe('Layers 1000000000000 is over the allowed range 1..48, whole numbers');
    fireEvent.change(screen.getByLabelText('Learning rate'), { target: { value: '0' } });
    expect((screen.getByLabelText('Learning rate') as HTMLInputElement).value).toBe('0');
    const train = screen.getByRole('button', { name: /^Train/ }) as HTMLButtonElement;
    expect(train.disabled).toBe(true);
    expect(screen.getByTestId('train-blocker').textContent).toMatch(/Train is disabled: Layers .*Learning rate 0 is below the allowed range \(0, 1\]/);
    fireEvent.change(layers, { target: { value: '2' } });
    fireEvent.change(screen.getByLabelText('Learning rate'), { target: { value: '' } });
    expect(train.disabled).toBe(false);
  });

  it('asks before a run whose step is estimated at many seconds, with the estimate', async () => {
    let n = 0;
    const { port } = mount(() => `id${++n}`);
    port.stepSeconds = 112;
    act(() => useApp.getState().setDevice({ status: 'ready', backend: 'gpu', description: 'test GPU' }));
    fireEvent.click(screen.getByLabelText('Softmax'));
    fireEvent.click(screen.getByLabelText('Linear'));
    fireEvent.click(screen.getByRole('button', { name: /^Train 1 variant/ }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toMatch(/about 1\.9 min \(2\.00 TFLOP per step at the 10 GFLOP\/s this device measured\)/);
    expect(port.sent.some((m) => m.type === 'create')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(port.sent.some((m) => m.type === 'create')).toBe(false);
  });

  it('gives one notice per rejected run, naming it, and starts nothing', async () => {
    let n = 0;
    const { port } = mount(() => `id${++n}`);
    port.failures = { linear: 'this run does not fit the device', momentum: 'this run does not fit the device', softmax: 'batch too big' };
    act(() => useApp.getState().setDevice({ status: 'ready', backend: 'gpu', description: 'test GPU' }));
    fireEvent.click(screen.getByRole('button', { name: /^Train 3 variants/ }));
    await waitFor(() => expect(useApp.getState().notices).toHaveLength(3));
    const texts = useApp.getState().notices.map((x) => x.text);
    expect(texts[0]).toBe('softmax · copy tiny · seed 1: batch too big. Nothing was started.');
    expect(texts[1]).toBe('linear · copy tiny · seed 1: this run does not fit the device. Nothing was started.');
    expect(texts[2]).toMatch(/^momentum · copy tiny · seed 1: this run does not fit/);
    expect(port.sent.some((m) => m.type === 'create' || m.type === 'start')).toBe(false);
    // Every notice stays until dismissed; more than five are all kept.
    for (let i = 0; i < 6; i++) act(() => useApp.getState().notify(`notice ${i}`));
    expect(screen.getAllByRole('alert').length).toBeGreaterThanOrEqual(9);
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss: notice 0' }));
    expect(useApp.getState().notices).toHaveLength(8);
    fireEvent.click(screen.getByRole('button', { name: /Dismiss all 8 notices/ }));
    expect(useApp.getState().notices).toHaveLength(0);
  });

  it('shows a busy run and that Stop and Remove act after its step', () => {
    const { port } = mount();
    port.reply({ type: 'created', runId: 'r1', config: momentumConfig, step: 0, parameters: 1 });
    port.reply({ type: 'state', runId: 'r1', state: 'running', step: 0 });
    port.reply({ type: 'busy', runId: 'r1', busy: true, step: 0 });
    expect(screen.getByTestId('run-busy').textContent).toMatch(/computing step 1/);
    expect(screen.getByRole('button', { name: 'Stop momentum run' }).textContent).toBe('Stop (after this step)');
    expect(screen.getByRole('button', { name: 'Remove momentum run' }).textContent).toBe('Remove (after this step)');
    port.reply({ type: 'busy', runId: 'r1', busy: false, step: 1 });
    expect(screen.queryByTestId('run-busy')).toBeNull();
    // A run's first steps wait for their kernels to compile: the row says so, then that it computes.
    port.reply({ type: 'busy', runId: 'r1', busy: true, step: 1, compiling: true });
    expect(screen.getByTestId('run-busy').textContent).toMatch(/compiling kernels for step 2/);
    const since = useApp.getState().runs.r1!.busy!.since;
    port.reply({ type: 'busy', runId: 'r1', busy: true, step: 1, compiling: false });
    expect(screen.getByTestId('run-busy').textContent).toMatch(/computing step 2/);
    expect(useApp.getState().runs.r1!.busy!.since).toBe(since);
  });

  it('follows a step-only change in the row: the step, and Start becoming Resume', () => {
    const { port } = mount();
    port.reply({ type: 'created', runId: 'r1', config: momentumConfig, step: 0, parameters: 1 });
    port.reply({ type: 'state', runId: 'r1', state: 'paused', step: 0 });
    expect(screen.getByRole('button', { name: 'Start momentum run' })).toBeTruthy();
    port.reply({ type: 'state', runId: 'r1', state: 'paused', step: 7 });
    expect(screen.getByTestId('run-step').textContent).toBe('7');
    expect(screen.getByRole('button', { name: 'Resume momentum run' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Start momentum run' })).toBeNull();
  });

  it('offers live sliders bounded below beta = 1 and above gamma = 0, and sends changes', () => {
    const { port } = mount();
    port.reply({ type: 'ready', backend: 'gpu', description: 'test GPU' });
    port.reply({ type: 'created', runId: 'r1', config: momentumConfig, step: 0, parameters: 1 });
    const beta = screen.getByLabelText('Live β (attention momentum)') as HTMLInputElement;
    expect(Number(beta.max)).toBeLessThan(1);
    expect(Number((screen.getByLabelText('Live γ (attention step size)') as HTMLInputElement).min)).toBeGreaterThan(0);
    fireEvent.change(beta, { target: { value: '0.7' } });
    expect(port.sent.at(-1)).toEqual({ type: 'hypers', runId: 'r1', hypers: { beta: 0.7 } });
    expect(screen.getByText('Applies at the next step.')).toBeTruthy();
    expect(screen.getByRole('img', { name: /Momentum weights for beta 0\.70/ })).toBeTruthy();
    // Run controls carry the run's name.
    expect(screen.getByRole('button', { name: 'Start momentum run' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Step once momentum run' }));
    expect(port.sent.at(-1)).toEqual({ type: 'step', runId: 'r1' });
  });

  it('explains a missing WebGPU instead of a blank page', () => {
    const { port } = mount();
    port.reply({ type: 'unsupported', message: 'No WebGPU adapter was found.' });
    expect(screen.getByRole('heading', { name: 'WebGPU is not available' })).toBeTruthy();
    expect(screen.getByTestId('no-webgpu-reason').textContent).toMatch(/No WebGPU adapter/);
    expect(screen.getAllByText(/enable-unsafe-webgpu/).length).toBeGreaterThan(0);
  });

  it('offers to resume after a lost device', () => {
    const { port } = mount();
    port.reply({ type: 'device-lost', message: 'reset' });
    expect(screen.getByRole('button', { name: 'Reopen the device and restore the runs' })).toBeTruthy();
  });
});

describe('momentumWeights', () => {
  it('is (1 - beta^(d+1)) / (1 - beta), and uniform at beta = 0', () => {
    expect(momentumWeights(0, 3)).toEqual([1, 1, 1]);
    const w = momentumWeights(0.5, 3);
    expect(w[0]).toBeCloseTo(1);
    expect(w[1]).toBeCloseTo(1.5);
    expect(w[2]).toBeCloseTo(1.75);
  });
});
