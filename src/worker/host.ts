// The training worker's logic, apart from the Worker global so it can be tested with fakes: it
// owns the device and the trainers, interleaves the running runs step by step on the one device,
// batches their metrics, checkpoints them now and then, and turns a lost device into paused runs.
import { adapterFacts } from '../util/adapter.ts';
import type { ImageSet } from '../tasks/idx.ts';
import type { TaskData } from '../train/data.ts';
import { flopsPerStep, stepSeconds } from './estimate.ts';
import {
  UNSOLICITED,
  metricsTransfer,
  packMetrics,
  type DataSpec,
  type FromWorker,
  type ImageData8,
  type MetricsRecord,
  type PlanItem,
  type RunSpec,
  type RunConfig,
  type StopReason,
  type ToWorker,
} from './protocol.ts';
import { inspectionTransfer } from './inspection.ts';
import type { GpuLike, HostDeps, HostOptions, Run } from './hostTypes.ts';

export type { GpuLike, HostDeps, HostOptions, TrainerLike } from './hostTypes.ts';

export class TrainingHost {
  private gpu: GpuLike | null = null;
  private opening: Promise<GpuLike | null> | null = null;
  private lostFlag = false;
  private mnistUrl = '';
  private embedded: Promise<ImageSet> | null = null;
  private datasets = new Map<string, ImageSet>();
  private runs = new Map<string, Run>();
  private looping = false;
  private readonly checkpointMs: number;
  private readonly turnMs: number;
  private readonly maxTurnSteps: number;
  private readonly busyMs: number;
  /** GFLOP/s the device achieved in recent training turns (null until measured). */
  private gflops: number | null = null;

  constructor(private deps: HostDeps, opts: HostOptions = {}) {
    this.checkpointMs = (opts.checkpointSeconds ?? 10) * 1000;
    this.turnMs = opts.turnMs ?? 120;
    this.maxTurnSteps = opts.maxTurnSteps ?? 16;
    this.busyMs = opts.busyMs ?? 1000;
  }

  /** Handles one message; resolves when its immediate work is done (the training loop goes on). */
  async handle(msg: ToWorker): Promise<void> {
    try {
      await this.dispatch(msg);
    } catch (e) {
      const runId = 'runId' in msg ? msg.runId : undefined;
      const requestId = 'requestId' in msg ? msg.requestId : undefined;
      this.post({ type: 'error', message: errorText(e), ...(runId ? { runId } : {}), ...(requestId !== undefined ? { requestId } : {}) });
    }
  }

  private async dispatch(msg: ToWorker): Promise<void> {
    switch (msg.type) {
      case 'init':
        this.mnistUrl = msg.mnistUrl;
        await this.ensureGpu();
        return;
      case 'presets':
        this.post({ type: 'presets', table: this.deps.presets() });
        return;
      case 'dataset':
        this.datasets.set(msg.name, fromImageData(msg.images));
        return;
      case 'plan':
        await this.plan(msg.requestId, msg.specs);
        return;
      case 'lose-device': {
        const gpu = this.gpu;
        if (!gpu || !this.deps.loseDevice) throw new Error('no device to lose (or no test hook in this build)');
        this.deps.loseDevice(gpu);
        return;
      }
      case 'create':
      case 'restore': {
        let config: RunConfig | null = null;
        if (msg.type === 'create') {
          if (msg.config) config = msg.config;
          else if (msg.spec) config = this.deps.makeConfig(msg.spec);
          else throw new Error('create needs a spec or a config');
        }
        const gpu = await this.ensureGpu();
        if (!gpu) throw new Error('no WebGPU device: the run cannot be created');
        if (this.runs.has(msg.runId)) throw new Error(`run ${msg.runId} exists already`);
        const data = await this.taskData(msg.data);
        const trainer =
          msg.type === 'create' ? this.deps.createTrainer(gpu, config!, data) : this.deps.restoreTrainer(gpu, msg.checkpoint, data);
        const run: Run = {
          id: msg.runId,
          trainer,
          state: trainer.finished ? 'finished' : 'paused',
          turnSteps: 1,
          stepOnce: false,
          lastCheckpoint: this.deps.now(),
          queue: Promise.resolve(),
          disposed: false,
        };
        this.runs.set(run.id, run);
        this.post({ type: 'created', runId: run.id, config: trainer.config, step: trainer.step, parameters: trainer.model.parameterCount });
        this.postState(run);
        if (msg.type === 'create') void this.checkpoint(run, UNSOLICITED);
        return;
      }
      case 'start': {
        const run = this.run(msg.runId);
        if (run.state === 'finished') throw new Error(`run ${run.id} has finished all its steps`);
        if (run.state === 'device-lost' || run.state === 'error') throw new Error(`run ${run.id} cannot continue (${run.state}); restore it from its checkpoint`);
        run.state = 'running';
        this.postState(run);
        this.kick();
        return;
      }
      case 'pause': {
        const run = this.run(msg.runId);
        if (run.state !== 'running') return;
        run.state = 'paused';
        this.postState(run);
        void this.checkpoint(run, UNSOLICITED);
        return;
      }
      case 'stop': {
        const run = this.run(msg.runId);
        if (run.state === 'finished' || run.state === 'stopped') return;
        run.state = 'stopped';
        run.stepOnce = false;
        this.postState(run, { kind: 'stopped', step: run.trainer.step, message: 'stopped by the user' });
        void this.checkpoint(run, UNSOLICITED);
        return;
      }
      case 'step': {
        const run = this.run(msg.runId);
        if (run.state !== 'paused') throw new Error(`step once needs a paused run; run ${run.id} is ${run.state}`);
        run.stepOnce = true;
        this.kick();
        return;
      }
      case 'hypers': {
        const run = this.run(msg.runId);
        run.trainer.setHypers(msg.hypers); // throws on beta >= 1, gamma <= 0, ... and changes nothing
        return;
      }
      case 'checkpoint':
        await this.checkpoint(this.run(msg.runId), msg.requestId);
        return;
      case 'sample': {
        const run = this.run(msg.runId);
        const sample = this.deps.sample;
        const gpu = this.gpu;
        if (!sample || !gpu) throw new Error('sampling is not available in this build yet');
        const samples = await this.exclusive(run, () => sample(gpu, run.trainer, msg.count));
        const transfer = samples.kind === 'mnist' ? [samples.pixels.buffer] : [samples.inputs.buffer, samples.outputs.buffer, samples.mask.buffer];
        this.post({ type: 'samples', runId: run.id, requestId: msg.requestId, samples }, transfer as ArrayBuffer[]);
        return;
      }
      case 'inspect': {
        const run = this.runs.get(msg.runId);
        if (!run) throw new Error(`run ${msg.runId} has no parameters in the worker yet: resume it from its checkpoint, or wait until it is created`);
        const inspect = this.deps.inspect;
        const gpu = this.gpu;
        if (!inspect || !gpu) throw new Error('the inspector is not available in this build');
        const inspection = await this.exclusive(run, () => inspect(gpu, run.trainer, run.id, msg.example));
        this.post({ type: 'inspection', runId: run.id, requestId: msg.requestId, inspection }, inspectionTransfer(inspection));
        return;
      }
      case 'evaluate': {
        const run = this.run(msg.runId);
        const evaluate = this.deps.evaluateReport;
        const gpu = this.gpu;
        if (!evaluate || !gpu) throw new Error('evaluation on request is not available in this build');
        const report = await this.exclusive(run, () => evaluate(gpu, run.trainer));
        if (!report) throw new Error(`run ${run.id} is not a classifier: it has no confusion matrix`);
        this.post({ type: 'classified', runId: run.id, report });
        return;
      }
      case 'dispose': {
        const run = this.runs.get(msg.runId);
        if (!run) return;
        this.runs.delete(run.id);
        run.disposed = true;
        // After the step in flight, without holding up the messages behind this one.
        void this.exclusive(run, async () => run.trainer.dispose()).catch(() => undefined);
        return;
      }
    }
  }

  /** Configs for the specs, each checked, with the expected seconds per step; nothing is created. */
  private async plan(requestId: number, specs: RunSpec[]): Promise<void> {
    const items: PlanItem[] = specs.map((spec) => {
      try {
        const config = this.deps.makeConfig(spec);
        return { ok: true, config, flopsPerStep: flopsPerStep(config), stepSeconds: null };
      } catch (e) {
        return { ok: false, message: errorText(e) };
      }
    });
    if (this.gflops === null && items.some((i) => i.ok) && this.deps.measureSpeed) {
      const gpu = await this.ensureGpu();
      if (gpu) {
        try {
          this.gflops = await this.deps.measureSpeed(gpu);
        } catch {
          // no estimate then; the runs are still checked
        }
      }
    }
    const g = this.gflops;
    for (const i of items) if (i.ok && g !== null) i.stepSeconds = stepSeconds(i.config, g);
    this.post({ type: 'plan', requestId, items, gflops: g });
  }

  private post(msg: FromWorker, transfer: Transferable[] = []): void {
    this.deps.post(msg, transfer);
  }

  private postState(run: Run, stop?: StopReason, message?: string): void {
    this.post({
      type: 'state',
      runId: run.id,
      state: run.state,
      step: run.trainer.step,
      ...(stop ? { stop, message: stop.message } : {}),
      ...(message ? { message } : {}),
    });
  }

  private run(id: string): Run {
    const r = this.runs.get(id);
    if (!r) throw new Error(`no run ${id} in the worker (reload it from its checkpoint)`);
    return r;
  }

  private exclusive<T>(run: Run, op: () => Promise<T>): Promise<T> {
    const next = run.queue.then(op, op);
    run.queue = next.catch(() => undefined);
    return next;
  }

  private async ensureGpu(): Promise<GpuLike | null> {
    if (this.gpu && !this.lostFlag) return this.gpu;
    if (!this.opening) {
      this.opening = (async () => {
        try {
          const { gpu, lost } = await this.deps.openGpu();
          this.gpu = gpu;
          this.lostFlag = false;
          void lost.then((why) => this.onDeviceLost(gpu, why));
          const adapter = gpu.adapter ? adapterFacts(gpu.adapter) : undefined;
          this.post({ type: 'ready', backend: gpu.backend, description: gpu.description, ...(adapter ? { adapter } : {}) });
          return gpu;
        } catch (e) {
          this.post({ type: 'unsupported', message: errorText(e) });
          return null;
        } finally {
          this.opening = null;
        }
      })();
    }
    return this.opening;
  }

  private async taskData(spec: DataSpec): Promise<TaskData> {
    if (spec.kind === 'copy' || spec.kind === 'mqar' || spec.kind === 'listops') return { kind: spec.kind };
    if (spec.kind === 'mnist-embedded') {
      if (!this.embedded) {
        this.embedded = this.deps.loadEmbedded(this.mnistUrl);
        this.embedded.catch(() => (this.embedded = null));
      }
      return { kind: 'mnist', images: await this.embedded };
    }
    const images = this.datasets.get(spec.name);
    if (!images) throw new Error(`the images '${spec.name}' are not loaded in this session; open the IDX files again`);
    return { kind: 'mnist', images };
  }

  private async checkpoint(run: Run, requestId: number): Promise<void> {
    try {
      const bytes = await this.exclusive(run, () => run.trainer.checkpoint());
      run.lastCheckpoint = this.deps.now();
      this.post({ type: 'checkpoint', runId: run.id, requestId, step: run.trainer.step, bytes }, [bytes.buffer as ArrayBuffer]);
    } catch (e) {
      // Unasked checkpoints fail quietly while hyper-parameter changes wait for their step.
      if (requestId !== UNSOLICITED) throw e;
    }
  }

  private kick(): void {
    if (!this.looping) void this.loop();
  }

  /** Round-robin over the running runs, a few steps each per turn, until none is running. */
  private async loop(): Promise<void> {
    this.looping = true;
    try {
      for (;;) {
        const active = [...this.runs.values()].filter((r) => r.state === 'running' || r.stepOnce);
        if (active.length === 0 || this.lostFlag) return;
        for (const run of active) {
          if (run.disposed || this.lostFlag || !(run.state === 'running' || run.stepOnce)) continue;
          await this.turn(run);
          await new Promise((r) => setTimeout(r, 0)); // let messages (pause, sliders) in between turns
        }
      }
    } finally {
      this.looping = false;
    }
  }

  private async turn(run: Run): Promise<void> {
    const once = run.stepOnce && run.state !== 'running';
    const n = once ? 1 : run.turnSteps;
    const t0 = this.deps.now();
    let result: { records: MetricsRecord[]; stop: StopReason | null };
    let busy = false;
    let compiling: boolean | null = null;
    // Past busyMs the row says the step is in flight, and again whenever whether the device is
    // compiling the step's kernels changes.
    const tell = () => {
      busy = true;
      const now = (this.gpu?.compiling ?? 0) > 0;
      if (now === compiling) return;
      compiling = now;
      this.post({ type: 'busy', runId: run.id, busy: true, step: run.trainer.step, compiling: now });
    };
    let busyRepeat: ReturnType<typeof setInterval> | undefined;
    const busyTimer = setTimeout(() => {
      tell();
      busyRepeat = setInterval(tell, Math.max(50, this.busyMs / 4));
    }, this.busyMs);
    const stopBusy = () => {
      clearTimeout(busyTimer);
      clearInterval(busyRepeat);
    };
    try {
      result = await this.exclusive(run, () => run.trainer.run(n));
    } catch (e) {
      stopBusy();
      if (busy) this.post({ type: 'busy', runId: run.id, busy: false, step: run.trainer.step });
      run.stepOnce = false;
      if (this.gpu?.error || this.lostFlag) {
        this.onDeviceLost(this.gpu, errorText(this.gpu?.error ?? e));
        return;
      }
      run.state = 'error';
      this.postState(run, { kind: 'error', step: run.trainer.step, message: errorText(e) });
      return;
    }
    stopBusy();
    if (busy) this.post({ type: 'busy', runId: run.id, busy: false, step: run.trainer.step });
    const ms = this.deps.now() - t0;
    if (result.records.length > 0 && ms > 0) {
      const measured = (result.records.length * safeFlops(run.trainer.config)) / (ms * 1e6);
      if (Number.isFinite(measured) && measured > 0) this.gflops = this.gflops === null ? measured : 0.7 * this.gflops + 0.3 * measured;
    }
    if (!once) {
      if (ms < this.turnMs / 2 && run.turnSteps < this.maxTurnSteps) run.turnSteps *= 2;
      else if (ms > this.turnMs * 2 && run.turnSteps > 1) run.turnSteps /= 2;
    }
    if (result.records.length > 0) {
      const batch = packMetrics(result.records);
      this.post({ type: 'metrics', runId: run.id, batch }, metricsTransfer(batch));
      if (batch.changes.length > 0) this.post({ type: 'config', runId: run.id, config: run.trainer.config });
      if (this.deps.classReport && result.records.some((r) => r.testLoss !== null && Number.isFinite(r.testLoss))) this.postReport(run);
    }
    if (run.disposed) return;
    if (result.stop) {
      run.stepOnce = false;
      run.state = result.stop.kind === 'diverged' ? 'diverged' : result.stop.kind === 'device-lost' ? 'device-lost' : result.stop.kind === 'error' ? 'error' : 'stopped';
      this.postState(run, result.stop);
      void this.checkpoint(run, UNSOLICITED);
    } else if (run.trainer.finished) {
      run.stepOnce = false;
      run.state = 'finished';
      this.postState(run);
      void this.checkpoint(run, UNSOLICITED);
    } else if (once) {
      run.stepOnce = false;
      this.postState(run);
      void this.checkpoint(run, UNSOLICITED);
    } else if (this.deps.now() - run.lastCheckpoint > this.checkpointMs) {
      run.lastCheckpoint = this.deps.now();
      void this.checkpoint(run, UNSOLICITED);
    }
  }

  /** The run's latest evaluation as the page shows it; a failure to build it is a notice, not a failed run. */
  private postReport(run: Run): void {
    try {
      const report = this.deps.classReport!(run.trainer);
      if (report) this.post({ type: 'classified', runId: run.id, report });
    } catch (e) {
      this.post({ type: 'error', runId: run.id, message: `the test examples could not be read: ${errorText(e)}` });
    }
  }

  private onDeviceLost(gpu: GpuLike | null, why: string): void {
    if (gpu !== this.gpu || this.lostFlag) return;
    this.lostFlag = true;
    for (const run of this.runs.values()) {
      run.disposed = true;
      run.stepOnce = false;
      // A finished run lost nothing; the others stop where their last checkpoint is.
      if (run.state !== 'finished') {
        run.state = 'device-lost';
        this.postState(run, undefined, why);
      }
      try {
        run.trainer.dispose();
      } catch {
        // the device is gone; its buffers with it
      }
    }
    this.runs.clear();
    try {
      this.gpu?.destroy();
    } catch {
      // already gone
    }
    this.gpu = null;
    this.post({ type: 'device-lost', message: why });
  }
}

function fromImageData(d: ImageData8): ImageSet {
  return { count: d.count, rows: d.rows, cols: d.cols, pixels: d.pixels, ...(d.labels ? { labels: d.labels } : {}) };
}

function safeFlops(cfg: RunConfig): number {
  try {
    return flopsPerStep(cfg);
  } catch {
    return NaN;
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
