// The engine's one set of input checks: tensors (present, live, dtype, shape), buffer aliasing,
// attention dims and hyper-parameters. Ops validate with these before they allocate; a primitive
// called directly (tests do) validates once at its entry, then only encodes. Every message names
// the function (`what`), the role and the tensor's label, so a failure says which input is wrong.
import type { Gpu } from './gpu.ts';
import type { Shape, Tensor } from './tensor.ts';

export function fail(what: string, msg: string): never {
  throw new Error(`${what}: ${msg}`);
}

export function shapeText(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface TensorExpectation {
  dtype?: 'f32' | 'u32';
  /** The exact shape. */
  shape?: Shape;
  /** The number of values, whatever the shape. */
  size?: number;
  rank?: number;
}

/** Throws unless `t` is given, not disposed and of the expected dtype (f32 by default) and shape. */
export function checkTensor(what: string, role: string, t: Tensor | null | undefined, want: TensorExpectation = {}): void {
  if (!t) fail(what, `${role} is missing`);
  if (t.isDisposed) fail(what, `${role} '${t.label}' has been disposed`);
  const dtype = want.dtype ?? 'f32';
  if (t.dtype !== dtype) fail(what, `${role} '${t.label}' must be ${dtype}, it is ${t.dtype}`);
  if (want.shape && !sameShape(t.shape, want.shape)) {
    fail(what, `${role} '${t.label}' has shape ${shapeText(t.shape)}; expected ${shapeText(want.shape)}`);
  }
  if (want.size !== undefined && t.size !== want.size) {
    fail(what, `${role} '${t.label}' must hold ${want.size} values, its shape is ${shapeText(t.shape)}`);
  }
  if (want.rank !== undefined && t.shape.length !== want.rank) {
    fail(what, `${role} '${t.label}' must have rank ${want.rank}, its shape is ${shapeText(t.shape)}`);
  }
}

/** Throws unless every tensor is f32 (unnamed tensors of the elementwise families). */
export function checkFloat(what: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== 'f32') fail(what, `${t.label} must be float32, got ${t.dtype}`);
  }
}

/** Throws unless all tensors have the first one's shape. */
export function checkSameShape(what: string, ...ts: Tensor[]): void {
  const [first, ...rest] = ts;
  for (const t of rest) {
    if (!sameShape(t.shape, first!.shape)) {
      fail(what, `${t.label} has shape ${shapeText(t.shape)}, expected ${shapeText(first!.shape)} like ${first!.label}`);
    }
  }
}

/** R and C of x [..., C] against a row [C]; throws on any mismatch. */
export function checkBroadcast(what: string, x: Tensor, row: Tensor): { rows: number; cols: number } {
  checkFloat(what, x, row);
  const C = x.shape[x.shape.length - 1];
  if (C === undefined) throw new Error(`${what}: ${x.label} must have at least one dimension`);
  if (row.shape.length !== 1 || row.shape[0] !== C) {
    throw new Error(`${what}: ${row.label} has shape ${shapeText(row.shape)}, expected [${C}] (the last dimension of ${x.label} ${shapeText(x.shape)})`);
  }
  return { rows: C === 0 ? 0 : x.size / C, cols: C };
}

/**
 * Outputs must not share a buffer with each other or with an input: kernels read while they
 * write, and WebGPU forbids a writable binding aliasing another. Null entries are skipped.
 */
export function checkDistinct(
  what: string,
  outputs: Record<string, Tensor | null>,
  inputs: Record<string, Tensor | null>,
): void {
  const seen = new Map<GPUBuffer, string>();
  for (const [name, t] of Object.entries(inputs)) if (t && !seen.has(t.buffer)) seen.set(t.buffer, name);
  for (const [name, t] of Object.entries(outputs)) {
    if (!t) continue;
    const other = seen.get(t.buffer);
    if (other) fail(what, `${name} '${t.label}' shares its buffer with ${other}`);
    seen.set(t.buffer, name);
  }
}

/** checkDistinct for unnamed tensors (the elementwise families name them by label). */
export function checkDistinctTensors(what: string, outputs: Tensor[], others: Tensor[]): void {
  const all = [...outputs, ...others];
  outputs.forEach((o, i) => {
    all.forEach((t, j) => {
      if (i !== j && t.buffer === o.buffer) fail(what, `output ${o.label} shares a buffer with ${t.label}`);
    });
  });
}

export function checkPositiveInt(what: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) fail(what, `${name} must be a positive integer, got ${v}`);
}

export function checkFinite(what: string, name: string, v: number): void {
  if (!Number.isFinite(v)) fail(what, `${name} must be a finite number, got ${v}`);
}

/** LayerNorm's eps: a positive finite number. */
export function checkEps(what: string, eps: number): void {
  if (!(Number.isFinite(eps) && eps > 0)) fail(what, `eps must be a positive number, got ${eps}`);
}

/** Throws unless (p, seed, offset) describe a valid dropout of n elements. */
export function checkDropout(what: string, n: number, p: number, seed: number, offset: number): void {
  if (!(Number.isFinite(p) && p >= 0 && p < 1)) fail(what, `p must be in [0, 1), got ${p}`);
  if (!Number.isSafeInteger(seed) || seed < 0) fail(what, `seed must be a non-negative integer below 2^53, got ${seed}`);
  if (!Number.isSafeInteger(offset) || offset < 0) fail(what, `offset must be a non-negative integer below 2^53, got ${offset}`);
  if (!Number.isSafeInteger(offset + n)) fail(what, `offset + ${n} elements passes 2^53`);
}

/** Throws unless beta is in [0, 1) and gamma > 0 (both finite numbers). */
export function checkMomentumParams(what: string, beta: number, gamma: number): void {
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0 || beta >= 1) {
    fail(what, `momentum beta must be a number in [0, 1) (beta >= 1 diverges); got ${String(beta)}`);
  }
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma <= 0) {
    fail(what, `momentum gamma (step size) must be a finite number > 0; got ${String(gamma)}`);
  }
}

export function checkCausal(what: string, causal: unknown): void {
  if (typeof causal !== 'boolean') fail(what, `causal must be true or false; got ${String(causal)}`);
}

/** Attention sizes: batch, heads, seq, query/key head size D and value head size Dv. */
export interface AttentionDims {
  batch: number;
  heads: number;
  seq: number;
  /** Query/key head size D. */
  dim: number;
  /** Value head size Dv. */
  dimV: number;
}

/** Throws unless every size is a positive integer (and, with a gpu, batch * heads fits one grid dimension). */
export function checkAttentionDims(what: string, dims: AttentionDims, gpu?: Gpu): void {
  if (!dims || typeof dims !== 'object') fail(what, 'dims must be an object {batch, heads, seq, dim, dimV}');
  for (const name of ['batch', 'heads', 'seq', 'dim', 'dimV'] as const) {
    const n = dims[name];
    if (!Number.isInteger(n) || n < 1) fail(what, `dims.${name} must be a positive integer; got ${String(n)}`);
  }
  if (gpu) checkHeadGrid(what, gpu, dims);
}

/** Attention kernels put batch * heads on one grid dimension. */
export function checkHeadGrid(what: string, gpu: Gpu, dims: Pick<AttentionDims, 'batch' | 'heads'>): void {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (dims.batch * dims.heads > max) {
    fail(what, `batch * heads = ${dims.batch * dims.heads} exceeds ${max}, the per-dimension workgroup limit`);
  }
}

/** Dims of q, k [B, H, N, D] and v [B, H, N, Dv], the shapes an attention op is given. */
export function attentionDimsOf(what: string, q: Tensor, k: Tensor, v: Tensor): AttentionDims {
  const named: [string, Tensor][] = [['q', q], ['k', k], ['v', v]];
  for (const [name, t] of named) {
    if (!t || t.shape.length !== 4) fail(what, `${name} must have shape [batch, heads, seq, dim]; got [${t?.shape.join(', ') ?? ''}]`);
  }
  const [batch, heads, seq, dim] = q.shape as [number, number, number, number];
  if (!sameShape(k.shape, q.shape)) fail(what, `k has shape ${shapeText(k.shape)}; q has ${shapeText(q.shape)}`);
  if (!sameShape(v.shape.slice(0, 3), q.shape.slice(0, 3))) {
    fail(what, `v has shape ${shapeText(v.shape)}; its first three sizes must match q's ${shapeText(q.shape)}`);
  }
  return { batch, heads, seq, dim, dimV: v.shape[3]! };
}

/** Shapes of q/k [B, H, N, D], v [B, H, N, Dv] and per-row values [B, H, N]. */
export function attentionShapes(d: AttentionDims): { qk: Shape; v: Shape; rows: Shape } {
  const { batch: b, heads: h, seq: n } = d;
  return { qk: [b, h, n, d.dim], v: [b, h, n, d.dimV], rows: [b, h, n] };
}

/**
 * Key-padding lengths of a batch of right-padded sequences: a live u32 tensor of `batch` values
 * (each example's count of valid tokens, 1..seq). The values live on the GPU, so only the caller
 * that made them (on the host) can check them; the kernels clamp them into [1, seq].
 */
export function checkLengths(what: string, lengths: Tensor, batch: number): void {
  checkTensor(what, 'lengths', lengths, { dtype: 'u32', size: batch });
}
