// What the page does with the worker, the store and IndexedDB: every action that starts, steers,
// saves or restores a run goes through here, and every worker message lands here.
import type { WorkerClient } from '../worker/client.ts';
import {
  UNSOLICITED,
  type DataSpec,
  type FromWorker,
  type ImageData8,
  type LiveHypers,
  type MetricsBatch,
  type RunConfig,
  type RunSpec,
} from '../worker/protocol.ts';
import { formToSpecs, type FormState } from './form.ts';
import { metrics as defaultHub, type MetricsHub } from './metrics.ts';
import type { RunRecord, RunStorage } from './persist.ts';
import { nextColorIndex, useApp, type RunView } from './store.ts';

type Store = typeof useApp;

interface PendingRun {
  spec?: RunSpec;
  data: DataSpec;
  colorIndex: number;
  createdAt: number;
}

export interface SessionOptions {
  /** Milliseconds between writes of new metrics to storage. */
  flushMs?: number;
  mnistUrl?: string;
  newId?: () => string;
}

export function dataSpecOf(cfg: RunConfig): DataSpec {
  if (cfg.task.kind === 'copy') return { kind: 'copy' };
  return cfg.task.source === 'embedded' ? { kind: 'mnist-embedded' } : { kind: 'mnist-dataset', name: cfg.task.source };
}

export function dataSpecOfForm(f: FormState): DataSpec {
  if (f.task === 'copy') return { kind: 'copy' };
  return f.source === 'embedded' ? { kind: 'mnist-embedded' } : { kind: 'mnist-dataset', name: f.source };
}

/** The run config stored in a checkpoint's safetensors metadata (header only; no tensors read). */
export function checkpointConfig(bytes: Uint8Array): RunConfig {
  if (bytes.byteLength < 8) throw new Error('not a safetensors file: shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = Number(view.getBigUint64(0, true));
  if (len <= 0 || 8 + len > bytes.byteLength) throw new Error(`not a safetensors file: header length ${len} does not fit the file`);
  let header: { __metadata__?: Record<string, string> };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    throw new Error('not a safetensors file: its header is not JSON');
  }
  const cfg = header.__metadata__?.config;
  if (typeof cfg !== 'string') throw new Error('this safetensors file is not a playground checkpoint (no config in its metadata)');
  return JSON.parse(cfg) as RunConfig;
}

export class Session {
  private pending = new Map<string, PendingRun>();
  private unflushed = new Map<string, MetricsBatch[]>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly flushMs: number;
  private readonly mnistUrl: string;
  private readonly newId: () => string;
  private unsubscribe: () => void;

  constructor(
    readonly client: WorkerClient,
    readonly storage: RunStorage,
    readonly store: Store = useApp,
    readonly hub: MetricsHub = defaultHub,
    opts: SessionOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 1500;
    this.mnistUrl = opts.mnistUrl ?? 'mnist-10k.bin';
    this.newId = opts.newId ?? (() => crypto.randomUUID());
    this.unsubscribe = client.onMessage((m) => this.handle(m));
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
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }

  handle(m: FromWorker): void {
    const s = this.s;
    switch (m.type) {
      case 'ready':
        s.setDevice({ status: 'ready', backend: m.backend, description: m.description, ...(m.adapter ? { adapter: m.adapter } : {}) });
        return;
      case 'unsupported':
        s.setDevice({ status: 'unsupported', message: m.message });
        return;
      case 'presets':
        s.setPresets(m.table);
        return;
      case 'created': {
        const p = this.pending.get(m.runId);
        this.pending.delete(m.runId);
        const old = s.runs[m.runId];
        const rec: RunRecord = {
          id: m.runId,
          name: m.config.name,
          config: m.config,
          data: p?.data ?? old?.data ?? dataSpecOf(m.config),
          colorIndex: p?.colorIndex ?? old?.colorIndex ?? nextColorIndex(s.runs),
          createdAt: p?.createdAt ?? old?.createdAt ?? Date.now(),
          state: 'paused',
          step: m.step,
          parameters: m.parameters,
          ...(p?.spec ? { spec: p.spec } : old?.spec ? { spec: old.spec } : {}),
        };
        // Steps after the checkpoint will be replayed (identically): drop them from the curves.
        if (this.hub.has(m.runId)) this.hub.get(m.runId).truncate(m.step);
        s.upsertRun({ ...rec, live: true, checkpointStep: old?.checkpointStep ?? null });
        void this.storage.putRun(rec);
        return;
      }
      case 'state': {
        s.setRunState(m.runId, m.state, m.step, m.message);
        const r = this.s.runs[m.runId];
        if (m.state === 'device-lost' && r) s.patchRun(m.runId, { live: false });
        if (r) void this.storage.putRun(toRecord(r));
        return;
      }
      case 'metrics': {
        this.hub.append(m.runId, m.batch);
        const n = m.batch.step.length;
        if (n > 0) s.patchRun(m.runId, { step: m.batch.step[n - 1]! });
        const list = this.unflushed.get(m.runId) ?? [];
        list.push(m.batch);
        this.unflushed.set(m.runId, list);
        this.scheduleFlush();
        return;
      }
      case 'config': {
        s.patchRun(m.runId, { config: m.config, pendingHypers: undefined });
        const r = this.s.runs[m.runId];
        if (r) void this.storage.putRun(toRecord(r));
        return;
      }
      case 'checkpoint':
        if (m.requestId === UNSOLICITED) void this.saveCheckpoint(m.runId, m.step, m.bytes);
        return;
      case 'samples':
        s.setSamples(m.runId, m.samples);
        return;
      case 'error':
        if (m.runId && this.pending.has(m.runId)) this.pending.delete(m.runId);
        if (m.runId && s.runs[m.runId]?.pendingHypers) s.patchRun(m.runId, { pendingHypers: undefined });
        s.notify(m.runId && s.runs[m.runId] ? `${s.runs[m.runId]!.name}: ${m.message}` : m.message);
        return;
      case 'device-lost':
        s.setDevice({ status: 'lost', message: m.message });
        for (const id of this.s.order) {
          const r = this.s.runs[id]!;
          if (r.live) s.patchRun(id, { live: false, state: r.state === 'finished' ? 'finished' : 'device-lost' });
        }
        return;
    }
  }

  private async saveCheckpoint(runId: string, step: number, bytes: Uint8Array): Promise<void> {
    if (!this.s.runs[runId]) return;
    await this.flush(); // metrics up to the checkpoint first, so a crash never leaves a gap
    await this.storage.putCheckpoint({ runId, step, bytes });
    this.s.patchRun(runId, { checkpointStep: step });
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes the metrics received since the last write, one chunk per run. */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const all = [...this.unflushed];
    this.unflushed.clear();
    for (const [runId, batches] of all) {
      if (!this.s.runs[runId]) continue;
      await this.storage.addMetrics(runId, concatBatches(batches));
    }
  }

  /** One run per variant the form selects, same seed and data order; they start at once. */
  createFromForm(form: FormState = this.s.form, start = true): string[] {
    const specs = formToSpecs(form);
    if (specs.length === 0) {
      this.s.notify('Choose at least one variant to train.');
      return [];
    }
    const data = dataSpecOfForm(form);
    const ids: string[] = [];
    const used: Record<string, { colorIndex: number }> = { ...this.s.runs };
    for (const p of this.pending.values()) used[`pending-${p.colorIndex}`] = p;
    for (const spec of specs) {
      const runId = this.newId();
      const colorIndex = nextColorIndex(used);
      used[runId] = { colorIndex };
      this.pending.set(runId, { spec, data, colorIndex, createdAt: Date.now() + ids.length });
      this.client.send({ type: 'create', runId, spec, data });
      if (start) this.client.send({ type: 'start', runId });
      ids.push(runId);
    }
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
      void this.storage.putRun(toRecord(this.s.runs[id]!));
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
    this.unflushed.delete(id);
    this.s.removeRun(id);
    this.hub.remove(id);
    await this.storage.deleteRun(id);
  }

  async requestSamples(id: string, count: number): Promise<void> {
    try {
      const reply = await this.client.request<'samples'>((requestId) => ({ type: 'sample', runId: id, requestId, count }));
      this.s.setSamples(id, reply.samples);
    } catch (e) {
      this.s.notify(`samples: ${(e as Error).message}`);
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
        this.s.notify(`checkpoint: ${(e as Error).message}; using the stored one`);
      }
    }
    const ck = await this.storage.getCheckpoint(id);
    return ck ? { bytes: ck.bytes, step: ck.step } : null;
  }

  /** A checkpoint file the user opened becomes a new (paused) run. */
  async uploadCheckpoint(bytes: Uint8Array): Promise<string | null> {
    let cfg: RunConfig;
    try {
      cfg = checkpointConfig(bytes);
    } catch (e) {
      this.s.notify(`checkpoint: ${(e as Error).message}`);
      return null;
    }
    const runId = this.newId();
    const data = dataSpecOf(cfg);
    if (data.kind === 'mnist-dataset') {
      const images = await this.storage.getDataset(data.name);
      if (images) this.client.send({ type: 'dataset', name: data.name, images });
    }
    this.pending.set(runId, { data, colorIndex: nextColorIndex(this.s.runs), createdAt: Date.now() });
    this.client.send({ type: 'restore', runId, checkpoint: bytes, data }, [bytes.buffer as ArrayBuffer]);
    return runId;
  }

  /** IDX images the user opened: kept in IndexedDB and handed to the worker for MNIST-style runs. */
  async addDataset(name: string, images: ImageData8): Promise<void> {
    await this.storage.putDataset(name, images);
    this.client.send({ type: 'dataset', name, images });
    this.s.setForm({ source: name });
  }
}

function toRecord(r: RunView): RunRecord {
  const { live: _l, checkpointStep: _c, pendingHypers: _p, ...rec } = r;
  return rec;
}

export function concatBatches(bs: MetricsBatch[]): MetricsBatch {
  if (bs.length === 1) return bs[0]!;
  const cat = (k: Exclude<keyof MetricsBatch, 'changes' | 'betaTildeLayers'>) => {
    const out = new Float64Array(bs.reduce((s, b) => s + b[k].length, 0));
    let at = 0;
    for (const b of bs) {
      out.set(b[k], at);
      at += b[k].length;
    }
    return out;
  };
  const layers = bs.reduce((m, b) => Math.max(m, b.betaTildeLayers), 0);
  return {
    step: cat('step'),
    wallSeconds: cat('wallSeconds'),
    trainLoss: cat('trainLoss'),
    testLoss: cat('testLoss'),
    accuracy: cat('accuracy'),
    bitsPerDim: cat('bitsPerDim'),
    tokensPerSec: cat('tokensPerSec'),
    lr: cat('lr'),
    gradNorm: cat('gradNorm'),
    betaTilde: layers > 0 ? cat('betaTilde') : new Float64Array(0),
    betaTildeLayers: layers,
    changes: bs.flatMap((b) => b.changes),
  };
}
