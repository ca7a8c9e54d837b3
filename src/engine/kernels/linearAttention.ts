// GPU primitives for linear attention (MATH.md eq. 7) and momentum attention (eqs. 12-14), with
// phi = elu + 1, from shaders/linear_attention.wgsl. Causal attention is an O(N) chunked scan
// (MATH.md section 9): chunk-local sums in parallel, a short scan over chunks, then every chunk's
// output from its carried state plus a small masked quadratic part. The forward saves the state
// (S, m) and normaliser prefix z at every chunk start and each token's normaliser; the backward
// runs the same scan in reverse for the gradients of k and v, and reads the saved states for q.
// Linear attention is the same family with the momentum work compiled out (`path: 'linear'`),
// exactly momentum attention at beta = 0, gamma = 1.
import src from '../../../shaders/linear_attention.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import { empty, fill, type Shape, type Tensor } from '../tensor.ts';

export interface AttentionDims {
  batch: number;
  heads: number;
  seq: number;
  /** Query/key head size D. */
  dim: number;
  /** Value head size Dv. */
  dimV: number;
}

/** 'momentum' carries (S, m); 'linear' carries S only and requires beta = 0, gamma = 1. */
export type MomentumPath = 'momentum' | 'linear';

/**
 * 'gpu': tiled kernels (16 x 16 threads, register tiles, slices staged in workgroup memory).
 * 'swiftshader': one thread per 4 x 4 state tile (sums and scan in one pass) or per two tokens,
 * no barriers and no workgroup memory, which SwiftShader runs several times faster.
 */
export type LinearAttentionVariant = 'gpu' | 'swiftshader';

export interface MomentumConfig {
  causal: boolean;
  /** Momentum in [0, 1). */
  beta: number;
  /** Step size > 0. */
  gamma: number;
  /** Tokens per chunk: 16 or 32 (tiled kernels), 16, 32 or 64 (row kernels); defaults to momentumChunk(gpu). */
  chunk?: number;
  /** Defaults to 'linear' exactly when beta = 0 and gamma = 1; tests force 'momentum' there. */
  path?: MomentumPath;
  /** Defaults to `gpu.backend`; tests force each. */
  variant?: LinearAttentionVariant;
}

/** What the forward saves for the backward (explicit outputs, see momentumSavedShapes). */
export interface MomentumSaved {
  /**
   * The state carried into each chunk; slot NC holds the state after the last token. P = 2 on the
   * momentum path, (S, m) interleaved per entry; P = 1 (S alone) on the linear path.
   */
  states: Tensor; // [B, H, NC+1, D, Dv, P]
  /** Prefix sums of phi(k) at each chunk start; slot NC is the total. */
  z: Tensor; // [B, H, NC+1, D]
  /** Each token's normaliser phi(q_i) . z_i. */
  den: Tensor; // [B, H, N]
}

export interface MomentumForwardArgs extends MomentumConfig, MomentumSaved {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  out: Tensor; // [B, H, N, Dv]
  dims: AttentionDims;
}

export interface MomentumBackwardArgs extends MomentumConfig, MomentumSaved {
  q: Tensor; // [B, H, N, D]
  k: Tensor; // [B, H, N, D]
  v: Tensor; // [B, H, N, Dv]
  /** The forward's output. */
  out: Tensor; // [B, H, N, Dv]
  dout: Tensor; // [B, H, N, Dv]
  /** Gradients (overwritten); a null one is skipped. */
  dq: Tensor | null; // [B, H, N, D]
  dk: Tensor | null; // [B, H, N, D]
  dv: Tensor | null; // [B, H, N, Dv]
  dims: AttentionDims;
}

/** Side of the square thread tile (T in the WGSL). */
const TILE = 16;
/** Register tile bounds (MAX_R, MAX_S in the WGSL). */
const MAX_ROWS_PER_THREAD = 4;
const MAX_COLS_PER_THREAD = 4;
/** Features or tokens per staged slice (KS in the WGSL). */
const SLICE = 16;
/** Threads of the 1-D kernels (WG1). */
const WG1 = 64;
/** Largest D or Dv of the SwiftShader variant's row kernels (MAX_DIM in the WGSL). */
export const LINEAR_ATTENTION_MAX_ROW_DIM = 128;
/** The SwiftShader variant's chunk sums give each thread a 4 x 4 tile of the state (vec4 rows). */
const ROW_SUM_TILE = 4;
const F32_BYTES = 4;
/** Workgroup memory every WebGPU device offers (the engine's required limit). */
const PORTABLE_STORAGE_BYTES = 16384;
export const MOMENTUM_CHUNKS = [16, 32, 64] as const;
/**
 * Default chunk of the swiftshader variant (see momentumChunk): measured fastest there for both
 * paths (B=1, H=4, D=Dv=32, N=4096 forward+backward: linear 554 ms at 16, 707 ms at 32).
 */
const ROW_CHUNK = 16;

const label = 'linear_attention';

/**
 * The chunk length the primitives use by default: for the tiled kernels the largest whose
 * workgroup memory fits every WebGPU device at any head size (bigger tiles use a real GPU better);
 * the row kernels pay O(C) per token for the quadratic part and nothing per chunk, so a short one.
 */
export function momentumChunk(gpu: Gpu, variant: LinearAttentionVariant = gpu.backend): number {
  if (variant === 'swiftshader') return ROW_CHUNK;
  const fits = MOMENTUM_CHUNKS.filter((c) => attendStorageBytes(c, MAX_COLS_PER_THREAD) <= PORTABLE_STORAGE_BYTES);
  return fits[fits.length - 1]!;
}

export function chunkCount(seq: number, chunk: number): number {
  return Math.ceil(seq / chunk);
}

/** Shapes of the saved tensors for these dims and chunk length, on the momentum or linear path. */
export function momentumSavedShapes(
  dims: AttentionDims,
  chunk: number,
  momentum: boolean,
): { states: Shape; z: Shape; den: Shape } {
  const { batch: b, heads: h, seq: n, dim: d, dimV: dv } = dims;
  const slots = chunkCount(n, chunk) + 1;
  return { states: [b, h, slots, d, dv, stateFloats(momentum)], z: [b, h, slots, d], den: [b, h, n] };
}

/** Floats per state entry: (S, m) with momentum, S alone without. */
function stateFloats(momentum: boolean): number {
  return momentum ? 2 : 1;
}

/** Throws unless beta is in [0, 1) and gamma > 0 (both finite numbers). */
export function checkMomentumParams(what: string, beta: number, gamma: number): void {
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0 || beta >= 1) {
    throw new Error(`${what}: momentum beta must be a number in [0, 1) (beta >= 1 diverges); got ${String(beta)}`);
  }
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma <= 0) {
    throw new Error(`${what}: momentum gamma (step size) must be a finite number > 0; got ${String(gamma)}`);
  }
}

function checkDims(what: string, gpu: Gpu, dims: AttentionDims): void {
  if (!dims || typeof dims !== 'object') throw new Error(`${what}: dims must be an object {batch, heads, seq, dim, dimV}`);
  for (const name of ['batch', 'heads', 'seq', 'dim', 'dimV'] as const) {
    const n = dims[name];
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: dims.${name} must be a positive integer; got ${String(n)}`);
  }
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (dims.batch * dims.heads > max) {
    throw new Error(`${what}: batch * heads = ${dims.batch * dims.heads} exceeds ${max}, the per-dimension workgroup limit`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function checkTensor(what: string, role: string, t: Tensor | null | undefined, shape: Shape): void {
  if (!t) throw new Error(`${what}: ${role} is missing`);
  if (t.dtype !== 'f32') throw new Error(`${what}: ${role} '${t.label}' must be f32; it is ${t.dtype}`);
  if (t.isDisposed) throw new Error(`${what}: ${role} '${t.label}' has been disposed`);
  if (!sameShape(t.shape, shape)) {
    throw new Error(`${what}: ${role} '${t.label}' has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}]`);
  }
}

/** Outputs must not share a buffer with each other or with an input: kernels read while they write. */
function checkDistinct(what: string, outputs: Record<string, Tensor | null>, inputs: Record<string, Tensor | null>): void {
  const seen = new Map<GPUBuffer, string>();
  for (const [name, t] of Object.entries(inputs)) if (t && !seen.has(t.buffer)) seen.set(t.buffer, name);
  for (const [name, t] of Object.entries(outputs)) {
    if (!t) continue;
    const other = seen.get(t.buffer);
    if (other) throw new Error(`${what}: ${name} '${t.label}' shares its buffer with ${other}`);
    seen.set(t.buffer, name);
  }
}

interface Resolved {
  chunk: number;
  momentum: boolean;
  nc: number;
  rows: boolean;
}

/** Checks the config and resolves the chunk length and path; throws before anything is allocated. */
export function resolveMomentumConfig(what: string, gpu: Gpu, dims: AttentionDims, cfg: MomentumConfig): Resolved {
  checkDims(what, gpu, dims);
  if (typeof cfg.causal !== 'boolean') throw new Error(`${what}: causal must be true or false; got ${String(cfg.causal)}`);
  checkMomentumParams(what, cfg.beta, cfg.gamma);
  const variant = cfg.variant ?? gpu.backend;
  if (variant !== 'gpu' && variant !== 'swiftshader') {
    throw new Error(`${what}: unknown variant '${String(variant)}' (use 'gpu' or 'swiftshader')`);
  }
  if (variant === 'swiftshader') {
    for (const name of ['dim', 'dimV'] as const) {
      if (dims[name] > LINEAR_ATTENTION_MAX_ROW_DIM) {
        throw new Error(
          `${what}: dims.${name} = ${dims[name]} exceeds ${LINEAR_ATTENTION_MAX_ROW_DIM}, the largest head of the swiftshader variant`,
        );
      }
    }
  }
  const chunk = cfg.chunk ?? momentumChunk(gpu, variant);
  if (!(MOMENTUM_CHUNKS as readonly number[]).includes(chunk)) {
    throw new Error(`${what}: chunk must be one of ${MOMENTUM_CHUNKS.join(', ')}; got ${String(chunk)}`);
  }
  if (variant === 'gpu' && attendStorageBytes(chunk, MAX_COLS_PER_THREAD) > PORTABLE_STORAGE_BYTES) {
    // Larger chunks would need more workgroup memory than every device offers (and are untested).
    const fits = MOMENTUM_CHUNKS.filter((c) => attendStorageBytes(c, MAX_COLS_PER_THREAD) <= PORTABLE_STORAGE_BYTES);
    throw new Error(`${what}: the gpu variant takes chunks of ${fits.join(' or ')}; got ${chunk}`);
  }
  const path = cfg.path ?? (cfg.beta === 0 && cfg.gamma === 1 ? 'linear' : 'momentum');
  if (path !== 'linear' && path !== 'momentum') throw new Error(`${what}: path must be 'linear' or 'momentum'; got ${String(path)}`);
  if (path === 'linear' && !(cfg.beta === 0 && cfg.gamma === 1)) {
    throw new Error(`${what}: the linear path is momentum attention at beta = 0, gamma = 1; got beta ${cfg.beta}, gamma ${cfg.gamma}`);
  }
  const nc = chunkCount(dims.seq, chunk);
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  const blocks = Math.max(colsFor(dims.dim).blocks, colsFor(dims.dimV).blocks);
  const tiles = rowsFor(dims.dim).blocks * colsFor(dims.dimV).blocks;
  if (variant === 'gpu' && nc * Math.max(blocks, tiles) > max) {
    throw new Error(`${what}: seq ${dims.seq} needs ${nc * Math.max(blocks, tiles)} workgroups in one dimension; the limit is ${max}`);
  }
  return { chunk, momentum: path === 'momentum', nc, rows: variant === 'swiftshader' };
}

/** Register-tile columns per thread and blocks for an output of n features. */
function colsFor(n: number): { perThread: number; blocks: number } {
  const perThread = Math.min(MAX_COLS_PER_THREAD, Math.ceil(n / TILE));
  return { perThread, blocks: Math.ceil(n / (TILE * perThread)) };
}

function rowsFor(n: number): { perThread: number; blocks: number } {
  const perThread = Math.min(MAX_ROWS_PER_THREAD, Math.ceil(n / TILE));
  return { perThread, blocks: Math.ceil(n / (TILE * perThread)) };
}

/** Floats of attend's staging memory: the larger of phase 1's slices and phases 2-3's tiles. */
function attendSmem(chunk: number, colsPerThread: number): number {
  const ob = TILE * colsPerThread;
  return Math.max(2 * chunk * SLICE + 2 * SLICE * ob, chunk * chunk + chunk * TILE + SLICE * ob);
}

/** Workgroup bytes of attend (mirrors the WGSL's workgroup arrays: sh, wtab, ptab). */
export function attendStorageBytes(chunk: number, colsPerThread: number): number {
  return (attendSmem(chunk, colsPerThread) + 2 * chunk) * F32_BYTES;
}

type Uniforms = {
  n: number;
  nc: number;
  nbh: number;
  dq: number;
  dout: number;
  d: number;
  dv: number;
  sq: number;
  sk: number;
  sv: number;
  nblk: number;
  nblk2: number;
  beta: number;
  gamma: number;
};

const ZERO_UNIFORMS: Uniforms = {
  n: 0, nc: 0, nbh: 0, dq: 0, dout: 0, d: 0, dv: 0, sq: 0, sk: 0, sv: 0, nblk: 1, nblk2: 1, beta: 0, gamma: 1,
};

function baseUniforms(dims: AttentionDims, r: Resolved, beta: number, gamma: number): Uniforms {
  return {
    n: dims.seq,
    nc: r.nc,
    nbh: dims.batch * dims.heads,
    dq: 0,
    dout: 0,
    d: dims.dim,
    dv: dims.dimV,
    sq: 0,
    sk: 0,
    sv: 0,
    nblk: 1,
    nblk2: 1,
    beta: r.momentum ? beta : 0,
    gamma: r.momentum ? gamma : 1,
  };
}

/** phi(x) = elu(x) + 1 elementwise into a new pooled tensor (the swiftshader variant's key rows). */
function features(gpu: Gpu, x: Tensor, name: string): Tensor {
  const f = empty(gpu, x.shape, `linearAttention.${name}`); // [B, H, N, D]
  gpu
    .kernel({ label, code: src, entry: 'phi_map', constants: { WG1 } })
    .run({ src: x, dst: f }, { ...ZERO_UNIFORMS, n: x.size }, gpu.grid(Math.ceil(x.size / WG1)));
  return f;
}

/**
 * Chunk-local sums of phi(a) b^T (and of [r] phi(a)) into every chunk's slot of hs and zs, then
 * the scan that turns them into the state carried into each chunk (slot NC: the whole sequence).
 * The tiled variant applies phi to `a` as it loads it; the row variant takes phi(a) as `a` and
 * does both in one pass.
 */
function scanChunks(
  gpu: Gpu,
  dims: AttentionDims,
  r: Resolved,
  u: Uniforms,
  t: { a: Tensor; b: Tensor; hs: Tensor; zs: Tensor },
  o: { bStride: number; reverse: boolean; weighted: boolean; momentum: boolean },
): void {
  const bh = dims.batch * dims.heads;
  const flags = { C: r.chunk, MOMENTUM: o.momentum ? 1 : 0, REVERSE: o.reverse ? 1 : 0, HAS_ZW: o.weighted ? 1 : 0 };
  if (r.rows) {
    // Sums and scan in one pass, one thread per 4 x 4 tile of the state walking the chunks.
    const threads = bh * Math.ceil(dims.dim / ROW_SUM_TILE) * Math.ceil(dims.dimV / ROW_SUM_TILE);
    gpu
      .kernel({ label, code: src, entry: 'sums_scan_rows', constants: { WG1, ...flags } })
      .run(t, { ...u, sq: dims.dim, sk: o.bStride }, gpu.grid(Math.ceil(threads / WG1)));
    return;
  }
  const rows = rowsFor(dims.dim);
  const cols = colsFor(dims.dimV);
  const smem = SLICE * TILE * (rows.perThread + cols.perThread) + SLICE;
  gpu
    .kernel({
      label,
      code: src,
      entry: 'chunk_sums',
      constants: { T: TILE, RT: rows.perThread, ST: cols.perThread, SMEM: smem, ...flags },
    })
    .run(
      t,
      { ...u, sq: dims.dim, sk: o.bStride, nblk: rows.blocks, nblk2: cols.blocks },
      [r.nc * rows.blocks * cols.blocks, bh],
    );
  gpu
    .kernel({ label, code: src, entry: 'scan', constants: { WG1, C: r.chunk, MOMENTUM: flags.MOMENTUM, REVERSE: flags.REVERSE } })
    .run({ hs: t.hs, zs: t.zs }, u, [Math.ceil((dims.dim * dims.dimV + dims.dim) / WG1), bh]);
}

interface AttendOptions {
  backward: boolean;
  /** Floats per entry of the state read (SP): 2 for (S, m) pairs, 1 for S alone. */
  statePairs: number;
  mode: 0 | 1 | 2 | 3;
  causal: boolean;
  reverse: boolean;
  /** Whether the tiled kernel applies phi to xq, xk, xv as it loads them (the row kernels get phi'd rows). */
  phi: [boolean, boolean, boolean];
  trans: boolean;
  ncScale: boolean;
  /** Contracted features, output features, and the row strides of xq, xk, xv. */
  dq: number;
  dout: number;
  strides: [number, number, number];
}

function attend(gpu: Gpu, dims: AttentionDims, r: Resolved, u: Uniforms, bindings: Record<string, Tensor>, o: AttendOptions): void {
  const bh = dims.batch * dims.heads;
  const flags = {
    C: r.chunk,
    MOMENTUM: r.momentum ? 1 : 0,
    CAUSAL: o.causal ? 1 : 0,
    REVERSE: o.reverse ? 1 : 0,
    MODE: o.mode,
    TRANS: o.trans ? 1 : 0,
    NC_SCALE: o.ncScale ? 1 : 0,
    SP: o.statePairs,
  };
  const uniforms = { ...u, dq: o.dq, dout: o.dout, sq: o.strides[0], sk: o.strides[1], sv: o.strides[2] };
  if (r.rows) {
    // The row kernels read (S, m) pairs through a vec2 view of the same buffer; a thread owns two tokens.
    gpu
      .kernel({ label, code: src, entry: o.backward ? 'attend_rows_bwd' : 'attend_rows_fwd', constants: { WG1, ...flags } })
      .run({ ...bindings, st2: bindings.st! }, uniforms, gpu.grid(Math.ceil((bh * Math.ceil(dims.seq / 2)) / WG1)));
    return;
  }
  const cols = colsFor(o.dout);
  gpu
    .kernel({
      label,
      code: src,
      entry: o.backward ? 'attend_bwd' : 'attend_fwd',
      constants: {
        T: TILE,
        RT: r.chunk / TILE,
        ST: cols.perThread,
        SMEM: attendSmem(r.chunk, cols.perThread),
        PHI_Q: o.phi[0] ? 1 : 0,
        PHI_K: o.phi[1] ? 1 : 0,
        PHI_V: o.phi[2] ? 1 : 0,
        ...flags,
      },
    })
    .run(bindings, { ...uniforms, nblk: cols.blocks }, [r.nc * cols.blocks, bh]);
}

function shapes(d: AttentionDims) {
  const { batch: b, heads: h, seq: n } = d;
  return { qk: [b, h, n, d.dim], v: [b, h, n, d.dimV] };
}

function checkSaved(what: string, dims: AttentionDims, r: Resolved, s: MomentumSaved): void {
  const sh = momentumSavedShapes(dims, r.chunk, r.momentum);
  checkTensor(what, 'states', s.states, sh.states);
  checkTensor(what, 'z', s.z, sh.z);
  checkTensor(what, 'den', s.den, sh.den);
}

/** Checks q, k, v and the config (ops call it before allocating). Returns the resolved chunk and path. */
export function checkMomentumInputs(
  what: string,
  gpu: Gpu,
  args: { q: Tensor; k: Tensor; v: Tensor; dims: AttentionDims } & MomentumConfig,
): Resolved {
  const r = resolveMomentumConfig(what, gpu, args.dims, args);
  const s = shapes(args.dims);
  checkTensor(what, 'q', args.q, s.qk);
  checkTensor(what, 'k', args.k, s.qk);
  checkTensor(what, 'v', args.v, s.v);
  return r;
}

/**
 * out = momentum attention of q, k, v (eq. 13 causal, eq. 14 not), or linear attention on the
 * linear path; fills the saved tensors for the backward.
 */
export function momentumAttentionForward(gpu: Gpu, args: MomentumForwardArgs): void {
  const what = 'momentumAttentionForward';
  const r = checkMomentumInputs(what, gpu, args);
  const { q, k, v, out, states, z, den, dims } = args;
  checkTensor(what, 'out', out, shapes(dims).v);
  checkSaved(what, dims, r, args);
  checkDistinct(what, { out, states, z, den }, { q, k, v });
  const { dim: d, dimV: e } = dims;
  const u = baseUniforms(dims, r, args.beta, args.gamma);
  // Row kernels read phi(q), phi(k) rows; the tiled ones apply phi as they stage q and k.
  const fq = r.rows ? features(gpu, q, 'phiQ') : q; // [B, H, N, D]
  const fk = r.rows ? features(gpu, k, 'phiK') : k; // [B, H, N, D]
  scanChunks(gpu, dims, r, u, { a: fk, b: v, hs: states, zs: z }, {
    bStride: e,
    reverse: false,
    weighted: false,
    momentum: r.momentum,
  });
  const pairs = stateFloats(r.momentum);
  attend(gpu, dims, r, u, { xq: fq, xk: fk, xv: v, st: states, zc: z, out, den }, {
    backward: false,
    statePairs: pairs,
    mode: 0,
    causal: args.causal,
    reverse: false,
    phi: [true, true, false],
    trans: false,
    ncScale: false,
    dq: d,
    dout: e,
    strides: [d, d, e],
  });
  if (r.rows) {
    fq.dispose();
    fk.dispose();
  }
}

/** dq, dk, dv of sum(out * dout) (overwritten, not accumulated), from the forward's saved tensors. */
export function momentumAttentionBackward(gpu: Gpu, args: MomentumBackwardArgs): void {
  const what = 'momentumAttentionBackward';
  const r = checkMomentumInputs(what, gpu, args);
  const { q, k, v, out, dout, dq, dk, dv, states, z, den, dims, causal } = args;
  const s = shapes(dims);
  checkTensor(what, 'out', out, s.v);
  checkTensor(what, 'dout', dout, s.v);
  if (dq) checkTensor(what, 'dq', dq, s.qk);
  if (dk) checkTensor(what, 'dk', dk, s.qk);
  if (dv) checkTensor(what, 'dv', dv, s.v);
  checkSaved(what, dims, r, args);
  checkDistinct(what, { dq, dk, dv }, { q, k, v, out, dout, states, z, den });
  if (!dq && !dk && !dv) return;
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = dims;
  const u = baseUniforms(dims, r, args.beta, args.gamma);
  const gr = empty(gpu, [b, h, n, e + 1], 'linearAttention.gr'); // [B, H, N, Dv+1]: g = dout/den | r
  gpu
    .kernel({ label, code: src, entry: 'bwd_prep', constants: { WG1 } })
    .run({ dy: dout, y: out, den_in: den, gr }, u, gpu.grid(Math.ceil((b * h * n) / WG1)));
  const strideGr = e + 1;
  const fq = r.rows ? features(gpu, q, 'phiQ') : q; // [B, H, N, D]
  const fk = r.rows ? features(gpu, k, 'phiK') : k; // [B, H, N, D]

  if (dq) {
    attend(gpu, dims, r, u, { xq: gr, xk: v, xv: fk, st: states, zc: z, xd: q, out: dq }, {
      backward: true,
      statePairs: stateFloats(r.momentum),
      mode: 1,
      causal,
      reverse: false,
      phi: [false, false, true],
      trans: true,
      ncScale: false,
      dq: e,
      dout: d,
      strides: [strideGr, e, d],
    });
  }
  if (dk || dv) {
    // The gradient reaching each u_j = phi(k_j) v_j^T, carried backwards in time: causal, a
    // momentum scan in reverse; non-causal, plain totals (weighted per key in attend).
    const revMomentum = causal && r.momentum;
    const sh = momentumSavedShapes(dims, r.chunk, revMomentum);
    const rs = empty(gpu, sh.states, 'linearAttention.revStates'); // [B, H, NC+1, D, Dv, P]
    const rz = empty(gpu, sh.z, 'linearAttention.revZ'); // [B, H, NC+1, D]
    scanChunks(gpu, dims, r, u, { a: fq, b: gr, hs: rs, zs: rz }, {
      bStride: strideGr,
      reverse: causal,
      weighted: true,
      momentum: revMomentum,
    });
    if (r.rows && dk && dv) {
      // One pass for both: the reverse state is read (and combined) once per two key tokens.
      const flags = {
        C: r.chunk,
        MOMENTUM: r.momentum ? 1 : 0,
        CAUSAL: causal ? 1 : 0,
        REVERSE: 1,
        NC_SCALE: causal ? 0 : 1,
        SP: stateFloats(revMomentum),
      };
      gpu
        .kernel({ label, code: src, entry: 'attend_rows_dkv', constants: { WG1, ...flags } })
        .run(
          { xq: v, xk: gr, xv: fq, xw: fk, st: rs, st2: rs, zc: rz, xd: k, out: dk, out2: dv },
          { ...u, dq: e, dout: d, sq: e, sk: strideGr, sv: d },
          gpu.grid(Math.ceil((b * h * Math.ceil(n / 2)) / WG1)),
        );
    }
    if (dk && !(r.rows && dv)) {
      attend(gpu, dims, r, u, { xq: v, xk: gr, xv: fq, st: rs, zc: rz, xd: k, out: dk }, {
        backward: true,
        statePairs: stateFloats(revMomentum),
        mode: 2,
        causal,
        reverse: true,
        phi: [false, false, true],
        trans: true,
        ncScale: !causal,
        dq: e,
        dout: d,
        strides: [e, strideGr, d],
      });
    }
    if (dv && !(r.rows && dk)) {
      attend(gpu, dims, r, u, { xq: fk, xk: fq, xv: gr, st: rs, zc: rz, xd: k, out: dv }, {
        backward: true,
        statePairs: stateFloats(revMomentum),
        mode: 3,
        causal,
        reverse: true,
        phi: [true, true, false],
        trans: false,
        ncScale: !causal,
        dq: d,
        dout: e,
        strides: [d, d, strideGr],
      });
    }
    rs.dispose();
    rz.dispose();
  }
  if (r.rows) {
    fq.dispose();
    fk.dispose();
  }
  gr.dispose();
}

export interface MomentumStateDims {
  batch: number;
  heads: number;
  dim: number;
  dimV: number;
  beta: number;
  gamma: number;
}

/**
 * The recurrent form (12) for sampling: step(q, k, v) advances (z, S, m) by one token and returns
 * that token's output, the same numbers (to rounding) as its row of the parallel causal forward.
 * O(D Dv) per token whatever the position. beta and gamma may change between steps.
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

  constructor(
    private readonly gpu: Gpu,
    dims: MomentumStateDims,
  ) {
    const what = 'MomentumState';
    if (!dims || typeof dims !== 'object') throw new Error(`${what}: expected {batch, heads, dim, dimV, beta, gamma}`);
    const { batch, heads, dim, dimV, beta, gamma } = dims;
    checkDims(what, gpu, { batch, heads, seq: 1, dim, dimV });
    checkMomentumParams(what, beta, gamma);
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
    if (this.s.isDisposed) throw new Error(`${what}: the state has been disposed`);
    const { batch: b, heads: h, dim: d, dimV: e } = this;
    checkTensor(what, 'q', q, [b, h, 1, d]);
    checkTensor(what, 'k', k, [b, h, 1, d]);
    checkTensor(what, 'v', v, [b, h, 1, e]);
    const out = empty(this.gpu, [b, h, 1, e], 'momentumState.out'); // [B, H, 1, Dv]
    // Always the momentum update: m must stay current in case beta changes later. At beta = 0,
    // gamma = 1 it gives S + phi(k) v^T exactly, the linear recurrence (8).
    this.gpu
      .kernel({ label, code: src, entry: 'step', constants: { WG1, MOMENTUM: 1 } })
      .run(
        { q1: q, k1: k, v1: v, s1: this.s, m1: this.m, z1: this.z, o1: out },
        { ...ZERO_UNIFORMS, n: 1, nc: 1, nbh: b * h, d, dv: e, beta: this.b, gamma: this.g },
        [b * h],
      );
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
