// GPU primitive of shaders/attention_matrix.wgsl: the effective attention matrix A [B, H, N, N]
// of softmax, linear or momentum attention (MATH.md section 11), with out = A v. For looking inside
// a model (the inspector), not for training: it materialises N x N on purpose, so N is capped.
import src from '../../../shaders/attention_matrix.wgsl?raw';
import lengthsFull from '../../../shaders/attention_matrix_lengths_full.wgsl?raw';
import lengthsMasked from '../../../shaders/attention_matrix_lengths_masked.wgsl?raw';
import { checkLengths } from '../check.ts';
import type { Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';

/** Longest sequence the matrix is computed for (an N x N matrix per head). */
export const ATTENTION_MATRIX_MAX_SEQ = 1024;

export type AttentionMatrixKind = 'softmax' | 'linear' | 'momentum';

/** A resolved spec: beta and gamma given (linear and softmax ignore them). */
export interface AttentionMatrixSpec {
  kind: AttentionMatrixKind;
  causal: boolean;
  beta: number;
  gamma: number;
}

export interface AttentionMatrixDims {
  batch: number;
  heads: number;
  seq: number;
  dim: number;
}

/** Query rows and key rows per tile (BQ * BK threads per workgroup) and head columns per chunk. */
const TILE_Q = 16;
const TILE_K = 16;
const TILE_D = 16;
const F32_BYTES = 4;
const KIND_CODE: Record<AttentionMatrixKind, number> = { softmax: 0, linear: 1, momentum: 2 };

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Throws, naming the problem, when the shape is invalid, too long, or over this device's limits. */
export function checkAttentionMatrixShape(what: string, gpu: Gpu, dims: AttentionMatrixDims): void {
  if (!dims || typeof dims !== 'object') throw new Error(`${what}: dims must be an object {batch, heads, seq, dim}`);
  for (const name of ['batch', 'heads', 'seq', 'dim'] as const) {
    const n = dims[name];
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: dims.${name} must be a positive integer; got ${String(n)}`);
  }
  if (dims.seq > ATTENTION_MATRIX_MAX_SEQ) {
    throw new Error(`${what}: seq ${dims.seq} is over the limit of ${ATTENTION_MATRIX_MAX_SEQ} for an attention matrix (N x N per head)`);
  }
  const bh = dims.batch * dims.heads;
  const maxGroups = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (bh > maxGroups) throw new Error(`${what}: batch * heads = ${bh} exceeds ${maxGroups}, the per-dimension workgroup limit`);
  const bytes = bh * dims.seq * dims.seq * F32_BYTES;
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  if (bytes > limit) {
    throw new Error(
      `${what}: the matrix [${dims.batch}, ${dims.heads}, ${dims.seq}, ${dims.seq}] needs ${bytes} bytes, ` +
        `over this device's buffer limit of ${limit} bytes; ask for fewer heads or a shorter sequence`,
    );
  }
}

export function checkAttentionMatrixSpec(what: string, spec: AttentionMatrixSpec): void {
  if (!(spec.kind in KIND_CODE)) throw new Error(`${what}: unknown kind '${String(spec.kind)}'`);
  if (typeof spec.causal !== 'boolean') throw new Error(`${what}: causal must be true or false; got ${String(spec.causal)}`);
  if (!Number.isFinite(spec.beta) || spec.beta < 0 || spec.beta >= 1) throw new Error(`${what}: beta must be in [0, 1); got ${spec.beta}`);
  if (!Number.isFinite(spec.gamma) || spec.gamma <= 0) throw new Error(`${what}: gamma must be > 0; got ${spec.gamma}`);
}

function checkTensor(what: string, role: string, t: Tensor, shape: readonly number[]): void {
  if (!t) throw new Error(`${what}: ${role} is missing`);
  if (t.dtype !== 'f32') throw new Error(`${what}: ${role} '${t.label}' must be f32; it is ${t.dtype}`);
  if (t.isDisposed) throw new Error(`${what}: ${role} '${t.label}' has been disposed`);
  if (!sameShape(t.shape, shape)) {
    throw new Error(`${what}: ${role} '${t.label}' has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}]`);
  }
}

/**
 * weights [B, H, N, N] = the effective attention of q, k [B, H, N, D] (overwritten). With key-padding
 * lengths u32 [B] (1..N each), example b's rows and columns past lengths[b] are 0 and eq. 14 weighs
 * by its own length: the matrix of running the example alone, padded with zeros.
 */
export function attentionMatrixForward(
  gpu: Gpu,
  args: { q: Tensor; k: Tensor; weights: Tensor; dims: AttentionMatrixDims; spec: AttentionMatrixSpec; lengths?: Tensor | null },
): void {
  const what = 'attentionMatrixForward';
  const { q, k, weights, dims, spec } = args;
  checkAttentionMatrixShape(what, gpu, dims);
  checkAttentionMatrixSpec(what, spec);
  const { batch: b, heads: h, seq: n, dim: d } = dims;
  checkTensor(what, 'q', q, [b, h, n, d]);
  checkTensor(what, 'k', k, [b, h, n, d]);
  checkTensor(what, 'weights', weights, [b, h, n, n]);
  if (weights.buffer === q.buffer || weights.buffer === k.buffer) throw new Error(`${what}: weights share a buffer with q or k`);
  const lengths = args.lengths ?? null;
  if (lengths) checkLengths(what, lengths, b);
  gpu
    .kernel({
      label: lengths ? 'attention_matrix+lengths' : 'attention_matrix',
      code: [src, lengths ? lengthsMasked : lengthsFull].join('\n'),
      entry: 'matrix',
      constants: { BQ: TILE_Q, BK: TILE_K, DC: TILE_D, THREADS: TILE_Q * TILE_K },
    })
    .run(
      { q, k, weights, ...(lengths ? { lengths } : {}) },
      {
        bh: b * h,
        heads: h,
        n,
        d,
        kind: KIND_CODE[spec.kind],
        causal: spec.causal ? 1 : 0,
        scale: 1 / Math.sqrt(d),
        beta: spec.beta,
        gamma: spec.gamma,
      },
      [Math.ceil(n / TILE_Q), b * h],
    );
}
