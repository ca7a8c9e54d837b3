// The recurrent form (12) of momentum attention for sampling (shaders/linear_attention/step.wgsl).
import { checkAttentionDims, checkMomentumParams, checkTensor, fail } from '../../check.ts';
import type { Gpu } from '../../gpu.ts';
import { empty, fill, type Tensor } from '../../tensor.ts';
import { LINEAR_ATTENTION, variantOf, type Variant } from '../../variants.ts';
import { LINEAR_ATTENTION_MAX_ROW_DIM, WG1 } from './plan.ts';
import { LINEAR_KERNELS as K } from './shaders.ts';
import { ZERO_UNIFORMS } from './uniforms.ts';

export interface MomentumStateDims {
  batch: number;
  heads: number;
  dim: number;
  dimV: number;
  beta: number;
  gamma: number;
  /** Forces a variant (tests); default the adapter's (src/engine/variants.ts). */
  variant?: Variant;
}

/** step_rows' workgroup: one SIMD group of SwiftShader, so B H threads spread over every core. */
const STEP_ROWS_WG = 4;

/**
 * step(q, k, v) advances (z, S, m) by one token and returns that token's output, the same numbers
 * (to rounding) as its row of the parallel causal forward. O(D Dv) per token whatever the
 * position. beta and gamma may change between steps.
 */
export class MomentumState {
  readonly batch: number;
  readonly heads: number;
  readonly dim: number;
  readonly dimV: number;
  private readonly z: Tensor; // [B, H, D]
  private readonly s: Tensor; // [B, H, D, Dv]
  private readonly m: Tensor; // [B, H, D, Dv]
  private b: number;
  private g: number;
  private steps = 0;
  /** step_rows (a thread per batch and head, vec4 rows) where the variant and Dv allow it. */
  private readonly rows: boolean;

  constructor(
    private readonly gpu: Gpu,
    dims: MomentumStateDims,
  ) {
    const what = 'MomentumState';
    if (!dims || typeof dims !== 'object') fail(what, 'expected {batch, heads, dim, dimV, beta, gamma}');
    const { batch, heads, dim, dimV, beta, gamma } = dims;
    checkAttentionDims(what, { batch, heads, seq: 1, dim, dimV }, gpu);
    checkMomentumParams(what, beta, gamma);
    const variant = variantOf(what, gpu, dims.variant);
    this.rows = LINEAR_ATTENTION[variant].stepRows && dimV % 4 === 0 && dimV <= LINEAR_ATTENTION_MAX_ROW_DIM;
    this.batch = batch;
    this.heads = heads;
    this.dim = dim;
    this.dimV = dimV;
    this.b = beta;
    this.g = gamma;
    this.z = empty(gpu, [batch, heads, dim], 'momentumState.z'); // [B, H, D]
    this.s = empty(gpu, [batch, heads, dim, dimV], 'momentumState.S'); // [B, H, D, Dv]
    this.m = empty(gpu, [batch, heads, dim, dimV], 'momentumState.m'); // [B, H, D, Dv]
    this.reset();
  }

  get beta(): number {
    return this.b;
  }

  set beta(value: number) {
    checkMomentumParams('MomentumState.beta', value, this.g);
    this.b = value;
  }

  get gamma(): number {
    return this.g;
  }

  set gamma(value: number) {
    checkMomentumParams('MomentumState.gamma', this.b, value);
    this.g = value;
  }

  /** Tokens consumed since the last reset. */
  get length(): number {
    return this.steps;
  }

  /** q, k [B, H, 1, D], v [B, H, 1, Dv] -> out [B, H, 1, Dv] (a new tensor the caller disposes). */
  step(q: Tensor, k: Tensor, v: Tensor): Tensor {
    const what = 'MomentumState.step';
    if (this.s.isDisposed) fail(what, 'the state has been disposed');
    const { batch: b, heads: h, dim: d, dimV: e } = this;
    checkTensor(what, 'q', q, { shape: [b, h, 1, d] });
    checkTensor(what, 'k', k, { shape: [b, h, 1, d] });
    checkTensor(what, 'v', v, { shape: [b, h, 1, e] });
    const out = empty(this.gpu, [b, h, 1, e], 'momentumState.out'); // [B, H, 1, Dv]
    // Always the momentum update: m must stay current in case beta changes later. At beta = 0,
    // gamma = 1 it gives S + phi(k) v^T exactly, the linear recurrence (8).
    const u = { ...ZERO_UNIFORMS, n: 1, nc: 1, nbh: b * h, d, dv: e, beta: this.b, gamma: this.g };
    if (this.rows) {
      this.gpu
        .kernel({ ...K.stepRows, constants: { WG1: STEP_ROWS_WG } })
        .run({ q1: q, k1: k, v4: v, s4: this.s, m4: this.m, z1: this.z, o4: out }, u, this.gpu.grid(Math.ceil((b * h) / STEP_ROWS_WG)));
    } else {
      this.gpu
        .kernel({ ...K.step, constants: { WG1, MOMENTUM: 1 } })
        .run({ q1: q, k1: k, v1: v, s1: this.s, m1: this.m, z1: this.z, o1: out }, u, [b * h]);
    }
    this.steps++;
    return out;
  }

  /** Back to the empty prefix: z = S = m = 0. */
  reset(): void {
    fill(this.z, 0);
    fill(this.s, 0);
    fill(this.m, 0);
    this.steps = 0;
  }

  dispose(): void {
    this.z.dispose();
    this.s.dispose();
    this.m.dispose();
  }
}
