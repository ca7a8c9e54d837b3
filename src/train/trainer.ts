// The training loop on the engine. A step is encoded into one command buffer (the batch upload
// submits the previous step's work) and never waits on the GPU: losses, gradient norms and adaptive
// beta~ means go into scalar rings that the host drains once per window of steps. Divergence is
// checked at each drain; the parameters and moments of the window's start are kept on the GPU, so
// a diverged run is rolled back and replayed (deterministically) to its last good step.
import type { Gpu } from '../engine/gpu.ts';
import { reduceSum } from '../engine/kernels/reduce.ts';
import { crossEntropy, dmolLoss } from '../engine/ops/loss.ts';
import { Optimizer, lrAt } from '../engine/optim.ts';
import { ScalarRing } from '../engine/readback.ts';
import { Tape, fromArray, type Tensor } from '../engine/tensor.ts';
import { applyHypers, modelWidth, outputWidth, type ModelConfig } from '../model/config.ts';
import { Transformer } from '../model/transformer.ts';
import { copyAccuracy } from '../tasks/copyTask.ts';
import { bitsPerDim } from '../tasks/mnist.ts';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../train/safetensors.ts';
import { makeDataStream, type Batch, type DataStream, type StreamState, type TaskData } from './data.ts';
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

export interface EvalResult {
  testLoss: number;
  accuracy?: number;
  sequenceAccuracy?: number;
  bitsPerDim?: number;
  resolution?: number;
}

export interface MemoryEstimate {
  totalBytes: number;
  parameterBytes: number;
  largest: { what: string; bytes: number };
}

const CHECKPOINT_FORMAT = 'momentum-playground/checkpoint@1';
const FLOAT_BYTES = 4;
/** The buffer pool rounds sizes up to powers of two: at most 2x, about 1.4x on average. */
const POOL_SLACK = 1.5;

/**
 * A conservative estimate of a run's GPU memory: parameters, gradients, moments and the rollback
 * copy, plus one step's activations and their gradients (what the tape keeps), pool rounding
 * included. `largest` is the biggest single buffer, which must fit the device's binding limit.
 */
export function estimateMemory(cfg: RunConfig): MemoryEstimate {
  const m = cfg.model;
  const d = modelWidth(m);
  const out = outputWidth(m);
  const N = cfg.task.kind === 'mnist' ? cfg.task.resolution * cfg.task.resolution - 1 : cfg.task.maxLen;
  const R = cfg.batch * N;
  const concat = m.positionCombine === 'concat';
  let params = m.vocab * (concat ? d / 2 : d) + (m.position === 'learned' ? m.maxSeq * (concat ? d / 2 : d) : 0);
  params += m.layers * (d * 3 * d + 3 * d + d * d + d + 4 * d + d * m.ffn + m.ffn + m.ffn * d + d);
  params += d * out + out + (m.norm === 'pre' ? 2 * d : 0);
  const parameterBytes = params * FLOAT_BYTES;
  // Per layer: norms, qkv and its split, attention output and merge, projection, connection state,
  // the feed-forward hidden layer before and after its activation, dropout masks; then the same
  // again for gradients.
  const chunk = 16;
  const states = m.attention.kind === 'softmax' ? cfg.batch * m.heads * N : cfg.batch * m.heads * (Math.ceil(N / chunk) + 1) * m.headDim * m.headDim * 2;
  const perLayer = R * (16 * d + 3 * m.ffn) + states;
  const activations = 2 * (R * d * 2 + m.layers * perLayer + 3 * R * out);
  const totalBytes = Math.ceil((6 * parameterBytes + POOL_SLACK * activations * FLOAT_BYTES) / 1);
  const candidates: [string, number][] = [
    [`feed-forward activations [${R}, ${m.ffn}]`, R * m.ffn],
    [`q, k, v projections [${R}, ${3 * d}]`, R * 3 * d],
    [`output logits [${R}, ${out}]`, R * out],
    [`attention states`, states],
    [`token table [${m.vocab}, ${d}]`, m.vocab * d],
    [`feed-forward weights [${d}, ${m.ffn}]`, d * m.ffn],
  ];
  const [what, n] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { totalBytes, parameterBytes, largest: { what, bytes: n * FLOAT_BYTES } };
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Throws, before anything is allocated, when a run cannot fit this device. */
export function checkFitsDevice(gpu: Gpu, cfg: RunConfig, budget: number): MemoryEstimate {
  const e = estimateMemory(cfg);
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  if (e.largest.bytes > limit) {
    throw new Error(
      `this run does not fit the device: its largest buffer (${e.largest.what}) needs ${mib(e.largest.bytes)}, ` +
        `over the device's limit of ${mib(limit)} per buffer; reduce batch, sequence length or model size`,
    );
  }
  if (e.totalBytes > budget) {
    throw new Error(
      `this run needs about ${mib(e.totalBytes)} of GPU memory (parameters ${mib(e.parameterBytes)} x 6 with gradients, moments ` +
        `and the rollback copy, plus activations), over the budget of ${mib(budget)}; reduce batch, sequence length or model size`,
    );
  }
  return e;
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
  private backup: { src: Tensor; copy: GPUBuffer }[] = [];
  private disposed = false;
  private stopped: StopReason | null = null;
  /** Set by the worker or the CLI to stop at the next drain. */
  stopRequested = false;

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
    const state = [...this.model.parameterList, ...this.opt.stateTensors().map((s) => s.tensor)];
    this.backup = state.map((src) => ({
      src,
      copy: gpu.device.createBuffer({ size: src.buffer.size, usage: 0x4 | 0x8, label: `${src.label}.rollback` }),
    }));
  }

  /** A new run. Throws before allocating when the config is invalid or too large for the device. */
  static create(gpu: Gpu, cfg: RunConfig, data: TaskData, opts: TrainerOptions = {}): Trainer {
    return new Trainer(gpu, cfg, data, opts);
  }

  /** Continues a run from `checkpoint()` bytes; the next steps equal the uninterrupted run's. */
  static fromCheckpoint(gpu: Gpu, bytes: Uint8Array, data: TaskData, opts: TrainerOptions = {}): Trainer {
    const file = readSafetensors(bytes);
    const meta = file.metadata;
    if (meta.format !== CHECKPOINT_FORMAT) {
      throw new Error(`not a playground checkpoint: metadata 'format' is ${JSON.stringify(meta.format)}, expected '${CHECKPOINT_FORMAT}'`);
    }
    const parse = <T>(key: string): T => {
      if (typeof meta[key] !== 'string') throw new Error(`checkpoint metadata lacks '${key}'`);
      try {
        return JSON.parse(meta[key]) as T;
      } catch {
        throw new Error(`checkpoint metadata '${key}' is not valid JSON`);
      }
    };
    const cfg = parse<RunConfig>('config');
    const step = parse<number>('step');
    const optimizerStep = parse<number>('optimizerStep');
    const stream = parse<StreamState>('data');
    const seconds = parse<number>('trainSeconds');
    for (const [k, v] of [
      ['step', step],
      ['optimizerStep', optimizerStep],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`checkpoint metadata '${k}' must be an integer >= 0; got ${String(v)}`);
    }
    try {
      checkRunConfig(cfg);
    } catch (e) {
      throw new Error(`checkpoint config is invalid: ${(e as Error).message}`);
    }
    const t = new Trainer(gpu, cfg, data, opts);
    try {
      const expected = t.namedState();
      for (const name of file.tensors.keys()) {
        if (!expected.has(name)) throw new Error(`checkpoint has a tensor '${name}' that this model does not`);
      }
      for (const [name, tensor] of expected) {
        const got = file.tensors.get(name);
        if (!got) throw new Error(`checkpoint lacks tensor '${name}'`);
        if (got.dtype !== 'F32') throw new Error(`checkpoint tensor '${name}' is ${got.dtype}, expected F32`);
        if (got.shape.length !== tensor.shape.length || got.shape.some((s, i) => s !== tensor.shape[i])) {
          throw new Error(`checkpoint tensor '${name}' has shape [${got.shape.join(', ')}], the model expects [${tensor.shape.join(', ')}]`);
        }
        tensor.write(got.data as Float32Array);
      }
      t.data.restore(stream);
      t.stepsDone = step;
      t.opt.stepCount = optimizerStep;
      t.trainSeconds = Number.isFinite(seconds) ? seconds : 0;
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

  /** Parameters and optimizer moments by their checkpoint names. */
  private namedState(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, t] of this.model.params) out.set(`param.${name}`, t);
    const moments = this.opt.stateTensors();
    [...this.model.params.keys()].forEach((name, i) => {
      out.set(`optim.m.${name}`, moments[2 * i]!.tensor);
      out.set(`optim.v.${name}`, moments[2 * i + 1]!.tensor);
    });
    return out;
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
    const ids = tape.own(fromArray(g, batch.inputs, [batch.batch, batch.seq], 'batch.inputs')); // u32 [B, N]
    const targets = tape.own(fromArray(g, batch.targets, [batch.batch * batch.seq], 'batch.targets')); // u32 [B*N]
    const mask = batch.mask ? tape.own(fromArray(g, batch.mask, [batch.batch * batch.seq], 'batch.mask')) : null; // [B*N]
    const { output, betaTilde } = this.model.forward(tape, ids, { train: true, dropoutSeed: dropoutSeed(this.cfg.seed, plan.step) });
    const loss = this.loss(tape, output, targets, mask);
    tape.backward(loss);
    this.opt.step(plan.lr);
    this.ring.push(loss);
    this.ring.push(this.opt.gradNorm);
    for (const b of betaTilde) {
      const sum = tape.empty([1], 'trainer.betaTildeSum'); // [1]
      reduceSum(g, b, sum);
      this.ring.push(sum);
    }
    tape.dispose(params);
  }

  private loss(tape: Tape, output: Tensor, targets: Tensor, mask: Tensor | null): Tensor {
    return this.cfg.model.output.kind === 'softmax'
      ? crossEntropy(tape, output, targets, mask).loss
      : dmolLoss(tape, output, targets, mask).loss;
  }

  private saveBackup(): void {
    for (const b of this.backup) this.gpu.copy({ buffer: b.src.buffer }, { buffer: b.copy }, b.src.buffer.size);
  }

  private restoreBackup(): void {
    for (const b of this.backup) this.gpu.copy({ buffer: b.copy }, { buffer: b.src.buffer }, b.src.buffer.size);
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
        Object.assign(last, await this.evaluate());
      }
    }
    return { records, stop: this.stopped };
  }

  private async runWindow(count: number): Promise<MetricsRecord[]> {
    const g = this.gpu;
    const start = { step: this.stepsDone, optimizerStep: this.opt.stepCount, data: this.data.state(), cfg: structuredClone(this.cfg) };
    this.saveBackup();
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
        tokens: batch.batch * batch.seq,
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
    this.restoreBackup();
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
  async evaluate(): Promise<EvalResult> {
    const g = this.gpu;
    const copy = this.cfg.task.kind !== 'mnist'; // copy and MQAR: accuracy on the masked positions
    let nllSum = 0;
    let weight = 0;
    const argmax: Uint32Array[] = [];
    const batches = this.data.evalBatches(this.cfg.batch);
    for (const batch of batches) {
      const tape = new Tape(g, { grad: false });
      try {
        const ids = tape.own(fromArray(g, batch.inputs, [batch.batch, batch.seq], 'eval.inputs')); // u32 [B, N]
        const targets = tape.own(fromArray(g, batch.targets, [batch.batch * batch.seq], 'eval.targets')); // u32 [B*N]
        const { output } = this.model.forward(tape, ids, { train: false, dropoutSeed: 0 });
        if (this.cfg.model.output.kind === 'softmax') {
          const ce = crossEntropy(tape, output, targets, null);
          const [nll, am] = await Promise.all([ce.nll.read(), ce.argmax.readU32()]);
          argmax.push(am.slice(0, batch.batch * batch.seq));
          for (let r = 0; r < batch.batch * batch.seq; r++) {
            const w = batch.mask ? batch.mask[r]! : 1;
            if (w > 0) {
              nllSum += w * nll[r]!;
              weight += w;
            }
          }
        } else {
          const nll = await dmolLoss(tape, output, targets, null).nll.read();
          for (let r = 0; r < batch.batch * batch.seq; r++) nllSum += nll[r]!;
          weight += batch.batch * batch.seq;
        }
      } finally {
        tape.dispose();
      }
    }
    const testLoss = nllSum / Math.max(weight, 1);
    if (copy) {
      const all = concat(argmax, (n) => new Uint32Array(n));
      const targets = concat(batches.map((b) => b.targets), (n) => new Uint32Array(n));
      const mask = concat(batches.map((b) => b.mask!), (n) => new Float32Array(n));
      const rows = batches.reduce((s, b) => s + b.batch, 0);
      const acc = copyAccuracy(all, targets, mask, rows, batches[0]!.seq);
      return { testLoss, accuracy: acc.tokenAccuracy, sequenceAccuracy: acc.sequenceAccuracy };
    }
    const resolution = this.cfg.task.kind === 'mnist' ? this.cfg.task.resolution : undefined;
    return { testLoss, bitsPerDim: bitsPerDim(testLoss), ...(resolution ? { resolution } : {}) };
  }

  /**
   * Everything needed to continue the run bit for bit: parameters, optimizer moments and step,
   * the data stream's state, the config (live changes included) and the training time so far.
   */
  async checkpoint(): Promise<Uint8Array> {
    if (this.pending) throw new Error('checkpoint(): hyper-parameter changes are pending; run a step first');
    const named = this.namedState();
    const tensors: SafeTensor[] = [];
    for (const [name, t] of named) tensors.push({ name, dtype: 'F32', shape: [...t.shape], data: await t.read() });
    return writeSafetensors(tensors, {
      format: CHECKPOINT_FORMAT,
      config: JSON.stringify(this.cfg),
      step: JSON.stringify(this.stepsDone),
      optimizerStep: JSON.stringify(this.opt.stepCount),
      data: JSON.stringify(this.data.state()),
      trainSeconds: JSON.stringify(this.trainSeconds),
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ring.destroy();
    for (const b of this.backup) b.copy.destroy();
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

/** The parts one after another in one typed array of their kind. */
function concat<T extends Uint32Array | Float32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

