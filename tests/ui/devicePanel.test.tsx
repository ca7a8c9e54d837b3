// @vitest-environment jsdom
// The device panel in jsdom: the worker's `ready` message (with the adapter's features and limits)
// reaches the panel through the session and the store; each run's ms per step and tokens/s come
// from its metrics; the device line and the panel link the benchmark page.
import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetApp } from '../../src/store/store.ts';
import { SPEED_TICK_MS, runSpeed } from '../../src/ui/DevicePanel.tsx';
import { FakePort, mountApp } from './fakePort.tsx';
import { packMetrics, type MetricsRecord, type RunConfig } from '../../src/worker/protocol.ts';

vi.mock('../../src/ui/plotly.ts', () => ({
  loadPlotly: async () => ({ newPlot: vi.fn(async () => undefined), react: vi.fn(async () => undefined), extendTraces: vi.fn(async () => undefined), relayout: vi.fn(async () => undefined), purge: vi.fn() }),
}));


const config = {
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

const adapter = {
  features: ['shader-f16', 'timestamp-query'],
  limits: {
    maxBufferSize: 2 ** 31,
    maxStorageBufferBindingSize: 2 ** 27,
    maxComputeWorkgroupStorageSize: 32768,
    maxComputeInvocationsPerWorkgroup: 1024,
    maxComputeWorkgroupsPerDimension: 65535,
  },
};

function record(step: number, wallSeconds: number, tokensPerSec: number): MetricsRecord {
  return { step, wallSeconds, trainLoss: 1, tokensPerSec, lr: 1e-3, gradNorm: 1 } as MetricsRecord;
}

function mount() {
  return mountApp(new FakePort());
}

beforeEach(() => {
  resetApp();
  globalThis.requestAnimationFrame ??= ((fn: FrameRequestCallback) => setTimeout(() => fn(0), 0) as unknown as number) as typeof requestAnimationFrame;
});
afterEach(() => cleanup());

describe('device panel', () => {
  it('shows the adapter, its features and limits, and links the benchmark page', () => {
    const { port } = mount();
    expect(screen.queryByRole('region', { name: 'Device' })).toBeNull(); // nothing before the device opens
    port.reply({ type: 'ready', backend: 'gpu', description: 'Test GPU 9000', adapter });
    const panel = screen.getByRole('region', { name: 'Device' });
    expect(within(panel).getByText(/Test GPU 9000 \(GPU\)/)).toBeTruthy();
    const features = within(panel).getByRole('list', { name: 'Features' });
    expect(features.querySelector('[data-feature="shader-f16"]')!.textContent).toBe('shader-f16: yes');
    expect(features.querySelector('[data-feature="subgroups"]')!.textContent).toBe('subgroups: no');
    expect(features.querySelector('[data-feature="timestamp-query"]')!.textContent).toBe('timestamp-query: yes');
    const limits = within(panel).getByRole('table', { name: 'Limits' });
    expect(within(limits).getByRole('row', { name: /maxBufferSize/ }).textContent).toContain('2.0 GiB');
    expect(within(limits).getByRole('row', { name: /maxStorageBufferBindingSize/ }).textContent).toContain('128 MiB');
    expect(within(limits).getByRole('row', { name: /maxComputeWorkgroupStorageSize/ }).textContent).toContain('32 KiB');
    expect(within(limits).getByRole('row', { name: /maxComputeInvocationsPerWorkgroup/ }).textContent).toContain('1024');
    expect(within(panel).getByRole('link', { name: 'benchmark this device' }).getAttribute('href')).toBe('./bench.html');
    const line = document.querySelector('p.device') as HTMLElement;
    expect(line.textContent).toMatch(/Training on Test GPU 9000/);
    expect(within(line).getByRole('link', { name: 'benchmarks' }).getAttribute('href')).toBe('./bench.html');
  });

  it('says so when the worker did not report features and limits', () => {
    const { port } = mount();
    port.reply({ type: 'ready', backend: 'swiftshader', description: 'SwiftShader' });
    expect(screen.getByText(/did not report the adapter's features and limits/)).toBeTruthy();
  });

  it('gives each run’s ms per step and tokens/s from its metrics', async () => {
    const { port, hub } = mount();
    port.reply({ type: 'ready', backend: 'gpu', description: 'Test GPU', adapter });
    port.reply({ type: 'created', runId: 'r1', config, step: 0, parameters: 1 });
    const speeds = screen.getByRole('table', { name: 'Speed of each run' });
    expect(within(speeds).getByRole('row', { name: /momentum run/ }).textContent).toBe('momentum run--');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      act(() => hub.append('r1', packMetrics([record(10, 0.5, 800), record(20, 1.5, 1200)])));
      // The table updates once a second, not per metrics batch.
      expect(within(speeds).getByRole('row', { name: /momentum run/ }).textContent).toBe('momentum run--');
      act(() => vi.advanceTimersByTime(SPEED_TICK_MS));
    } finally {
      vi.useRealTimers();
    }
    // 1.5 s over 20 steps = 75 ms per step; tokens/s of the latest step.
    expect(within(speeds).getByRole('row', { name: /momentum run/ }).textContent).toBe('momentum run75.01200');
    expect(runSpeed(hub, 'r1')).toEqual({ msPerStep: 75, tokensPerSec: 1200 });
    expect(runSpeed(hub, 'nope')).toEqual({ msPerStep: null, tokensPerSec: null });
  });
});
