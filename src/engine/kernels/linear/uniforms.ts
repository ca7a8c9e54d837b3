// The uniform struct every linear/momentum attention kernel reads (Params in
// shaders/linear_attention/params.wgsl), filled from a plan.
import type { MomentumPlan } from './plan.ts';

export type Uniforms = {
  n: number;
  nc: number;
  nbh: number;
  /** Heads per example (masked kernels index lengths by bh / nh). */
  nh: number;
  /** Features contracted in scores and against the state (attend). */
  n_in: number;
  /** Features of attend's output. */
  n_out: number;
  d: number;
  dv: number;
  /** Row strides of xq (or a), xk (or b) and xv. */
  sq: number;
  sk: number;
  sv: number;
  nblk: number;
  nblk2: number;
  beta: number;
  gamma: number;
};

export const ZERO_UNIFORMS: Uniforms = {
  n: 0, nc: 0, nbh: 0, nh: 1, n_in: 0, n_out: 0, d: 0, dv: 0, sq: 0, sk: 0, sv: 0, nblk: 1, nblk2: 1, beta: 0, gamma: 1,
};

export function planUniforms(plan: MomentumPlan): Uniforms {
  const { dims } = plan;
  return {
    ...ZERO_UNIFORMS,
    n: dims.seq,
    nc: plan.chunks,
    nbh: dims.batch * dims.heads,
    nh: dims.heads,
    d: dims.dim,
    dv: dims.dimV,
    beta: plan.beta,
    gamma: plan.gamma,
  };
}
