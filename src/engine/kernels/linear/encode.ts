// The forward and backward of linear and momentum attention as a sequence of passes over a plan
// (plan.ts): the scan (scan.ts), then attend (attend.ts). Causal attention is an O(N) chunked scan
// (MATH.md section 9): chunk-local sums in parallel, a short scan over chunks, then every chunk's
// output from its carried state plus a small masked quadratic part. The forward saves the state
// (S, m) and normaliser prefix z at every chunk start and each token's normaliser; the backward
// runs the same scan in reverse for the gradients of k and v, and reads the saved states for q.
// Nothing here validates: callers pass tensors checked against the plan.
import type { Gpu } from '../../gpu.ts';
import { empty, type Tensor } from '../../tensor.ts';
import { attendDkDvRows, attendDk, attendDq, attendDv, attendForward, grStride } from './attend.ts';
import { WG1, momentumSavedShapes, type MomentumPlan, type MomentumSaved } from './plan.ts';
import { phiFeatures, scanChunks } from './scan.ts';
import { LINEAR_KERNELS as K, LINEAR_MASKED } from './shaders.ts';
import { planUniforms } from './uniforms.ts';

export interface ForwardTensors extends MomentumSaved {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  out: Tensor; // [B, H, N, Dv]
  /** Key-padding lengths u32 [B], given exactly when the plan is masked. */
  lengths?: Tensor | null;
}

export interface BackwardTensors extends MomentumSaved {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  /** The forward's output and its gradient. */
  out: Tensor; // [B, H, N, Dv]
  dout: Tensor; // [B, H, N, Dv]
  /** Gradients (overwritten); a null one is skipped. */
  dq: Tensor | null; // [B, H, N, D]
  dk: Tensor | null; // [B, H, N, D]
  dv: Tensor | null; // [B, H, N, Dv]
  /** Key-padding lengths u32 [B], given exactly when the plan is masked. */
  lengths?: Tensor | null;
}

/** phi(q), phi(k) rows for the row kernels; the tiled ones apply phi as they stage q and k. */
function features(gpu: Gpu, plan: MomentumPlan, q: Tensor, k: Tensor): { phiQ: Tensor; phiK: Tensor; release(): void } {
  if (plan.tiled) return { phiQ: q, phiK: k, release: () => {} };
  const phiQ = phiFeatures(gpu, q, 'phiQ'); // [B, H, N, D]
  const phiK = phiFeatures(gpu, k, 'phiK'); // [B, H, N, D]
  return {
    phiQ,
    phiK,
    release: () => {
      phiQ.dispose();
      phiK.dispose();
    },
  };
}

/** out = momentum (or linear) attention of q, k, v; fills the saved tensors for the backward. */
export function encodeMomentumForward(gpu: Gpu, plan: MomentumPlan, t: ForwardTensors): void {
  const u = planUniforms(plan);
  const f = features(gpu, plan, t.q, t.k);
  const lengths = t.lengths ?? null;
  // With lengths the scan stops at each example's length, so slot NC holds its own final state.
  scanChunks(gpu, plan, u, { a: f.phiK, b: t.v, hs: t.states, zs: t.z, lengths }, {
    bStride: plan.dims.dimV,
    reverse: false,
    weighted: false,
    momentum: plan.momentum,
  });
  attendForward(gpu, plan, u, { q: f.phiQ, k: f.phiK, v: t.v, states: t.states, z: t.z, out: t.out, den: t.den, lengths });
  f.release();
}

/** dq, dk, dv of sum(out * dout) (overwritten, not accumulated), from the forward's saved tensors. */
export function encodeMomentumBackward(gpu: Gpu, plan: MomentumPlan, t: BackwardTensors): void {
  const { dq, dk, dv } = t;
  if (!dq && !dk && !dv) return;
  const { batch: b, heads: h, seq: n, dimV: e } = plan.dims;
  const u = planUniforms(plan);
  const lengths = t.lengths ?? null;
  const sgr = grStride(e);
  const gr = empty(gpu, [b, h, n, sgr], 'linearAttention.gr'); // [B, H, N, grStride(Dv)]: g = dout/den | r | 0..
  // Padding rows get g = r = 0, so the reverse scan and dq need no lengths of their own.
  gpu
    .kernel({ ...(lengths ? LINEAR_MASKED : K).bwdPrep, constants: { WG1 } })
    .run({ dy: t.dout, y: t.out, den_in: t.den, gr, ...(lengths ? { lengths } : {}) }, { ...u, sk: sgr }, gpu.grid(Math.ceil((b * h * n) / WG1)));
  const f = features(gpu, plan, t.q, t.k);

  if (dq) attendDq(gpu, plan, u, { gr, v: t.v, phiK: f.phiK, q: t.q, states: t.states, z: t.z, dq });
  if (dk || dv) {
    // The gradient reaching each u_j = phi(k_j) v_j^T, carried backwards in time: causal, a
    // momentum scan in reverse; non-causal, plain totals (weighted per key in attend).
    const momentum = plan.causal && plan.momentum;
    const sh = momentumSavedShapes(plan.dims, plan.chunk, momentum);
    const rev = {
      states: empty(gpu, sh.states, 'linearAttention.revStates'), // [B, H, NC+1, D, Dv, P]
      z: empty(gpu, sh.z, 'linearAttention.revZ'), // [B, H, NC+1, D]
      momentum,
    };
    scanChunks(gpu, plan, u, { a: f.phiQ, b: gr, hs: rev.states, zs: rev.z }, {
      bStride: sgr,
      reverse: plan.causal,
      weighted: true,
      momentum,
    });
    if (plan.rows === 'pairs' && dk && dv) {
      attendDkDvRows(gpu, plan, u, rev, { v: t.v, gr, phiQ: f.phiQ, phiK: f.phiK, k: t.k, dk, dv, lengths });
    } else {
      if (dk) attendDk(gpu, plan, u, rev, { v: t.v, gr, phiQ: f.phiQ, k: t.k, dk, lengths });
      if (dv) attendDv(gpu, plan, u, rev, { phiK: f.phiK, phiQ: f.phiQ, gr, dv, lengths });
    }
    rev.states.dispose();
    rev.z.dispose();
  }
  f.release();
  gr.dispose();
}
