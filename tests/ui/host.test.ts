// The worker's host with a fake trainer and device: interleaving, live hypers, step-once, pause,
// checkpoints, a lost device and classifiers' reports, without WebGPU.
import { describe, expect, it } from 'vitest';
import { TrainingHost, type GpuLike, type HostDeps, type TrainerLike } from '../../src/worker/host.ts';
import type { ClassReport, FromWorker, LiveHypers, MetricsRecord, RunConfig, StopReason } from '../../src/worker/protocol.ts';

function fakeConfig(steps = 10): RunConfig {
  return {
    name: 'fake',
    variant: 'momentum',
    task: { kind: 'copy', maxLen: 16, symbols: 4, heldOut: 8 },
    model: { attention: { kind: 'momentum', beta: 0.1, gamma: 0.6 } } as RunConfig['model'],
    optim: { kind: 'radam', weightDecay: 0, clipNorm: null, schedule: { kind: 'constant', lr: 1e-3 } },
    batch: 4,
    steps,
    evalEvery: 5,
    seed: 1,
  };
}

class FakeTrainer implements TrainerLike {
  step = 0;
  /** When set, run() waits for it first (a long step). */
  hold: Promise<void> | null = null;
  pending: LiveHypers | null = null;
  disposed = false;
  model = { parameterCount: 123 };
  constructor(readonly cfg: RunConfig, readonly log: string[], readonly id: string) {}
  get config() {
    return this.cfg;
  }
  get finished() {
    return this.step >= this.cfg.steps;
  }
  setHypers(h: LiveHypers) {
    if (h.beta !== undefined && !(h.beta >= 0 && h.beta < 1)) throw new Error(`beta must be in [0, 1); got ${h.beta}`);
    this.pending = { ...(this.pending ?? {}), ...h };
  }
  async run(n: number): Promise<{ records: MetricsRecord[]; stop: StopReason | null }> {
    const records: MetricsRecord[] = [];
    if (this.hold) await this.hold;
    for (let i = 0; i < n && this.step < this.cfg.steps; i++) {
      this.step++;
      this.log.push(`${this.id}:${this.step}`);
      const testLoss = this.step % this.cfg.evalEvery === 0 ? 2 / this.step : null;
      const r: MetricsRecord = { step: this.step, wallSeconds: this.step, trainLoss: 1 / this.step, testLoss, tokensPerSec: 100, lr: 1e-3, gradNorm: 1 };
      if (this.pending) {
        r.changed = this.pending;
        this.pending = null;
      }
      records.push(r);
    }
    await Promise.resolve();
    return { records, stop: null };
  }
  async checkpoint() {
    return new Uint8Array([this.step]);
  }
  dispose() {
    this.disposed = true;
  }
}

function setup(opts: { failOpen?: string; classReport?: HostDeps['classReport']; evaluateReport?: HostDeps['evaluateReport']; busyMs?: number } = {}) {
  const sent: FromWorker[] = [];
  const log: string[] = [];
  const trainers: FakeTrainer[] = [];
  let loseDevice: (why: string) => void = () => {};
  const gpu: GpuLike & { compiling: number } = { backend: 'swiftshader', description: 'fake', error: null, compiling: 0, destroy() {} };
  let t = 0;
  const deps: HostDeps = {
    async openGpu() {
      if (opts.failOpen) throw new Error(opts.failOpen);
      return { gpu, lost: new Promise<string>((r) => (loseDevice = r)) };
    },
    makeConfig: (spec) => ({ ...fakeConfig(), name: spec.variant }),
    presets: () => ({ names: ['tiny'], descriptions: {}, configs: { copy: {}, mnist: {}, mqar: {} } }),
    createTrainer: (_g, cfg) => {
      const tr = new FakeTrainer(cfg, log, `r${trainers.length}`);
      trainers.push(tr);
      return tr;
    },
    restoreTrainer: (_g, bytes) => {
      const tr = new FakeTrainer(fakeConfig(), log, `r${trainers.length}`);
      tr.step = bytes[0]!;
      trainers.push(tr);
      return tr;
    },
    loadEmbedded: async () => ({ count: 0, rows: 28, cols: 28, pixels: new Uint8Array(0) }),
    post: (m) => sent.push(m),
    now: () => (t += 1),
    ...(opts.classReport ? { classReport: opts.classReport } : {}),
    ...(opts.evaluateReport ? { evaluateReport: opts.evaluateReport } : {}),
  };
  const host = new TrainingHost(deps, { maxTurnSteps: 1, ...(opts.busyMs !== undefined ? { busyMs: opts.busyMs } : {}) });
  return { host, sent, log, trainers, gpu, lose: (why: string) => loseDevice(why) };
}

const settle = (ms = 30) => new Promise((r) => setTimeout(r, ms));
const of = <T extends FromWorker['type']>(sent: FromWorker[], type: T) => sent.filter((m): m is Extract<FromWorker, { type: T }> => m.type === type);

describe('TrainingHost', () => {
  it('reports ready, creates runs paused, and interleaves running runs step by step', async () => {
    const { host, sent, log } = setup();
    await host.handle({ type: 'init', mnistUrl: '' });
    expect(of(sent, 'ready')).toHaveLength(1);
    await host.handle({ type: 'create', runId: 'a', config: fakeConfig(4), data: { kind: 'copy' } });
    await host.handle({ type: 'create', runId: 'b', config: fakeConfig(4), data: { kind: 'copy' } });
    expect(of(sent, 'created').map((m) => m.runId)).toEqual(['a', 'b']);
    expect(of(sent, 'state').map((m) => m.state)).toEqual(['paused', 'paused']);
    await host.handle({ type: 'start', runId: 'a' });
    await host.handle({ type: 'start', runId: 'b' });
    // Until both finish (a loaded machine may take longer than a few milliseconds).
    for (let i = 0; i < 200 && of(sent, 'state').filter((m) => m.state === 'finished').length < 2; i++) await settle(10);
    // a took one step alone before b was started; from then on they alternate.
    expect(log).toEqual(['r0:1', 'r0:2', 'r1:1', 'r0:3', 'r1:2', 'r0:4', 'r1:3', 'r1:4']);
    const metrics = of(sent, 'metrics');
    expect(metrics.reduce((n, m) => n + m.batch.step.length, 0)).toBe(8);
    expect(of(sent, 'state').filter((m) => m.state === 'finished').map((m) => m.runId).sort()).toEqual(['a', 'b']);
    expect(of(sent, 'checkpoint').length).toBeGreaterThanOrEqual(4); // at creation and at the end
  });

  it('applies live hypers at the next step, refuses divergent ones, and steps once when paused', async () => {
    const { host, sent } = setup();
    await host.handle({ type: 'create', runId: 'a', config: fakeConfig(10), data: { kind: 'copy' } });
    await host.handle({ type: 'hypers', runId: 'a', hypers: { beta: 1.2 } });
    expect(of(sent, 'error')[0]!.message).toMatch(/beta must be in \[0, 1\)/);
    await host.handle({ type: 'hypers', runId: 'a', hypers: { beta: 0.5 } });
    await host.handle({ type: 'step', runId: 'a' });
    await settle();
    const m = of(sent, 'metrics');
    expect(m).toHaveLength(1);
    expect(Array.from(m[0]!.batch.step)).toEqual([1]);
    expect(m[0]!.batch.changes).toEqual([{ step: 1, hypers: { beta: 0.5 } }]);
    expect(of(sent, 'config')).toHaveLength(1);
    expect(of(sent, 'state').at(-1)).toMatchObject({ state: 'paused', step: 1 });
  });

  it('pauses and stops between turns', async () => {
    const { host, sent, trainers } = setup();
    await host.handle({ type: 'create', runId: 'a', config: fakeConfig(1000), data: { kind: 'copy' } });
    await host.handle({ type: 'start', runId: 'a' });
    await settle(5);
    await host.handle({ type: 'pause', runId: 'a' });
    await settle(20);
    const at = trainers[0]!.step;
    await settle(20);
    expect(trainers[0]!.step).toBe(at);
    expect(at).toBeLessThan(1000);
    await host.handle({ type: 'stop', runId: 'a' });
    expect(of(sent, 'state').at(-1)).toMatchObject({ state: 'stopped' });
    // Dispose does not hold up the messages behind it: the trainer goes after its step in flight.
    await host.handle({ type: 'dispose', runId: 'a' });
    await settle(5);
    expect(trainers[0]!.disposed).toBe(true);
  });

  it('turns a lost device into paused runs and reopens it on init', async () => {
    const { host, sent, lose, trainers } = setup();
    await host.handle({ type: 'create', runId: 'a', config: fakeConfig(1000), data: { kind: 'copy' } });
    await host.handle({ type: 'start', runId: 'a' });
    await settle(5);
    lose('The GPU device was lost (unknown): test');
    await settle(10);
    expect(of(sent, 'device-lost')).toHaveLength(1);
    expect(of(sent, 'state').at(-1)).toMatchObject({ runId: 'a', state: 'device-lost' });
    expect(trainers[0]!.disposed).toBe(true);
    await host.handle({ type: 'restore', runId: 'a', checkpoint: new Uint8Array([7]), data: { kind: 'copy' } });
    expect(of(sent, 'ready')).toHaveLength(2);
    expect(of(sent, 'created').at(-1)).toMatchObject({ runId: 'a', step: 7 });
  });

  it("sends a classifier's report after each turn with an evaluation, and a failed report only as a notice", async () => {
    let calls = 0;
    const report = (t: TrainerLike): ClassReport | null => {
      calls++;
      if (t.step === 10) throw new Error('no examples');
      return { step: t.step, accuracy: 0.5, testLoss: 1, classes: 2, matrix: [[1, 1], [0, 2]], examples: [{ tokens: [1, 2], text: '[MAX 1 2 ]', label: 1, predicted: 1 }] };
    };
    const { host, sent } = setup({ classReport: report });
    await host.handle({ type: 'create', runId: 'a', config: fakeConfig(12), data: { kind: 'copy' } });
    await host.handle({ type: 'start', runId: 'a' });
    for (let i = 0; i < 200 && !of(sent, 'state').some((m) => m.state === 'finished'); i++) await settle(10);
    // One step a turn (maxTurnSteps 1): evaluations at steps 5 and 10 only.
    expect(calls).toBe(2);
    expect(of(sent, 'classified').map((m) => m.report.step)).toEqual([5]);
    expect(of(sent, 'classified')[0]).toMatchObject({ runId: 'a', report: { matrix: [[1, 1], [0, 2]], examples: [{ text: '[MAX 1 2 ]', predicted: 1 }] } });
    expect(of(sent, 'error').map((m) => m.message)).toEqual(['the test examples could not be read: no examples']);
    expect(of(sent, 'state').at(-1)).toMatchObject({ state: 'finished', step: 12 });
  });

  it('evaluates a classifier on request between its steps, and says when a run is no classifier', async () => {
    const evaluateReport = async (_g: GpuLike, t: TrainerLike): Promise<ClassReport | null> =>
      t.config.name === 'copy' ? null : { step: t.step, accuracy: 1, testLoss: 0.1, classes: 2, matrix: [[2, 0], [0, 2]], examples: [] };
    const { host, sent } = setup({ evaluateReport });
    await host.handle({ type: 'create', runId: 'a', config: fakeConfig(10), data: { kind: 'copy' } });
    await host.handle({ type: 'step', runId: 'a' });
    await settle();
    await host.handle({ type: 'evaluate', runId: 'a' });
    expect(of(sent, 'classified')).toEqual([{ type: 'classified', runId: 'a', report: { step: 1, accuracy: 1, testLoss: 0.1, classes: 2, matrix: [[2, 0], [0, 2]], examples: [] } }]);
    await host.handle({ type: 'create', runId: 'b', config: { ...fakeConfig(10), name: 'copy' }, data: { kind: 'copy' } });
    await host.handle({ type: 'evaluate', runId: 'b' });
    expect(of(sent, 'error').at(-1)).toMatchObject({ runId: 'b', message: 'run b is not a classifier: it has no confusion matrix' });
    await host.handle({ type: 'evaluate', runId: 'zz' });
    expect(of(sent, 'error').at(-1)!.message).toMatch(/^no run zz in the worker/);
  });

  it('says a long step is busy, whether it waits for kernels to compile, and when it ends', async () => {
    const { host, sent, trainers, gpu } = setup({ busyMs: 20 });
    await host.handle({ type: 'init', mnistUrl: '' });
    await host.handle({ type: 'create', runId: 'a', config: fakeConfig(1), data: { kind: 'copy' } });
    let release!: () => void;
    trainers[0]!.hold = new Promise<void>((r) => (release = r));
    gpu.compiling = 3;
    await host.handle({ type: 'start', runId: 'a' });
    for (let i = 0; i < 200 && of(sent, 'busy').length < 1; i++) await settle(10);
    expect(of(sent, 'busy')).toEqual([{ type: 'busy', runId: 'a', busy: true, step: 0, compiling: true }]);
    gpu.compiling = 0; // compiled; the step still runs
    for (let i = 0; i < 200 && of(sent, 'busy').length < 2; i++) await settle(10);
    await settle(60); // no repeats while nothing changes
    expect(of(sent, 'busy').slice(1)).toEqual([{ type: 'busy', runId: 'a', busy: true, step: 0, compiling: false }]);
    release();
    for (let i = 0; i < 200 && of(sent, 'busy').length < 3; i++) await settle(10);
    expect(of(sent, 'busy').at(-1)).toEqual({ type: 'busy', runId: 'a', busy: false, step: 1 });
    await settle(60);
    expect(of(sent, 'busy')).toHaveLength(3); // the repeat timer stopped with the step
  });

  it('says why when there is no device', async () => {
    const { host, sent } = setup({ failOpen: 'No WebGPU adapter was found.' });
    await host.handle({ type: 'init', mnistUrl: '' });
    expect(of(sent, 'unsupported')[0]!.message).toMatch(/No WebGPU adapter/);
  });
});
