// The training loop on the engine. A step is encoded into one command buffer (the batch upload
// submits the previous step's work) and never waits on the GPU: losses, gradient norms and adaptive
// beta~ means go into scalar rings that the host drains once per window of steps. Divergence is
// checked at each drain; the parameters and moments of the window's start are kept on the GPU, so
// a diverged run is rolled back and replayed (deterministically) to its last good step.
import type { Gpu } from '../engine/gpu.ts';
import { crossEntropy, dmolLoss } from '../engine/ops/loss.ts';
import { detachedSum } from '../engine/ops/reduce.ts';
import { TensorSnapshot } from '../engine/ops/state.ts';
import { Optimizer, lrAt } from '../engine/optim.ts';
import { ScalarRing } from '../engine/readback.ts';
import { Tape, fromArray, type Tensor } from '../engine/tensor.ts';
import { applyHypers, encoderPositions, type ModelConfig } from '../model/config.ts';
import { Transformer } from '../model/transformer.ts';
import { checkpointTensors, loadCheckpointTensors, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { makeDataStream, type Batch, type DataStream, type TaskData } from './data.ts';
import { evalMetrics, evaluateClassifier, evaluateModel, type EvalResult } from './evaluate.ts';
import { checkFitsDevice, type MemoryEstimate } from './memory.ts';
import { checkRunConfig } from './presets.ts';
import type { LiveHypers, MetricsRecord, RunConfig, StopReason } from './types.ts';

export type { TaskData } from './data.ts';

export interface TrainerOptions {
  /** Steps between two drains of the scalar rings (and divergence checks). Default 16. */
  window?: number;
  /** A gradient norm above this (before clipping) counts as divergence. Default 1e5. */
  gradNormLimit?: number;
  /** Refuse runs whose estimated GPU memory exceeds this many bytes. Default 4 GiB. */
  memoryBudget?: number;
}

/** Dropout masks differ per step and seed, and need no state of their own. */
function dropoutSeed(seed: number, step: number): number {
  return (Math.imul(seed, 0x9e3779b1) + Math.imul(step + 1, 0x85ebca6b)) >>> 0;
}

/** What one step used, so a rolled-back window can be replayed exactly. */
interface StepPlan {
  step: number;
  lr: number;
  model: ModelConfig;
  changed?: LiveHypers;
  tokens: number;
}

export class Trainer {
  readonly model: Transformer;
  readonly data: DataStream;
  readonly estimate: MemoryEstimate;
  private cfg: RunConfig;
  private opt: Optimizer;
  private stepsDone = 0;
  private trainSeconds = 0;
  private pending: LiveHypers | null = null;
  private readonly window: number;
  private readonly gradNormLimit: number;
  private readonly ring: ScalarRing;
  private readonly perStep: number;
  private readonly backup: TensorSnapshot;
  private disposed = false;
  private stopped: StopReason | null = null;
  /** Set by the worker or the CLI to stop at the next drain. */
  stopRequested = false;
  /** The latest evaluation run() made, the confusion matrix of a classifier included; null before the first. */
  lastEvaluation: EvalResult | null = null;

  private constructor(readonly gpu: Gpu, cfg: RunConfig, data: TaskData, opts: TrainerOptions) {
    this.cfg = structuredClone(checkRunConfig(cfg));
    this.window = opts.window ?? 16;
    if (!Number.isInteger(this.window) || this.window < 1) throw new Error(`window must be a positive integer; got ${this.window}`);
    this.gradNormLimit = opts.gradNormLimit ?? 1e5;
    this.estimate = checkFitsDevice(gpu, this.cfg, opts.memoryBudget ?? 4 * 2 ** 30);
    this.data = makeDataStream(this.cfg, data);
    this.model = new Transformer(gpu, this.cfg.model, this.cfg.seed);
    const o = this.cfg.optim;
    this.opt = new Optimizer(gpu, this.model.parameterList, {
      kind: o.kind,
      lr: o.schedule.lr,
      weightDecay: o.weightDecay,
      ...(o.clipNorm !== null ? { clipNorm: o.clipNorm } : {}),
    });
    // Per step: the loss, the gradient norm and, for adaptive runs, each later layer's beta~ sum.
    this.perStep = 2 + (this.cfg.model.connection.kind === 'adaptive' ? this.cfg.model.layers - 1 : 0);
    this.ring = new ScalarRing(gpu, this.window * this.perStep, 'trainer.scalars');
    this.backup = new TensorSnapshot(gpu, [...this.model.parameterList, ...this.opt.stateTensors().map((s) => s.tensor)], 'rollback');
  }

  /** A new run. Throws before allocating when the config is invalid or too large for the device. */
  static create(gpu: Gpu, cfg: RunConfig, data: TaskData, opts: TrainerOptions = {}): Trainer {
    return new Trainer(gpu, cfg, data, opts);
  }

  /** Continues a run from `checkpoint()` bytes; the next steps equal the uninterrupted run's. */
  static fromCheckpoint(gpu: Gpu, bytes: Uint8Array, data: TaskData, opts: TrainerOptions = {}): Trainer {
    const { file, meta } = readCheckpoint(bytes);
    const t = new Trainer(gpu, meta.config, data, opts);
    try {
      loadCheckpointTensors(file, checkpointTensors(t.model, t.opt));
      t.data.restore(meta.data);
      t.stepsDone = meta.step;
      t.opt.stepCount = meta.optimizerStep;
      t.trainSeconds = meta.trainSeconds;
      return t;
    } catch (e) {
      t.dispose();
      throw e;
    }
  }

  /** The configuration as it stands, live hyper-parameter changes included. */
  get config(): RunConfig {
    return structuredClone(this.cfg);
  }

  /** Steps completed. */
  get step(): number {
    return this.stepsDone;
  }

  get finished(): boolean {
    return this.stepsDone >= this.cfg.steps || this.stopped !== null;
  }

  get stopReason(): StopReason | null {
    return this.stopped;
  }

  /** Changes the total number of steps (e.g. to continue a finished run from its checkpoint). */
  extend(steps: number): void {
    if (!Number.isInteger(steps) || steps < this.stepsDone) {
      throw new Error(`steps must be an integer >= the ${this.stepsDone} steps already done; got ${steps}`);
    }
    this.cfg.steps = steps;
    checkRunConfig(this.cfg);
  }

  /**
   * Changes hyper-parameters from the next step on. Validated now (beta in [0, 1), gamma > 0, ...):
   * an invalid value throws and changes nothing.
   */
  setHypers(h: LiveHypers): void {
    const { lr: _lr, ...model } = { ...(this.pending ?? {}), ...h };
    applyHypers(this.cfg.model, model); // throws on anything invalid or not applicable
    if (h.lr !== undefined && !(Number.isFinite(h.lr) && h.lr > 0)) throw new Error(`learning rate must be > 0; got ${h.lr}`);
    this.pending = { ...(this.pending ?? {}), ...h };
  }

  private applyPending(): LiveHypers | undefined {
    const h = this.pending;
    if (!h) return undefined;
    this.pending = null;
    const { lr, ...model } = h;
    if (Object.keys(model).length > 0) {
      this.model.setHypers(model);
      this.cfg.model = structuredClone(this.model.cfg);
    }
    if (lr !== undefined) this.cfg.optim.schedule.lr = lr;
    return h;
  }

  /** Encodes one training step (nothing is awaited). */
  private encodeStep(plan: StepPlan, batch: Batch): void {
    const g = this.gpu;
    const params = this.model.parameterList;
    const tape = new Tape(g);
    const opts = { train: true, dropoutSeed: dropoutSeed(this.cfg.seed, plan.step) };
    let loss: Tensor;
    let betaTilde: Tensor[];
    if (this.cfg.model.encoder) {
      // Classification: one label per sequence, right padding masked out by the lengths.
      const labels = tape.own(fromArray(g, batch.targets, [batch.batch], 'batch.labels')); // u32 [B]
      const input = { batch: batch.batch, seq: batch.seq, ids: batch.inputs, lengths: batch.lengths ?? null };
      const r = this.model.classify(tape, input, opts);
      loss = crossEntropy(tape, r.logits, labels, null).loss;
      betaTilde = r.betaTilde;
    } else {
      const ids = tape.own(fromArray(g, batch.inputs, [batch.batch, batch.seq], 'batch.inputs')); // u32 [B, N]
      const targets = tape.own(fromArray(g, batch.targets, [batch.batch * batch.seq], 'batch.targets')); // u32 [B*N]
      const mask = batch.mask ? tape.own(fromArray(g, batch.mask, [batch.batch * batch.seq], 'batch.mask')) : null; // [B*N]
      const r = this.model.forward(tape, ids, opts);
      loss = this.loss(tape, r.output, targets, mask);
      betaTilde = r.betaTilde;
    }
    tape.backward(loss);
    this.opt.step(plan.lr);
    this.ring.push(loss);
    this.ring.push(this.opt.gradNorm);
    for (const b of betaTilde) this.ring.push(detachedSum(tape, b)); // [1]
    tape.dispose(params);
  }

  private loss(tape: Tape, output: Tensor, targets: Tensor, mask: Tensor | null): Tensor {
    return this.cfg.model.output.kind === 'softmax'
      ? crossEntropy(tape, output, targets, mask).loss
      : dmolLoss(tape, output, targets, mask).loss;
  }

  /**
   * Trains up to `n` more steps (never past `steps`) and returns one record per step, with test
   * metrics on evaluation steps. Stops early, with a reason, on divergence or `stopRequested`.
   */
  async run(n: number): Promise<{ records: MetricsRecord[]; stop: StopReason | null }> {
    if (this.disposed) throw new Error('Trainer: run() after dispose()');
    if (!Number.isInteger(n) || n < 1) throw new Error(`run(n): n must be a positive integer; got ${n}`);
    const records: MetricsRecord[] = [];
    const end = Math.min(this.cfg.steps, this.stepsDone + n);
    while (this.stepsDone < end && !this.stopped) {
      if (this.stopRequested) {
        this.stopRequested = false;
        return { records, stop: { kind: 'stopped', step: this.stepsDone, message: 'stopped by request' } };
      }
      // One window: up to the next evaluation step, the window size or the end.
      const nextEval = (Math.floor(this.stepsDone / this.cfg.evalEvery) + 1) * this.cfg.evalEvery;
      const count = Math.min(this.window, end - this.stepsDone, nextEval - this.stepsDone);
      records.push(...(await this.runWindow(count)));
      if (this.stopped) break;
      const last = records[records.length - 1]!;
      if (this.stepsDone % this.cfg.evalEvery === 0 || this.stepsDone === this.cfg.steps) {
        this.lastEvaluation = await this.evaluate();
        Object.assign(last, evalMetrics(this.lastEvaluation));
        const trainSample = this.cfg.model.encoder ? this.data.trainEvalBatches?.(this.cfg.batch) : undefined;
        if (trainSample) last.trainAccuracy = (await evaluateClassifier(this.gpu, this.model, this.cfg, trainSample)).accuracy!;
      }
    }
    return { records, stop: this.stopped };
  }

  private async runWindow(count: number): Promise<MetricsRecord[]> {
    const g = this.gpu;
    const start = { step: this.stepsDone, optimizerStep: this.opt.stepCount, data: this.data.state(), cfg: structuredClone(this.cfg) };
    this.backup.save();
    const t0 = performance.now();
    const plans: StepPlan[] = [];
    const batches: Batch[] = [];
    for (let i = 0; i < count; i++) {
      const changed = this.applyPending();
      const step = this.stepsDone + i;
      const batch = this.data.next(this.cfg.batch);
      const plan: StepPlan = {
        step,
        lr: lrAt(this.cfg.optim.schedule, this.opt.stepCount),
        model: structuredClone(this.cfg.model),
        tokens: batch.batch * encoderPositions(this.cfg.model, batch.seq), // positions the model runs (CLS and padding included)
        ...(changed ? { changed } : {}),
      };
      plans.push(plan);
      batches.push(batch);
      this.encodeStep(plan, batch);
    }
    g.flush();
    const values = await this.ring.drain();
    const seconds = (performance.now() - t0) / 1000;
    const records: MetricsRecord[] = [];
    let bad = -1;
    let why = '';
    for (let i = 0; i < count; i++) {
      const v = values.subarray(i * this.perStep, (i + 1) * this.perStep);
      const [loss, gradNorm] = [v[0]!, v[1]!];
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm) || gradNorm > this.gradNormLimit) {
        bad = i;
        why = !Number.isFinite(loss)
          ? `the training loss became ${loss}`
          : !Number.isFinite(gradNorm)
            ? `the gradient norm became ${gradNorm}`
            : `the gradient norm ${gradNorm.toExponential(2)} exceeded the limit ${this.gradNormLimit.toExponential(0)}`;
        break;
      }
      const p = plans[i]!;
      const rows = p.tokens;
      const rec: MetricsRecord = {
        step: p.step + 1,
        wallSeconds: this.trainSeconds + (seconds * (i + 1)) / count,
        trainLoss: loss,
        testLoss: null,
        tokensPerSec: (plans.reduce((s, q) => s + q.tokens, 0) / Math.max(seconds, 1e-9)),
        lr: p.lr,
        gradNorm,
      };
      if (this.perStep > 2) rec.betaTilde = Array.from(v.subarray(2), (s) => s / rows);
      if (p.changed) rec.changed = p.changed;
      records.push(rec);
    }
    if (bad < 0) {
      this.stepsDone += count;
      this.trainSeconds += seconds;
      return records;
    }
    // Roll back to the window's start and replay its good steps: the state is then exactly the
    // one after the last good step, as if the run had stopped there.
    this.backup.restore();
    this.opt.stepCount = start.optimizerStep;
    this.data.restore(start.data);
    for (let i = 0; i < bad; i++) {
      const p = plans[i]!;
      this.model.setHypers(hypersOf(p.model));
      this.encodeStep(p, this.data.next(this.cfg.batch));
      this.ring.drain(); // values already known
    }
    this.data.next(this.cfg.batch); // the bad step's batch stays consumed, so a resume moves on
    this.cfg.model = structuredClone(this.model.cfg);
    g.flush();
    await g.sync();
    this.stepsDone = start.step + bad;
    this.trainSeconds += (seconds * bad) / count;
    this.stopped = {
      kind: 'diverged',
      step: start.step + bad + 1,
      message: `diverged at step ${start.step + bad + 1}: ${why}; the model is kept as it was after step ${start.step + bad}`,
    };
    return records;
  }

  /** Test loss and the task's metric on the fixed evaluation set (dropout off). */
  evaluate(): Promise<EvalResult> {
    return evaluateModel(this.gpu, this.model, this.cfg, this.data);
  }

  /**
   * Everything needed to continue the run bit for bit: parameters, optimizer moments and step,
   * the data stream's state, the config (live changes included) and the training time so far.
   */
  async checkpoint(): Promise<Uint8Array> {
    if (this.pending) throw new Error('checkpoint(): hyper-parameter changes are pending; run a step first');
    return writeCheckpoint(checkpointTensors(this.model, this.opt), {
      config: this.cfg,
      step: this.stepsDone,
      optimizerStep: this.opt.stepCount,
      data: this.data.state(),
      trainSeconds: this.trainSeconds,
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ring.destroy();
    this.backup.destroy();
    this.opt.dispose();
    this.model.destroy();
  }
}

function hypersOf(m: ModelConfig): LiveHypers {
  const h: LiveHypers = {};
  if (m.attention.kind === 'momentum') Object.assign(h, { beta: m.attention.beta, gamma: m.attention.gamma });
  if (m.connection.kind === 'momentum') Object.assign(h, { betaTilde: m.connection.betaTilde, gammaTilde: m.connection.gammaTilde });
  if (m.connection.kind === 'adaptive') Object.assign(h, { gammaTilde: m.connection.gammaTilde, delta: m.connection.delta });
  return h;
}
