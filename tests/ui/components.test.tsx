// @vitest-environment jsdom
// Components in jsdom: every control reachable by its visible label, sliders that cannot reach a
// divergent value, the momentum-weights view, the no-WebGPU page. Plotly is mocked.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MetricsHub } from '../../src/store/metrics.ts';
import { MemoryStorage } from '../../src/store/persist.ts';
import { Session } from '../../src/store/session.ts';
import { resetApp, useApp } from '../../src/store/store.ts';
import { App } from '../../src/ui/App.tsx';
import { SessionContext } from '../../src/ui/context.ts';
import { momentumWeights } from '../../src/ui/MomentumWeights.tsx';
import { WorkerClient, type WorkerPort } from '../../src/worker/client.ts';
import type { FromWorker, RunConfig, ToWorker } from '../../src/worker/protocol.ts';

const plotly = vi.hoisted(() => ({
  newPlot: vi.fn(async () => undefined),
  react: vi.fn(async () => undefined),
  extendTraces: vi.fn(async () => undefined),
  relayout: vi.fn(async () => undefined),
  purge: vi.fn(),
}));
vi.mock('../../src/ui/plotly.ts', () => ({ loadPlotly: async () => plotly }));

class FakePort implements WorkerPort {
  sent: ToWorker[] = [];
  fn: ((ev: MessageEvent<FromWorker>) => void) | null = null;
  postMessage(msg: ToWorker) {
    this.sent.push(msg);
  }
  addEventListener(type: string, fn: (ev: never) => void) {
    if (type === 'message') this.fn = fn as (ev: MessageEvent<FromWorker>) => void;
  }
  reply(m: FromWorker) {
    act(() => this.fn?.({ data: m } as MessageEvent<FromWorker>));
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

function mount() {
  const port = new FakePort();
  const session = new Session(new WorkerClient(port), new MemoryStorage(), useApp, new MetricsHub(), { newId: () => 'r1' });
  render(
    <SessionContext.Provider value={session}>
      <App />
    </SessionContext.Provider>,
  );
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

  it('starts one run per chosen variant', () => {
    const { port } = mount();
    act(() => useApp.getState().setDevice({ status: 'ready', backend: 'gpu', description: 'test GPU' }));
    fireEvent.click(screen.getByLabelText('Softmax'));
    fireEvent.click(screen.getByRole('button', { name: /Train 2 variants/ }));
    expect(port.sent.filter((m) => m.type === 'create').map((m) => (m as { spec: { variant: string } }).spec.variant)).toEqual(['linear', 'momentum']);
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
