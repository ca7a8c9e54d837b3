/**
 * The library entry point: attention kernels on plain arrays, from Node or the browser.
 *
 * ```ts
 * import { createGpu, attention, attentionBackward } from './src/lib.ts';
 * const gpu = await createGpu();
 * const dims = { batch: 1, heads: 2, seq: 128, dim: 16, dimV: 16 };
 * const out = await attention(gpu, { kind: 'momentum', causal: true, beta: 0.6, gamma: 0.9 }, q, k, v, dims);
 * const { dq, dk, dv } = await attentionBackward(gpu, { kind: 'momentum', causal: true }, q, k, v, dOut, dims);
 * gpu.destroy();
 * ```
 * Arrays are Float32Arrays laid out [batch, heads, seq, dim] (v, out and dOut: [batch, heads, seq,
 * dimV]). Invalid specs, dims or array lengths throw errors that say what is wrong, before any GPU
 * memory is allocated. A right-padded batch passes `lengths` (a Uint32Array or number[] of each
 * example's valid tokens, 1..seq): padding keys get no weight, padding rows are 0 and get no
 * gradient, so each example's result is that of running it alone at its own length.
 */
import { Gpu } from './engine/gpu.ts';
import type { OpenOptions } from './engine/device.ts';
import {
  attention as attentionOp,
  checkAttentionDims,
  checkAttentionSpec,
  type AttentionDims,
  type AttentionSpec,
} from './engine/ops/attention.ts';
import { Tape, fromArray, variable, type Tensor } from './engine/tensor.ts';
import { attentionMatrix as attentionMatrixOp } from './engine/ops/attentionMatrix.ts';
import { checkAttentionMatrixShape } from './engine/kernels/attentionMatrix.ts';

export type { AttentionDims, AttentionKind, AttentionSpec } from './engine/ops/attention.ts';
export { Gpu } from './engine/gpu.ts';
export { ATTENTION_MATRIX_MAX_SEQ } from './engine/kernels/attentionMatrix.ts';

/** Opens a WebGPU device (navigator.gpu in browsers; Dawn, or SwiftShader without a GPU, in Node). */
export function createGpu(opts: OpenOptions = {}): Promise<Gpu> {
  return Gpu.open(opts);
}

function checkArrays(gpu: Gpu, dims: AttentionDims, arrays: Record<string, Float32Array>): void {
  const { batch, heads, seq, dim, dimV } = dims;
  const expected: Record<string, number> = {
    q: batch * heads * seq * dim,
    k: batch * heads * seq * dim,
    v: batch * heads * seq * dimV,
    dOut: batch * heads * seq * dimV,
  };
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  // Sizes first, from the dims alone: a shape the device cannot hold is the problem to report.
  for (const name of Object.keys(arrays)) {
    const bytes = expected[name]! * 4;
    if (bytes > limit) throw new Error(`${name} needs ${bytes} bytes, over this device's buffer limit of ${limit} bytes`);
  }
  for (const [name, arr] of Object.entries(arrays)) {
    if (!(arr instanceof Float32Array)) throw new Error(`${name} must be a Float32Array`);
    const want = expected[name]!;
    if (arr.length !== want) {
      const last = name === 'q' || name === 'k' ? 'dim' : 'dimV';
      throw new Error(
        `${name} has ${arr.length} values but dims [batch ${batch}, heads ${heads}, seq ${seq}, ${last} ${dims[last]}] need ${want}`,
      );
    }
  }
}

/** Key-padding lengths as the host gives them: one integer in 1..seq per example. */
export type AttentionLengths = Uint32Array | readonly number[];

function checkLengthsArray(what: string, dims: AttentionDims, lengths: AttentionLengths): Uint32Array {
  if (!(lengths instanceof Uint32Array) && !Array.isArray(lengths)) {
    throw new Error(`${what}: lengths must be a Uint32Array or an array of numbers`);
  }
  if (lengths.length !== dims.batch) {
    throw new Error(`${what}: lengths has ${lengths.length} values; batch is ${dims.batch} (one length per example)`);
  }
  for (let b = 0; b < lengths.length; b++) {
    const l = lengths[b];
    if (typeof l !== 'number' || !Number.isInteger(l) || l < 1 || l > dims.seq) {
      throw new Error(`${what}: lengths[${b}] = ${String(l)} must be an integer in 1..${dims.seq} (seq)`);
    }
  }
  return Uint32Array.from(lengths);
}

/** The lengths tensor of a checked array, owned by the tape (undefined without lengths). */
function lengthsTensor(gpu: Gpu, tape: Tape, dims: AttentionDims, lengths: Uint32Array | null): Tensor | undefined {
  return lengths ? tape.own(fromArray(gpu, lengths, [dims.batch], 'lengths')) : undefined;
}

function shapes(dims: AttentionDims) {
  const { batch, heads, seq, dim, dimV } = dims;
  return { qk: [batch, heads, seq, dim], v: [batch, heads, seq, dimV] };
}

/** The attention output [batch, heads, seq, dimV]. */
export async function attention(
  gpu: Gpu,
  spec: AttentionSpec,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  dims: AttentionDims,
  lengths?: AttentionLengths,
): Promise<Float32Array> {
  checkAttentionSpec(spec);
  checkAttentionDims(dims);
  checkArrays(gpu, dims, { q, k, v });
  const lens = lengths === undefined ? null : checkLengthsArray('attention', dims, lengths);
  const s = shapes(dims);
  const tape = new Tape(gpu, { grad: false });
  const tq = tape.own(variable(gpu, q, s.qk, 'q'));
  const tk = tape.own(variable(gpu, k, s.qk, 'k'));
  const tv = tape.own(variable(gpu, v, s.v, 'v'));
  try {
    return await attentionOp(tape, spec, tq, tk, tv, lengthsTensor(gpu, tape, dims, lens)).read();
  } finally {
    tape.dispose();
  }
}

/** Gradients of sum(attention(q, k, v) * dOut) with respect to q, k and v. */
export async function attentionBackward(
  gpu: Gpu,
  spec: AttentionSpec,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  dOut: Float32Array,
  dims: AttentionDims,
  lengths?: AttentionLengths,
): Promise<{ dq: Float32Array; dk: Float32Array; dv: Float32Array }> {
  checkAttentionSpec(spec);
  checkAttentionDims(dims);
  checkArrays(gpu, dims, { q, k, v, dOut });
  const lens = lengths === undefined ? null : checkLengthsArray('attentionBackward', dims, lengths);
  const s = shapes(dims);
  const tape = new Tape(gpu);
  const tq = tape.own(variable(gpu, q, s.qk, 'q'));
  const tk = tape.own(variable(gpu, k, s.qk, 'k'));
  const tv = tape.own(variable(gpu, v, s.v, 'v'));
  try {
    const out = attentionOp(tape, spec, tq, tk, tv, lengthsTensor(gpu, tape, dims, lens));
    const seed = tape.own(variable(gpu, dOut, s.v, 'dOut'));
    tape.backward(out, seed);
    const [dq, dk, dv] = await Promise.all([tq.grad!.read(), tk.grad!.read(), tv.grad!.read()]);
    return { dq, dk, dv };
  } finally {
    tape.dispose();
    for (const t of [tq, tk, tv]) t.grad = null;
  }
}

/**
 * The effective attention matrix [batch, heads, seq, seq]: the weight each query puts on each value
 * (MATH.md section 11), so that attention(spec, q, k, v) = A v per head. Same spec and dims as
 * `attention` (dims.dimV is checked but unused); entries above the diagonal are 0 when causal;
 * momentum rows do not sum to 1. seq is limited to ATTENTION_MATRIX_MAX_SEQ. With `lengths`, example
 * b's rows and columns past lengths[b] are 0.
 */
export async function attentionMatrix(
  gpu: Gpu,
  spec: AttentionSpec,
  q: Float32Array,
  k: Float32Array,
  dims: AttentionDims,
  lengths?: AttentionLengths,
): Promise<Float32Array> {
  checkAttentionSpec(spec);
  checkAttentionDims(dims);
  const matrixDims = { batch: dims.batch, heads: dims.heads, seq: dims.seq, dim: dims.dim };
  checkAttentionMatrixShape('attentionMatrix', gpu, matrixDims);
  checkArrays(gpu, dims, { q, k });
  const lens = lengths === undefined ? null : checkLengthsArray('attentionMatrix', dims, lengths);
  const tape = new Tape(gpu, { grad: false });
  const tq = tape.own(variable(gpu, q, shapes(dims).qk, 'q'));
  const tk = tape.own(variable(gpu, k, shapes(dims).qk, 'k'));
  try {
    return await attentionMatrixOp(tape, spec, tq, tk, lengthsTensor(gpu, tape, dims, lens)).read();
  } finally {
    tape.dispose();
  }
}
