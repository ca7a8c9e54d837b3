// Store, metrics columns, form/share and the session with a fake worker and in-memory storage.
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultForm, formToSpecs, formVariants } from '../../src/store/form.ts';
import { decodeShare, encodeShare } from '../../src/store/share.ts';
import { metricsCsv } from '../../src/store/export.ts';
import { MetricsHub, RunSeries, concatBatches, recentTokensPerSec } from '../../src/store/metrics.ts';
import { MemoryStorage } from '../../src/store/persist.ts';
import { Session, checkpointConfig } from '../../src/store/session.ts';
import { nextColorIndex, resetApp, useApp } from '../../src/store/store.ts';
import { WorkerClient, type WorkerPort } from '../../src/worker/client.ts';
import { packMetrics, type FromWorker, type RunConfig, type ToWorker } from '../../src/worker/protocol.ts';

const cfg = (name: string, variant: RunConfig['variant'] = 'momentum'): RunConfig =>
  ({
    name,
    variant,
    task: { kind: 'copy', maxLen: 16, symbols: 4, heldOut: 8 },
    model: { layers: 2, attention: { kind: 'momentum', beta: 0.1, gamma: 0.6 }, connection: { kind: 'residual' } },
    optim: { kind: 'radam', weightDecay: 0, clipNorm: null, schedule: { kind: 'constant', lr: 1e-3 } },
    batch: 4,
    steps: 100,
    evalEvery: 10,
    seed: 1,
  }) as RunConfig;

const rec = (step: number, extra = {}) => ({ step, wallSeconds: step / 10, trainLoss: 2 / step, testLoss: null, tokensPerSec: 50, lr: 1e-3, gradNorm: 1, ...extra });

class FakePort implements WorkerPort {
  sent: ToWorker[] = [];
  /** Seconds per step the fake worker's plan reports; a message per spec makes it fail. */
  stepSeconds = 0.1;
  failures: Record<string, string> = {};
  private fn: ((ev: MessageEvent<FromWorker>) => void) | null = null;
  postMessage(msg: ToWorker) {
    this.sent.push(msg);
    if (msg.type === 'plan') {
      const items = msg.specs.map((s) =>
        this.failures[s.variant]
          ? { ok: false as const, message: this.failures[s.variant]! }
          : { ok: true as const, config: { ...cfg(s.overrides.name ?? s.variant, s.variant), seed: s.overrides.seed ?? 1 }, flopsPerStep: 1e9, stepSeconds: this.stepSeconds },
      );
      queueMicrotask(() => this.reply({ type: 'plan', requestId: msg.requestId, items, gflops: 10 }));
    }
  }
  addEventListener(type: string, fn: (ev: never) => void) {
    if (type === 'message') this.fn = fn as (ev: MessageEvent<FromWorker>) => void;
  }
  reply(m: FromWorker) {
    this.fn?.({ data: m } as MessageEvent<FromWorker>);
  }
}

beforeEach(() => resetApp());

describe('RunSeries', () => {
  it('grows, keeps NaN for missing values, and replaces replayed steps', () => {
    const s = new RunSeries(2);
    s.append(packMetrics([rec(1), rec(2, { testLoss: 1.5, accuracy: 0.5 }), rec(3)]));
    s.append(packMetrics([rec(4), rec(5)]));
    expect(Array.from(s.col('step'))).toEqual([1, 2, 3, 4, 5]);
    expect(Number.isNaN(s.col('testLoss')[0]!)).toBe(true);
    expect(s.col('testLoss')[1]).toBe(1.5);
    // A resume from step 3 replays 4 and 5.
    s.append(packMetrics([rec(4, { trainLoss: 9 }), rec(5), rec(6)]));
    expect(Array.from(s.col('step'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.col('trainLoss')[3]).toBe(9);
  });

  it('reads a stored batch without a newer column (trainAccuracy) as no values, and gives the recent tokens/s', () => {
    const old = packMetrics([rec(1, { tokensPerSec: 100 }), rec(2, { tokensPerSec: 300 })]) as Partial<ReturnType<typeof packMetrics>>;
    delete old.trainAccuracy;
    const s = new RunSeries(2);
    expect(recentTokensPerSec(s)).toBeNull();
    s.append(old as ReturnType<typeof packMetrics>);
    s.append(packMetrics([rec(3, { trainAccuracy: 0.5, tokensPerSec: 500 })]));
    expect(Array.from(s.col('trainAccuracy'))).toEqual([NaN, NaN, 0.5]);
    expect(recentTokensPerSec(s)).toBe(300);
    expect(recentTokensPerSec(s, 2)).toBe(400);
    const both = concatBatches([old as ReturnType<typeof packMetrics>, packMetrics([rec(3, { trainAccuracy: 0.5 })])]);
    expect(Array.from(both.trainAccuracy)).toEqual([NaN, NaN, 0.5]);
  });

  it('keeps adaptive beta~ per layer and the live changes', () => {
    const s = new RunSeries();
    s.append(packMetrics([rec(1, { betaTilde: [0.2, 0.3] }), rec(2, { betaTilde: [0.25, 0.35], changed: { delta: 0.01 } })]));
    expect(Array.from(s.layerBetaTilde(1))).toEqual([0.3, 0.35]);
    expect(s.changes).toEqual([{ step: 2, hypers: { delta: 0.01 } }]);
  });
});

describe('form', () => {
  it('makes one spec per variant with the same seed, the adaptive toggle applied', () => {
    const f = { ...defaultForm('copy'), variants: ['linear', 'momentum-connection'] as const, adaptive: true, maxLen: 16, layers: 1, seeds: '7, 9' };
    const specs = formToSpecs({ ...f, variants: [...f.variants] });
    expect(specs.map((s) => `${s.variant}:${s.overrides.seed}`)).toEqual(['linear:7', 'linear:9', 'adaptive:7', 'adaptive:9']);
    expect(specs.every((s) => s.overrides.model?.layers === 1)).toBe(true);
    expect(specs[0]!.overrides.task).toEqual({ maxLen: 16 });
    expect(formVariants({ ...defaultForm(), variants: ['adaptive', 'momentum-connection'], adaptive: true })).toEqual(['adaptive']);
  });

  it("puts the authors'-code weights on the momentum variants only, and carries the toggle in a share link", () => {
    const f = { ...defaultForm('copy'), variants: ['softmax', 'linear', 'momentum', 'momentum-connection'] as const, authorsWeights: true };
    const specs = formToSpecs({ ...f, variants: [...f.variants] });
    expect(specs.map((s) => s.overrides.weights ?? 'recurrence')).toEqual(['recurrence', 'recurrence', 'authors-code', 'authors-code']);
    expect(specs[2]!.overrides.name).toBe('momentum [authors-code] · copy tiny · seed 1');
    expect(formToSpecs(defaultForm('copy')).every((s) => s.overrides.weights === undefined)).toBe(true);
    const g = { ...defaultForm('copy'), authorsWeights: true };
    expect(decodeShare(encodeShare(g))).toEqual({ form: g, problems: [] });
    const old = encodeShare(defaultForm('copy')).replace(/^#config=/, '');
    const raw = JSON.parse(atob(old.replace(/-/g, '+').replace(/_/g, '/')));
    delete raw.authorsWeights;
    expect(decodeShare(`#config=${btoa(JSON.stringify(raw))}`).form.authorsWeights).toBe(false);
    raw.authorsWeights = 'yes';
    expect(decodeShare(`#config=${btoa(JSON.stringify(raw))}`).problems).toEqual(["authorsWeights 'yes' is not true or false: off (the recurrence's weights)"]);
  });

  it('round-trips through a share link and keeps out-of-range values as given', () => {
    const f = { ...defaultForm('mnist'), preset: 'quick', resolution: 14 as const, subset: 500, lr: 5e-4, seeds: '1, 2' };
    expect(decodeShare(encodeShare(f))).toEqual({ form: f, problems: [] });
    const bad = { ...f, hypers: { ...f.hypers, beta: 1.5, gamma: -1 } };
    const back = decodeShare(encodeShare(bad));
    expect(back.form.hypers.beta).toBe(1.5);
    expect(back.form.hypers.gamma).toBe(-1);
    expect(() => decodeShare('#nothing')).toThrow(/no configuration/);
  });
});

describe('store', () => {
  it('gives stable, distinct colours', () => {
    expect(nextColorIndex({ a: { colorIndex: 0 }, b: { colorIndex: 2 } })).toBe(1);
  });
});

describe('Session', () => {
  async function boot(storage = new MemoryStorage()) {
    const port = new FakePort();
    const hub = new MetricsHub();
    let n = 0;
    const session = new Session(new WorkerClient(port), storage, useApp, hub, { flushMs: 1, newId: () => `run${++n}` });
    await session.boot();
    return { port, hub, session, storage };
  }

  it('creates runs from the form, records metrics, and lists them again after a reload', async () => {
    const { port, hub, session, storage } = await boot();
    expect(port.sent.map((m) => m.type)).toEqual(['init', 'presets']);
    port.reply({ type: 'ready', backend: 'swiftshader', description: 'SwiftShader' });
    useApp.getState().setForm({ variants: ['linear', 'momentum'] });
    const ids = await session.createFromForm();
    // run1 is the comparison's id; the runs follow.
    expect(ids).toEqual(['run2', 'run3']);
    expect(port.sent.filter((m) => m.type === 'create' || m.type === 'start').map((m) => `${m.type}:${(m as { runId: string }).runId}`)).toEqual([
      'create:run2',
      'start:run2',
      'create:run3',
      'start:run3',
    ]);
    for (const [id, v] of [['run2', 'linear'], ['run3', 'momentum']] as const) {
      port.reply({ type: 'created', runId: id, config: cfg(v, v), step: 0, parameters: 10 });
      port.reply({ type: 'state', runId: id, state: 'running', step: 0 });
      port.reply({ type: 'metrics', runId: id, batch: packMetrics([rec(1), rec(2)]) });
      port.reply({ type: 'checkpoint', runId: id, requestId: -1, step: 2, bytes: new Uint8Array([1, 2]) });
    }
    const s = useApp.getState();
    expect(s.order).toEqual(['run2', 'run3']);
    expect(s.runs.run2!.colorIndex).not.toBe(s.runs.run3!.colorIndex);
    expect(hub.get('run3').length).toBe(2);
    await new Promise((r) => setTimeout(r, 20));
    await session.flush();
    expect(storage.checkpoints.get('run2')?.step).toBe(2);
    const csv = metricsCsv([s.runs.run2!], hub).trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]!.startsWith('run_id,run,variant,seed')).toBe(true);
    expect(csv[1]!.startsWith('"run2",')).toBe(true);

    // A reload: a new store and session on the same storage.
    session.dispose();
    resetApp();
    const again = await boot(storage);
    const r = useApp.getState().runs;
    expect(Object.keys(r)).toEqual(['run2', 'run3']);
    expect(r.run2).toMatchObject({ state: 'paused', live: false, step: 2, checkpointStep: 2 });
    expect(r.run2!.group?.label).toBe('linear');
    expect(again.hub.get('run2').length).toBe(2);
    // Resume sends the stored checkpoint, then start.
    await again.session.resume('run2', true);
    expect(again.port.sent.slice(-2).map((m) => m.type)).toEqual(['restore', 'start']);
  });

  it('marks live changes pending until the worker reports the new config, and shows errors', async () => {
    const { port, session } = await boot();
    port.reply({ type: 'created', runId: 'x', config: cfg('m'), step: 0, parameters: 1 });
    session.setHypers('x', { beta: 0.5 });
    expect(useApp.getState().runs.x!.pendingHypers).toEqual({ beta: 0.5 });
    expect(port.sent.at(-1)).toEqual({ type: 'hypers', runId: 'x', hypers: { beta: 0.5 } });
    const next = cfg('m');
    (next.model.attention as { beta: number }).beta = 0.5;
    port.reply({ type: 'config', runId: 'x', config: next });
    expect(useApp.getState().runs.x!.pendingHypers).toBeUndefined();
    port.reply({ type: 'error', runId: 'x', message: 'beta must be in [0, 1)' });
    expect(useApp.getState().notices.at(-1)!.text).toMatch(/beta must be/);
  });

  it('pauses every run on a lost device and restores them on request', async () => {
    const { port, session, storage } = await boot();
    port.reply({ type: 'created', runId: 'x', config: cfg('m'), step: 0, parameters: 1 });
    await storage.putCheckpoint({ runId: 'x', step: 0, bytes: new Uint8Array([0]) });
    port.reply({ type: 'device-lost', message: 'lost' });
    expect(useApp.getState().device).toEqual({ status: 'lost', message: 'lost' });
    expect(useApp.getState().runs.x).toMatchObject({ live: false, state: 'device-lost' });
    await session.resumeAll();
    expect(port.sent.slice(-2).map((m) => m.type)).toEqual(['init', 'restore']);
  });

  it('reads the config from a checkpoint header and rejects other files', () => {
    const header = new TextEncoder().encode(JSON.stringify({ __metadata__: { config: JSON.stringify(cfg('up')) } }));
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(checkpointConfig(bytes).name).toBe('up');
    expect(() => checkpointConfig(new Uint8Array(4))).toThrow(/not a safetensors/);
  });
});
