// Host-side parts of the optimizers: kinds, one step's hyper-parameters and their check, and
// the per-step scalars (RAdam's rectification, the clipping scale) the GPU update takes as uniforms.

export type OptimizerKind = 'adam' | 'adamw' | 'radam';

export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['adam', 'adamw', 'radam'];

/** One step's hyperparameters. */
export interface UpdateHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Adam: L2 penalty added to the gradient; AdamW and RAdam: decoupled decay p *= 1 - lr * wd. */
  weightDecay: number;
  /** 1-based index t of this update (bias corrections use beta^t). */
  step: number;
  /** Largest allowed global gradient norm; 0 turns clipping off. */
  clip: number;
}

/** Keeps the clipping scale finite when every gradient is zero (as torch's clip_grad_norm_). */
export const CLIP_EPS = 1e-6;

/**
 * RAdam takes its adaptive (rectified) step only when rho_t > RADAM_RHO_THRESHOLD. The paper's
 * Algorithm 2 tests rho_t > 4, where r_t first becomes real; the authors' code and torch.optim.RAdam
 * use 5, because just above 4 the variance approximation behind r_t is poor and r_t swings widely.
 * We follow the code the paper's experiments ran: with beta2 = 0.999, steps 1-5 take the
 * momentum-only step and step 6 is the first rectified one (rho_6 = 5.99).
 */
export const RADAM_RHO_THRESHOLD = 5;

/** rho_inf = 2 / (1 - beta2) - 1 and rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t) (Liu et al. 2020). */
export function radamRho(beta2: number, t: number): { rhoInf: number; rho: number } {
  const rhoInf = 2 / (1 - beta2) - 1;
  const b2t = beta2 ** t;
  return { rhoInf, rho: rhoInf - (2 * t * b2t) / (1 - b2t) };
}

/** r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)), or null below the threshold. */
export function radamRectifier(beta2: number, t: number): number | null {
  const { rhoInf, rho } = radamRho(beta2, t);
  if (!(rho > RADAM_RHO_THRESHOLD)) return null;
  return Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
}

/** min(1, clip / (norm + CLIP_EPS)), or 1 when clipping is off. */
export function clipScale(norm: number, clip: number): number {
  return clip > 0 ? Math.min(1, clip / (norm + CLIP_EPS)) : 1;
}

/** Throws a message naming the first hyperparameter out of range. */
export function checkHyper(what: string, h: UpdateHyper): void {
  const bad = (name: string, v: number, want: string) => {
    throw new Error(`${what}: ${name} must be ${want}, got ${v}`);
  };
  if (!(Number.isFinite(h.lr) && h.lr >= 0)) bad('lr', h.lr, 'a finite number >= 0');
  if (!(h.beta1 >= 0 && h.beta1 < 1)) bad('beta1', h.beta1, 'in [0, 1)');
  if (!(h.beta2 >= 0 && h.beta2 < 1)) bad('beta2', h.beta2, 'in [0, 1)');
  if (!(Number.isFinite(h.eps) && h.eps > 0)) bad('eps', h.eps, 'a finite number > 0');
  if (!(Number.isFinite(h.weightDecay) && h.weightDecay >= 0)) bad('weightDecay', h.weightDecay, 'a finite number >= 0');
  if (!(Number.isInteger(h.step) && h.step >= 1)) bad('step', h.step, 'an integer >= 1');
  if (!(Number.isFinite(h.clip) && h.clip >= 0)) bad('clip', h.clip, 'a finite number >= 0 (0: no clipping)');
}
