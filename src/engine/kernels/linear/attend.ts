// The attend passes of linear and momentum attention, one encoder each: every chunk's output (or
// gradient) from its carried state plus a small masked quadratic part within the chunk. Each
// encoder binds its tensors to the WGSL's generic names (xq query side, xk key side, xv value
// side, st state, zc normaliser) and picks the tiled ('gpu') or row ('swiftshader') kernel. Given
// key-padding lengths, forward, dk and dv take their masked builds (padding rows 0, eq. 14's
// weights by each example's length); dq needs none (bwd_prep zeroes the padding rows' g and r).
import type { Gpu } from '../../gpu.ts';
import type { Bindable } from '../../kernel.ts';
import type { Tensor } from '../../tensor.ts';
import { TILE, WG1, attendSmem, colsFor, stateFloats, type MomentumPlan } from './plan.ts';
import { LINEAR_KERNELS as K, LINEAR_MASKED, type LinearKernel } from './shaders.ts';
import type { Uniforms } from './uniforms.ts';

interface Pass {
  tiled: LinearKernel;
  rows: LinearKernel;
  /** The same entry on the row-quad body (attend_quads.wgsl). */
  quads: LinearKernel;
  bindings: Record<string, Tensor>;
  /** The state read is a reverse scan's (dk, dv). */
  reverse: boolean;
  /** Floats per entry of the state read: 2 for (S, m) pairs, 1 for S alone. */
  statePairs: number;
  /** Non-causal dk, dv: the state term is scaled by gamma W(N - 1 - j). */
  ncScale: boolean;
  /** Features contracted and features out. */
  featuresIn: number;
  featuresOut: number;
  /** Row strides of xq, xk, xv. */
  strides: [number, number, number];
}

/** The kernels of this call: the masked builds when lengths are given. */
function builds(lengths: Tensor | null | undefined) {
  return lengths ? LINEAR_MASKED : K;
}

/** The lengths binding of a masked kernel (nothing for the unmasked ones). */
function masks(lengths: Tensor | null | undefined): Record<string, Tensor> {
  return lengths ? { lengths } : {};
}

/**
 * The row kernels' vec4 constants: a row is read as vec4 when its stride and the features read
 * from it are multiples of 4 (xq, xk: featuresIn; xv: featuresOut), the state when both head sizes
 * are; IN4 and OUT4, the vec4s of a row on each side, fix the trip counts of the loops over them.
 */
export function rowVec4(featuresIn: number, featuresOut: number, [sq, sk, sv]: readonly number[]) {
  const by4 = (...n: number[]) => (n.every((x) => x % 4 === 0) ? 1 : 0);
  return {
    VQ: by4(sq!, featuresIn),
    VK: by4(sk!, featuresIn),
    VV: by4(sv!, featuresOut),
    VS: by4(featuresIn, featuresOut),
    IN4: Math.ceil(featuresIn / 4),
    OUT4: Math.ceil(featuresOut / 4),
  };
}

/**
 * Row stride of the backward's g|r rows ([B, H, N, stride]: g = dout / den in columns 0 .. Dv-1,
 * r in column Dv, zeros after): Dv + 1 rounded up to a multiple of 4, so that where Dv is one
 * every g run starts on a vec4 and the row kernels read it as one load (rowVec4), not two and a
 * shift. The scan, dq, dk and dv read it with this stride; bwd_prep writes it.
 */
export function grStride(dimV: number): number {
  return 4 * Math.ceil((dimV + 1) / 4);
}

/** The row kernels' vec4 views (xq4, ...) of their inputs, bound rounded up to 16 bytes. */
function vec4Views(ts: Record<string, Tensor | undefined>): Record<string, Bindable> {
  const views: Record<string, Bindable> = {};
  for (const [name, t] of Object.entries(ts)) {
    if (!t) throw new Error(`linear attention rows: no tensor for '${name}'`);
    const byteLength = Math.ceil(t.byteLength / 16) * 16;
    if (t.buffer.size < byteLength) throw new Error(`linear attention rows: '${name}' is not backed by whole vec4s`);
    views[`${name}4`] = { buffer: t.buffer, byteLength };
  }
  return views;
}

function attend(gpu: Gpu, plan: MomentumPlan, u: Uniforms, pass: Pass): void {
  const { dims } = plan;
  const bh = dims.batch * dims.heads;
  const flags = {
    C: plan.chunk,
    MOMENTUM: plan.momentum ? 1 : 0,
    CAUSAL: plan.causal ? 1 : 0,
    REVERSE: pass.reverse ? 1 : 0,
    NC_SCALE: pass.ncScale ? 1 : 0,
    SP: pass.statePairs,
  };
  const [sq, sk, sv] = pass.strides;
  const uniforms = { ...u, n_in: pass.featuresIn, n_out: pass.featuresOut, sq, sk, sv };
  if (!plan.tiled) {
    // The row kernels read the state and rows through vec4 views where rowVec4 allows; a thread
    // owns two tokens (the pairs body) or four (the quads body).
    const { xq, xk, xv, st, ...rest } = pass.bindings;
    const quads = plan.rows === 'quads';
    const threads = bh * Math.ceil(dims.seq / (quads ? 4 : 2));
    gpu
      .kernel({ ...(quads ? pass.quads : pass.rows), constants: { WG1, ...flags, ...rowVec4(pass.featuresIn, pass.featuresOut, pass.strides) } })
      .run({ ...rest, ...vec4Views({ xq, xk, xv, st }) }, uniforms, gpu.grid(Math.ceil(threads / WG1)));
    return;
  }
  const cols = colsFor(pass.featuresOut);
  const constants = { T: TILE, RT: plan.chunk / TILE, ST: cols.perThread, SMEM: attendSmem(plan.chunk, cols.perThread), ...flags };
  gpu.kernel({ ...pass.tiled, constants }).run(pass.bindings, { ...uniforms, nblk: cols.blocks }, [plan.chunks * cols.blocks, bh]);
}

/** Forward: out [B, H, N, Dv] and den [B, H, N] from (S, m), z and the chunk's q, k, v. */
export function attendForward(
  gpu: Gpu,
  plan: MomentumPlan,
  u: Uniforms,
  t: { q: Tensor; k: Tensor; v: Tensor; states: Tensor; z: Tensor; out: Tensor; den: Tensor; lengths?: Tensor | null },
): void {
  const { dim: d, dimV: e } = plan.dims;
  const k = builds(t.lengths);
  attend(gpu, plan, u, {
    tiled: k.attendTiledForward,
    rows: k.attendRowsForward,
    quads: k.attendQuadsForward,
    bindings: { xq: t.q, xk: t.k, xv: t.v, st: t.states, zc: t.z, out: t.out, den: t.den, ...masks(t.lengths) },
    reverse: false,
    statePairs: stateFloats(plan.momentum),
    ncScale: false,
    featuresIn: d,
    featuresOut: e,
    strides: [d, d, e],
  });
}

/** dq [B, H, N, D] from the forward's states, g|r rows [B, H, N, grStride(Dv)], v and phi(k). */
export function attendDq(
  gpu: Gpu,
  plan: MomentumPlan,
  u: Uniforms,
  t: { gr: Tensor; v: Tensor; phiK: Tensor; q: Tensor; states: Tensor; z: Tensor; dq: Tensor },
): void {
  const { dim: d, dimV: e } = plan.dims;
  attend(gpu, plan, u, {
    tiled: K.attendTiledDq,
    rows: K.attendRowsDq,
    quads: K.attendQuadsDq,
    bindings: { xq: t.gr, xk: t.v, xv: t.phiK, st: t.states, zc: t.z, xd: t.q, out: t.dq },
    reverse: false,
    statePairs: stateFloats(plan.momentum),
    ncScale: false,
    featuresIn: e,
    featuresOut: d,
    strides: [grStride(e), e, d],
  });
}

/** The reverse scan's state and normaliser (R, mu and zeta) the dk and dv passes read. */
export interface ReverseState {
  states: Tensor; // [B, H, NC+1, D, Dv, P]
  z: Tensor; // [B, H, NC+1, D]
  /** Whether it carries (R, mu) pairs: causal momentum attention only. */
  momentum: boolean;
}

/** dk [B, H, N, D] from the reverse state, v, g|r rows and phi(q). */
export function attendDk(
  gpu: Gpu,
  plan: MomentumPlan,
  u: Uniforms,
  rev: ReverseState,
  t: { v: Tensor; gr: Tensor; phiQ: Tensor; k: Tensor; dk: Tensor; lengths?: Tensor | null },
): void {
  const { dim: d, dimV: e } = plan.dims;
  const k = builds(t.lengths);
  attend(gpu, plan, u, {
    tiled: k.attendTiledDk,
    rows: k.attendRowsDk,
    quads: k.attendQuadsDk,
    bindings: { xq: t.v, xk: t.gr, xv: t.phiQ, st: rev.states, zc: rev.z, xd: t.k, out: t.dk, ...masks(t.lengths) },
    reverse: true,
    statePairs: stateFloats(rev.momentum),
    ncScale: !plan.causal,
    featuresIn: e,
    featuresOut: d,
    strides: [e, grStride(e), d],
  });
}

/** dv [B, H, N, Dv] from the reverse state, phi(k), phi(q) and g|r rows. */
export function attendDv(
  gpu: Gpu,
  plan: MomentumPlan,
  u: Uniforms,
  rev: ReverseState,
  t: { phiK: Tensor; phiQ: Tensor; gr: Tensor; dv: Tensor; lengths?: Tensor | null },
): void {
  const { dim: d, dimV: e } = plan.dims;
  const k = builds(t.lengths);
  attend(gpu, plan, u, {
    tiled: k.attendTiledDv,
    rows: k.attendRowsDv,
    quads: k.attendQuadsDv,
    bindings: { xq: t.phiK, xk: t.phiQ, xv: t.gr, st: rev.states, zc: rev.z, out: t.dv, ...masks(t.lengths) },
    reverse: true,
    statePairs: stateFloats(rev.momentum),
    ncScale: !plan.causal,
    featuresIn: d,
    featuresOut: e,
    strides: [d, d, grStride(e)],
  });
}

/**
 * dk and dv in one pass (the row variant's pairs body only): the reverse state is read, and
 * combined, once per two key tokens for both.
 */
export function attendDkDvRows(
  gpu: Gpu,
  plan: MomentumPlan,
  u: Uniforms,
  rev: ReverseState,
  t: { v: Tensor; gr: Tensor; phiQ: Tensor; phiK: Tensor; k: Tensor; dk: Tensor; dv: Tensor; lengths?: Tensor | null },
): void {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = plan.dims;
  const constants = {
    WG1,
    C: plan.chunk,
    MOMENTUM: plan.momentum ? 1 : 0,
    CAUSAL: plan.causal ? 1 : 0,
    REVERSE: 1,
    NC_SCALE: plan.causal ? 0 : 1,
    SP: stateFloats(rev.momentum),
    // v rows (Dv), g|r rows (stride grStride(Dv), Dv read), phi(q) and phi(k) rows (D).
    ...rowVec4(e, d, [e, grStride(e), d]),
    VW: d % 4 === 0 ? 1 : 0,
  };
  gpu
    .kernel({ ...builds(t.lengths).attendRowsDkv, constants })
    .run(
      {
        ...{ zc: rev.z, xd: t.k, out: t.dk, out2: t.dv },
        ...vec4Views({ xq: t.v, xk: t.gr, xv: t.phiQ, xw: t.phiK, st: rev.states }),
        ...masks(t.lengths),
      },
      { ...u, n_in: e, n_out: d, sq: e, sk: grStride(e), sv: d },
      gpu.grid(Math.ceil((b * h * Math.ceil(n / 2)) / WG1)),
    );
}
