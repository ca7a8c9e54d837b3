// The optimizer a trainer holds: persistent moment tensors per parameter, gradient clipping by the
// global norm without a readback, and one fused update dispatch per parameter. `step()` only
// records work; the caller's flush submits it with the rest of the training step. Also the
// learning-rate schedules (plain CPU functions of the step index).
import { OPTIMIZER_KINDS, checkHyper, type OptimizerKind, type UpdateHyper } from './host/optim.ts';
import { Usage, type Gpu } from './gpu.ts';
import { globalNorm } from './kernels/reduce.ts';
import { optimizerUpdate } from './kernels/optim.ts';
import { Tensor, type Shape } from './tensor.ts';

export type { OptimizerKind } from './host/optim.ts';

export interface OptimizerConfig {
  kind: OptimizerKind;
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Default 0. Adam: L2 penalty in the gradient; AdamW and RAdam: decoupled decay. */
  weightDecay?: number;
  /** Clip gradients to this global L2 norm; absent: no clipping. */
  clipNorm?: number;
}

export type ResolvedOptimizerConfig = Required<Omit<OptimizerConfig, 'clipNorm'>> & { clipNorm: number | undefined };

export const OPTIMIZER_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } as const;

/** The config with defaults filled in; throws a message naming the first field out of range. */
export function resolveOptimizerConfig(cfg: OptimizerConfig): ResolvedOptimizerConfig {
  if (!OPTIMIZER_KINDS.includes(cfg.kind)) {
    throw new Error(`Optimizer: unknown kind '${cfg.kind}' (use ${OPTIMIZER_KINDS.join(', ')})`);
  }
  const d = OPTIMIZER_DEFAULTS;
  // `?? default` rather than a spread, so an explicit `beta1: undefined` also gets the default.
  const r: ResolvedOptimizerConfig = {
    kind: cfg.kind,
    lr: cfg.lr,
    beta1: cfg.beta1 ?? d.beta1,
    beta2: cfg.beta2 ?? d.beta2,
    eps: cfg.eps ?? d.eps,
    weightDecay: cfg.weightDecay ?? d.weightDecay,
    clipNorm: cfg.clipNorm,
  };
  if (!(Number.isFinite(r.lr) && r.lr > 0)) throw new Error(`Optimizer: lr must be a finite number > 0, got ${r.lr}`);
  if (r.clipNorm !== undefined && !(Number.isFinite(r.clipNorm) && r.clipNorm > 0)) {
    throw new Error(`Optimizer: clipNorm must be a finite number > 0 (leave it out for no clipping), got ${r.clipNorm}`);
  }
  checkHyper('Optimizer', hyper(r, r.lr, 1));
  return r;
}

function hyper(c: ResolvedOptimizerConfig, lr: number, step: number): UpdateHyper {
  return { lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, step, clip: c.clipNorm ?? 0 };
}

/** A zero-filled persistent tensor that owns its buffer (WebGPU zero-initializes new buffers). */
function stateTensor(gpu: Gpu, shape: Shape, label: string): Tensor {
  const bytes = Math.max(16, shape.reduce((a, b) => a * b, 1) * 4);
  const buffer = gpu.device.createBuffer({
    size: Math.ceil(bytes / 16) * 16,
    usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST,
    label,
  });
  return new Tensor(gpu, shape, buffer, label, false, true);
}

export class Optimizer {
  readonly config: ResolvedOptimizerConfig;
  readonly params: readonly Tensor[];
  /**
   * [1]: the global L2 norm of the last step's gradients, before clipping. Computed every step,
   * with or without clipping, so metrics can read it (asynchronously, e.g. every k steps).
   */
  readonly gradNorm: Tensor;
  /**
   * Updates taken so far; the next step uses t = stepCount + 1 in its bias corrections. One count
   * for all parameters, so a parameter skipped on some step (null grad) is corrected as if it had
   * been updated every step. Set it when restoring a checkpoint.
   */
  stepCount = 0;
  private m: Tensor[];
  private v: Tensor[];
  private disposed = false;

  constructor(readonly gpu: Gpu, params: Tensor[], cfg: OptimizerConfig) {
    this.config = resolveOptimizerConfig(cfg);
    if (params.length === 0) throw new Error('Optimizer: no parameters given');
    const seen = new Set<GPUBuffer>();
    params.forEach((p, i) => {
      if (p.dtype !== 'f32') throw new Error(`Optimizer: params[${i}] '${p.label}' must be f32, it is ${p.dtype}`);
      if (p.isDisposed) throw new Error(`Optimizer: params[${i}] '${p.label}' has been disposed`);
      // Two tensors on one buffer would be updated twice per step.
      if (seen.has(p.buffer)) throw new Error(`Optimizer: params[${i}] '${p.label}' shares its buffer with an earlier parameter`);
      seen.add(p.buffer);
    });
    this.params = [...params];
    this.m = this.params.map((p) => stateTensor(gpu, p.shape, `${p.label}.m`)); // each like p.shape
    this.v = this.params.map((p) => stateTensor(gpu, p.shape, `${p.label}.v`)); // each like p.shape
    this.gradNorm = stateTensor(gpu, [1], 'optimizer.gradNorm'); // [1]
  }

  /**
   * Records one update of every parameter whose `grad` is set (others are skipped) with learning
   * rate `lr` (default: the config's). First the global gradient norm goes into `gradNorm`; the
   * update kernels read it there to clip. Encodes only: nothing is submitted or awaited.
   */
  step(lr: number = this.config.lr): void {
    if (this.disposed) throw new Error('Optimizer: step() after dispose()');
    if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`Optimizer.step: lr must be a finite number >= 0, got ${lr}`);
    if (!(Number.isInteger(this.stepCount) && this.stepCount >= 0)) {
      throw new Error(`Optimizer.step: stepCount must be an integer >= 0, got ${this.stepCount}`);
    }
    const live: number[] = [];
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return;
      if (g.size !== p.size) throw new Error(`Optimizer.step: grad of '${p.label}' has ${g.size} values, the parameter ${p.size}`);
      if (g.dtype !== 'f32' || g.isDisposed) throw new Error(`Optimizer.step: grad of '${p.label}' is ${g.isDisposed ? 'disposed' : g.dtype}`);
      if (g.buffer === p.buffer) throw new Error(`Optimizer.step: grad of '${p.label}' shares the parameter's buffer`);
      live.push(i);
    });
    const h = hyper(this.config, lr, this.stepCount + 1);
    globalNorm(this.gpu, live.map((i) => this.params[i]!.grad!), this.gradNorm);
    for (const i of live) {
      const p = this.params[i]!;
      optimizerUpdate(this.gpu, this.config.kind, p, p.grad!, this.m[i]!, this.v[i]!, this.gradNorm, h);
    }
    this.stepCount++;
  }

  /** The moment tensors, named by parameter index and label, for checkpoints (with stepCount). */
  stateTensors(): { name: string; tensor: Tensor }[] {
    return this.params.flatMap((p, i) => [
      { name: `m.${i}.${p.label}`, tensor: this.m[i]! },
      { name: `v.${i}.${p.label}`, tensor: this.v[i]! },
    ]);
  }

  /** Destroys the moment and norm buffers (the parameters are the caller's). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.m, ...this.v, this.gradNorm]) {
      t.dispose();
      t.gpu.destroyBuffer(t.buffer);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Learning-rate schedules

/**
 * `lr` is the base (peak) rate. `warmup` (default 0) ramps linearly over the first `warmup` steps:
 * step s < warmup is scaled by (s + 1) / warmup. 'step' multiplies by `factor` at each milestone
 * reached (the paper's copy task: factor 0.1, milestones [30 * stepsPerEpoch]); 'cosine' decays
 * from lr at the end of warmup to minLr at `total` and stays there; 'linear' decays in a straight
 * line from lr at the end of warmup to minLr at `total` and stays there (the authors' LRA runs:
 * 1000 warm-up steps, then linear decay to 0 at the last step).
 */
export type LrSchedule = { lr: number; warmup?: number } & (
  | { kind: 'constant' }
  | { kind: 'step'; milestones: number[]; factor: number }
  | { kind: 'cosine'; total: number; minLr: number }
  | { kind: 'linear'; total: number; minLr: number }
);

/** Throws a message naming the first field of the schedule out of range. */
export function validateSchedule(s: LrSchedule): void {
  const what = `lr schedule '${(s as { kind: string }).kind}'`;
  if (!(Number.isFinite(s.lr) && s.lr > 0)) throw new Error(`${what}: lr must be a finite number > 0, got ${s.lr}`);
  const warmup = s.warmup ?? 0;
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`${what}: warmup must be an integer >= 0, got ${s.warmup}`);
  switch (s.kind) {
    case 'constant':
      return;
    case 'step':
      if (!(Number.isFinite(s.factor) && s.factor > 0)) throw new Error(`${what}: factor must be a finite number > 0, got ${s.factor}`);
      s.milestones.forEach((m, i) => {
        if (!(Number.isInteger(m) && m >= 0)) throw new Error(`${what}: milestones[${i}] must be an integer >= 0, got ${m}`);
        if (i > 0 && !(m > s.milestones[i - 1]!)) throw new Error(`${what}: milestones must increase, got ${s.milestones.join(', ')}`);
      });
      return;
    case 'cosine':
    case 'linear':
      if (!(Number.isInteger(s.total) && s.total > warmup)) {
        throw new Error(`${what}: total must be an integer > warmup (${warmup}), got ${s.total}`);
      }
      if (!(s.minLr >= 0 && s.minLr <= s.lr)) throw new Error(`${what}: minLr must be in [0, lr = ${s.lr}], got ${s.minLr}`);
      return;
    default:
      throw new Error(`${what}: unknown kind (use constant, step, cosine, linear)`);
  }
}

/** The learning rate of update number `step` (0-based: pass the optimizer's stepCount before stepping). */
export function lrAt(s: LrSchedule, step: number): number {
  validateSchedule(s);
  if (!(Number.isInteger(step) && step >= 0)) throw new Error(`lrAt: step must be an integer >= 0, got ${step}`);
  const warmup = s.warmup ?? 0;
  const ramp = step < warmup ? (step + 1) / warmup : 1;
  switch (s.kind) {
    case 'constant':
      return s.lr * ramp;
    case 'step': {
      const reached = s.milestones.filter((m) => step >= m).length;
      return s.lr * s.factor ** reached * ramp;
    }
    case 'cosine': {
      if (step < warmup) return s.lr * ramp;
      const progress = Math.min(1, (step - warmup) / (s.total - warmup));
      return s.minLr + (s.lr - s.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
    case 'linear': {
      if (step < warmup) return s.lr * ramp;
      const progress = Math.min(1, (step - warmup) / (s.total - warmup));
      return s.lr + (s.minLr - s.lr) * progress;
    }
  }
}
