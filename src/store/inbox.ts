// Every message from the worker lands here and becomes store state, stored records, metrics and
// notices. One notice per failure, naming the run; a run whose creation failed never appears and
// says nothing more (its queued commands' errors are dropped).
import { UNSOLICITED, type DataSpec, type FromWorker, type RunSpec } from '../worker/protocol.ts';
import { dataSpecOf } from './dataSpec.ts';
import type { MetricsHub } from './metrics.ts';
import { uniqueName } from './names.ts';
import type { RunGroup, RunRecord } from './persist.ts';
import type { Recorder } from './recorder.ts';
import { nextColorIndex, type RunView, type useApp } from './store.ts';

/** A run asked of the worker and not yet created. */
export interface PendingRun {
  name: string;
  spec?: RunSpec;
  data: DataSpec;
  colorIndex: number;
  createdAt: number;
  group?: RunGroup;
}

/** Milliseconds between updates of the runs' step counters (metrics arrive far more often). */
const STEP_PATCH_MS = 500;

export class Inbox {
  readonly pending = new Map<string, PendingRun>();
  /** Runs whose creation failed: what the worker says about them later is not news. */
  readonly failed = new Set<string>();
  private steps: Record<string, Partial<RunView>> = {};
  private stepTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly store: typeof useApp,
    private readonly hub: MetricsHub,
    private readonly recorder: Recorder,
  ) {}

  private get s() {
    return this.store.getState();
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
      case 'plan':
        return; // answers a request (client.request)
      case 'created': {
        const p = this.pending.get(m.runId);
        this.pending.delete(m.runId);
        const old = s.runs[m.runId];
        const taken = Object.values(s.runs).filter((r) => r.id !== m.runId).map((r) => r.name);
        const rec: RunRecord = {
          id: m.runId,
          name: p?.name ?? old?.name ?? uniqueName(m.config.name, taken),
          config: m.config,
          data: p?.data ?? old?.data ?? dataSpecOf(m.config),
          colorIndex: p?.colorIndex ?? old?.colorIndex ?? nextColorIndex(s.runs),
          createdAt: p?.createdAt ?? old?.createdAt ?? Date.now(),
          state: 'paused',
          step: m.step,
          parameters: m.parameters,
          ...(p?.spec ? { spec: p.spec } : old?.spec ? { spec: old.spec } : {}),
          ...(p?.group ? { group: p.group } : old?.group ? { group: old.group } : {}),
        };
        // Steps after the checkpoint will be replayed (identically): drop them from the curves.
        if (this.hub.has(m.runId)) this.hub.get(m.runId).truncate(m.step);
        s.upsertRun({ ...rec, live: true, checkpointStep: old?.checkpointStep ?? null });
        this.recorder.run({ ...rec, live: true, checkpointStep: null });
        return;
      }
      case 'state': {
        this.flushSteps();
        s.setRunState(m.runId, m.state, m.step, m.message);
        const r = this.s.runs[m.runId];
        if (m.state === 'device-lost' && r) s.patchRun(m.runId, { live: false, busy: undefined });
        if (r) this.recorder.run(this.s.runs[m.runId]!);
        return;
      }
      case 'busy': {
        // A repeat for the same step (its compiling flag changed) keeps when the step began.
        const prev = this.s.runs[m.runId]?.busy;
        const since = prev && prev.step === m.step ? prev.since : Date.now();
        s.patchRun(m.runId, { busy: m.busy ? { step: m.step, since, ...(m.compiling ? { compiling: true } : {}) } : undefined });
        return;
      }
      case 'metrics': {
        this.hub.append(m.runId, m.batch);
        const n = m.batch.step.length;
        if (n > 0) this.patchStep(m.runId, m.batch.step[n - 1]!);
        this.recorder.metrics(m.runId, m.batch);
        return;
      }
      case 'config': {
        s.patchRun(m.runId, { config: m.config, pendingHypers: undefined });
        const r = this.s.runs[m.runId];
        if (r) this.recorder.run(r);
        return;
      }
      case 'checkpoint':
        if (m.requestId === UNSOLICITED) {
          void this.recorder.checkpoint(m.runId, m.step, m.bytes).then((ok) => ok && this.s.patchRun(m.runId, { checkpointStep: m.step }));
        }
        return;
      case 'samples':
        s.setSamples(m.runId, m.samples);
        return;
      case 'classified':
        if (s.runs[m.runId]) s.setClassReport(m.runId, m.report);
        return;
      case 'error': {
        const id = m.runId;
        if (id && this.failed.has(id)) return;
        const p = id ? this.pending.get(id) : undefined;
        if (id && p) {
          this.pending.delete(id);
          this.failed.add(id);
          s.notify(`${p.name}: ${m.message}`);
          return;
        }
        const r = id ? s.runs[id] : undefined;
        if (r?.pendingHypers) s.patchRun(r.id, { pendingHypers: undefined });
        s.notify(r ? `${r.name}: ${m.message}` : m.message);
        return;
      }
      case 'device-lost':
        this.flushSteps();
        s.setDevice({ status: 'lost', message: m.message });
        for (const id of this.s.order) {
          const r = this.s.runs[id]!;
          if (r.live) s.patchRun(id, { live: false, busy: undefined, state: r.state === 'finished' ? 'finished' : 'device-lost' });
        }
        return;
    }
  }

  private patchStep(runId: string, step: number): void {
    this.steps[runId] = { step };
    if (!this.stepTimer) this.stepTimer = setTimeout(() => this.flushSteps(), STEP_PATCH_MS);
  }

  /** The latest step of every run that reported metrics, in one store update. */
  flushSteps(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = null;
    const patches = this.steps;
    this.steps = {};
    if (Object.keys(patches).length > 0) this.s.patchRuns(patches);
  }

  dispose(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
  }
}
