// What the page does with the worker, the store and IndexedDB: the commands that start, steer,
// save and restore runs. Worker messages are handled by the inbox (inbox.ts), storage writes by
// the recorder (recorder.ts); checkpoint files are read by checkpointFile.ts.
import type { WorkerClient } from '../worker/client.ts';
import type { ImageData8, LiveHypers, PlanItem, RunConfig, RunSpec } from '../worker/protocol.ts';
import { readCheckpointConfig as checkpointConfig } from '../train/checkpointConfig.ts';
import { dataSpecOf, dataSpecOfForm } from './dataSpec.ts';
import { formRuns, type FormRun, type FormState } from './form.ts';
import { Inbox } from './inbox.ts';
import { metrics as defaultHub, type MetricsHub } from './metrics.ts';
import { uniqueName } from './names.ts';
import type { RunGroup, RunStorage } from './persist.ts';
import { Recorder } from './recorder.ts';
import { nextColorIndex, useApp } from './store.ts';
import { trainBlocker, type DatasetInfo } from './validate.ts';

type Store = typeof useApp;

export { checkpointConfig, dataSpecOf, dataSpecOfForm };

/** A run whose step is expected to take longer than this (seconds) asks before it starts. */
export const ASK_ABOVE_SECONDS = 3;

export interface SessionOptions {
  /** Milliseconds between writes of new metrics to storage. */
  flushMs?: number;
  mnistUrl?: string;
  newId?: () => string;
}

export class Session {
  private readonly inbox: Inbox;
  private readonly recorder: Recorder;
  private readonly mnistUrl: string;
  private readonly newId: () => string;
  private unsubscribe: () => void;
  private answers = new Map<number, (yes: boolean) => void>();
  private questionId = 0;

  constructor(
    readonly client: WorkerClient,
    readonly storage: RunStorage,
    readonly store: Store = useApp,
    readonly hub: MetricsHub = defaultHub,
    opts: SessionOptions = {},
  ) {
    this.mnistUrl = opts.mnistUrl ?? 'mnist-10k.bin';
    this.newId = opts.newId ?? (() => crypto.randomUUID());
    this.recorder = new Recorder(storage, (id) => !!this.s.runs[id], opts.flushMs ?? 1500);
    this.inbox = new Inbox(store, hub, this.recorder);
    this.unsubscribe = client.onMessage((m) => this.inbox.handle(m));
  }

  private get s() {
    return this.store.getState();
  }

  /** Lists the stored runs (paused, not yet in the worker) and opens the device. */
  async boot(): Promise<void> {
    const runs = await this.storage.listRuns();
    for (const r of runs) {
      const chunks = await this.storage.loadMetrics(r.id);
      this.hub.reset(r.id);
      for (const c of chunks) this.hub.append(r.id, c);
      const ck = await this.storage.getCheckpoint(r.id);
      const wasActive = r.state === 'running' || r.state === 'created';
      // The record is written on state changes; the metrics know how far the run really got.
      const step = Math.max(r.step, this.hub.get(r.id).lastStep);
      this.s.upsertRun({ ...r, step, state: wasActive ? 'paused' : r.state, live: false, checkpointStep: ck?.step ?? null });
    }
    this.client.send({ type: 'init', mnistUrl: this.mnistUrl });
    this.client.send({ type: 'presets' });
  }

  dispose(): void {
    this.unsubscribe();
    this.recorder.dispose();
    this.inbox.dispose();
  }

  /** Writes the metrics received since the last write (the page calls it when it goes away). */
  flush(): Promise<void> {
    return this.recorder.flush();
  }

  /** Asks the page's question and resolves with the answer (see answer()). */
  ask(text: string, confirm: string): Promise<boolean> {
    const id = ++this.questionId;
    this.s.setQuestion({ id, text, confirm });
    return new Promise((resolve) => this.answers.set(id, resolve));
  }

  answer(id: number, yes: boolean): void {
    const fn = this.answers.get(id);
    this.answers.delete(id);
    if (this.s.question?.id === id) this.s.setQuestion(null);
    fn?.(yes);
  }

  /**
   * A comparison: one run per variant x seed the form selects (a seed gives every variant the same
   * data order and initial weights). The worker checks every config first; if any is wrong nothing
   * starts and each rejected run gets one notice naming it; a slow step asks first.
   */
  async createFromForm(form: FormState = this.s.form, start = true): Promise<string[]> {
    if (this.s.starting) return [];
    const blocker = trainBlocker(form, this.s.presets, this.s.datasets);
    if (blocker) {
      this.s.notify(`Cannot train: ${blocker}`);
      return [];
    }
    this.s.setStarting(true);
    try {
      return await this.createComparison(formRuns(form), dataSpecOfForm(form), start);
    } finally {
      this.s.setStarting(false);
    }
  }

  private async createComparison(runs: FormRun[], data: ReturnType<typeof dataSpecOfForm>, start: boolean): Promise<string[]> {
    const specs: RunSpec[] = runs.map((r) => r.spec);
    let items: PlanItem[];
    let gflops: number | null;
    try {
      const reply = await this.client.request<'plan'>((requestId) => ({ type: 'plan', requestId, specs }));
      items = reply.items;
      gflops = reply.gflops;
    } catch (e) {
      this.s.notify(`The comparison could not be checked: ${(e as Error).message}`);
      return [];
    }
    const label = (i: number) => specs[i]!.overrides.name ?? specs[i]!.variant;
    const rejected = items.flatMap((it, i) => (it.ok ? [] : [{ name: label(i), why: it.message }]));
    if (rejected.length > 0) {
      for (const r of rejected) this.s.notify(`${r.name}: ${r.why}. Nothing was started.`);
      return [];
    }
    const configs = items.map((it) => (it as Extract<PlanItem, { ok: true }>).config);
    const slow = items
      .map((it, i) => ({ i, it: it as Extract<PlanItem, { ok: true }> }))
      .filter(({ it }) => it.stepSeconds !== null && it.stepSeconds > ASK_ABOVE_SECONDS)
      .sort((a, b) => b.it.stepSeconds! - a.it.stepSeconds!);
    if (slow.length > 0) {
      const { i, it } = slow[0]!;
      const text =
        `Each step of ${label(i)} is estimated at about ${formatSeconds(it.stepSeconds!)} ` +
        `(${formatFlops(it.flopsPerStep)} per step at the ${gflops!.toPrecision(2)} GFLOP/s this device measured)` +
        (slow.length > 1 ? `; ${slow.length} of the ${specs.length} runs take over ${ASK_ABOVE_SECONDS} s a step` : '') +
        `. The worker answers other commands only between steps. Start anyway?`;
      if (!(await this.ask(text, `Start ${specs.length} run${specs.length === 1 ? '' : 's'}`))) return [];
    }
    const comparison = this.newId();
    const taken = new Set(Object.values(this.s.runs).map((r) => r.name));
    for (const p of this.inbox.pending.values()) taken.add(p.name);
    const used: Record<string, { colorIndex: number }> = { ...this.s.runs };
    for (const [id, p] of this.inbox.pending) used[`pending-${id}`] = p;
    const groups = new Map<string, { group: RunGroup; colorIndex: number }>();
    const ids: string[] = [];
    specs.forEach((spec, i) => {
      const run = runs[i]!;
      let g = groups.get(run.group);
      if (!g) {
        const colorIndex = nextColorIndex(used);
        used[`group-${run.group}`] = { colorIndex };
        g = { group: { comparison, key: `${comparison}/${run.group}`, label: run.group, ...(run.sweep ? { sweep: run.sweep } : {}) }, colorIndex };
        groups.set(run.group, g);
      }
      const runId = this.newId();
      const name = uniqueName(label(i), taken);
      taken.add(name);
      this.inbox.pending.set(runId, { name, spec, data, colorIndex: g.colorIndex, createdAt: Date.now() + i, group: g.group });
      this.client.send({ type: 'create', runId, config: { ...configs[i]!, name }, data });
      if (start) this.client.send({ type: 'start', runId });
      ids.push(runId);
    });
    return ids;
  }

  start(id: string): void {
    const r = this.s.runs[id];
    if (!r) return;
    if (!r.live) void this.resume(id, true);
    else this.client.send({ type: 'start', runId: id });
  }

  pause(id: string): void {
    if (this.s.runs[id]?.live) this.client.send({ type: 'pause', runId: id });
  }

  stop(id: string): void {
    const r = this.s.runs[id];
    if (!r) return;
    if (r.live) this.client.send({ type: 'stop', runId: id });
    else {
      this.s.setRunState(id, 'stopped', r.step);
      this.recorder.run(this.s.runs[id]!);
    }
  }

  step(id: string): void {
    const r = this.s.runs[id];
    if (!r) return;
    if (!r.live) void this.resume(id, false).then(() => this.client.send({ type: 'step', runId: id }));
    else this.client.send({ type: 'step', runId: id });
  }

  setHypers(id: string, h: LiveHypers): void {
    const r = this.s.runs[id];
    if (!r) return;
    this.s.patchRun(id, { pendingHypers: { ...(r.pendingHypers ?? {}), ...h } });
    if (r.live) this.client.send({ type: 'hypers', runId: id, hypers: h });
  }

  /** Puts a stored run back in the worker from its latest checkpoint (or from step 0 without one). */
  async resume(id: string, start: boolean): Promise<void> {
    const r = this.s.runs[id];
    if (!r || r.live) return;
    if (this.s.device.status === 'lost') {
      this.s.setDevice({ status: 'checking' });
      this.client.send({ type: 'init', mnistUrl: this.mnistUrl });
    }
    if (r.data.kind === 'mnist-dataset') {
      const images = await this.storage.getDataset(r.data.name);
      if (!images) {
        this.s.notify(`${r.name}: its images '${r.data.name}' are no longer stored; open the IDX files again`);
        return;
      }
      this.client.send({ type: 'dataset', name: r.data.name, images });
    }
    const ck = await this.storage.getCheckpoint(id);
    this.s.patchRun(id, { live: true }); // optimistic: a second click does not restore twice
    if (ck) {
      this.client.send({ type: 'restore', runId: id, checkpoint: ck.bytes.slice(), data: r.data });
    } else {
      this.hub.reset(id);
      this.client.send({ type: 'create', runId: id, config: r.config, data: r.data });
    }
    if (start && r.state !== 'finished') this.client.send({ type: 'start', runId: id });
  }

  /** After a lost device: every run that was cut off comes back from its checkpoint, paused. */
  async resumeAll(): Promise<void> {
    for (const id of this.s.order) {
      const r = this.s.runs[id]!;
      if (!r.live && r.state === 'device-lost') await this.resume(id, false);
    }
  }

  async remove(id: string): Promise<void> {
    const r = this.s.runs[id];
    if (!r) return;
    if (r.live) this.client.send({ type: 'dispose', runId: id });
    this.recorder.forget(id);
    this.s.removeRun(id);
    this.hub.remove(id);
    await this.storage.deleteRun(id);
  }

  /** Test hook (the e2e test): the worker destroys its device, as a lost device would. */
  loseDevice(): void {
    this.client.send({ type: 'lose-device' });
  }

  /** A classifier's test evaluation now: its confusion matrix and examples arrive as a report. */
  evaluate(id: string): void {
    if (this.s.runs[id]?.live) this.client.send({ type: 'evaluate', runId: id });
  }

  async requestSamples(id: string, count: number): Promise<void> {
    const name = this.s.runs[id]?.name ?? id;
    try {
      const reply = await this.client.request<'samples'>((requestId) => ({ type: 'sample', runId: id, requestId, count }));
      this.s.setSamples(id, reply.samples);
    } catch (e) {
      this.s.notify(`${name}: samples failed: ${(e as Error).message}`);
    }
  }

  /** The latest checkpoint's bytes: fresh from the worker for a live run, else the stored one. */
  async checkpointBytes(id: string): Promise<{ bytes: Uint8Array; step: number } | null> {
    const r = this.s.runs[id];
    if (!r) return null;
    if (r.live) {
      try {
        const reply = await this.client.request<'checkpoint'>((requestId) => ({ type: 'checkpoint', runId: id, requestId }));
        return { bytes: reply.bytes, step: reply.step };
      } catch (e) {
        this.s.notify(`${r.name}: checkpoint: ${(e as Error).message}; using the stored one`);
      }
    }
    const ck = await this.storage.getCheckpoint(id);
    return ck ? { bytes: ck.bytes, step: ck.step } : null;
  }

  /** A checkpoint file the user opened becomes a new (paused) run, named apart from its original. */
  async uploadCheckpoint(bytes: Uint8Array, fileName = 'the checkpoint'): Promise<string | null> {
    let cfg: RunConfig;
    try {
      cfg = checkpointConfig(bytes);
    } catch (e) {
      this.s.notify(`${fileName}: ${(e as Error).message}`);
      return null;
    }
    const runId = this.newId();
    const data = dataSpecOf(cfg);
    if (data.kind === 'mnist-dataset') {
      const images = await this.storage.getDataset(data.name);
      if (images) this.client.send({ type: 'dataset', name: data.name, images });
    }
    const taken = [...Object.values(this.s.runs).map((r) => r.name), ...[...this.inbox.pending.values()].map((p) => p.name)];
    const name = uniqueName(`${cfg.name ?? 'checkpoint'} (uploaded)`, taken);
    this.inbox.pending.set(runId, { name, data, colorIndex: nextColorIndex(this.s.runs), createdAt: Date.now() });
    this.client.send({ type: 'restore', runId, checkpoint: bytes, data }, [bytes.buffer as ArrayBuffer]);
    return runId;
  }

  /** IDX images the user opened (with their labels, if any): kept in IndexedDB and handed to the worker. */
  async addDataset(name: string, images: ImageData8, info?: DatasetInfo): Promise<void> {
    if (info) this.s.setDatasetInfo(name, info);
    await this.storage.putDataset(name, images);
    this.client.send({ type: 'dataset', name, images });
    this.s.setForm({ source: name });
  }
}

function formatFlops(f: number): string {
  return f >= 1e12 ? `${(f / 1e12).toPrecision(3)} TFLOP` : `${(f / 1e9).toPrecision(3)} GFLOP`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toPrecision(2)} s`;
  if (s < 3600) return `${(s / 60).toPrecision(2)} min`;
  return `${(s / 3600).toPrecision(2)} h`;
}
