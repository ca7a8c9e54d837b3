// The effective attention matrix (shaders/attention_matrix.wgsl through lib.attentionMatrix): GPU
// against its CPU reference on odd shapes (not multiples of the 16 x 16 tiles or the 16-column
// chunks), and the strong check that A v equals attention's own output for every kind, causal and
// not. Invalid input throws what is wrong, before anything is allocated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAttentionMatrixCpu, attentionMatrixCpu } from '../../src/engine/cpu/attentionMatrix.ts';
import {
  ATTENTION_MATRIX_MAX_SEQ,
  attention,
  attentionMatrix,
  createGpu,
  type AttentionDims,
  type AttentionSpec,
  type Gpu,
} from '../../src/lib.ts';
import { expectClose, randn } from '../helpers.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createGpu();
});
afterAll(() => gpu?.destroy());

function inputs(dims: AttentionDims, seed: number) {
  const nqk = dims.batch * dims.heads * dims.seq * dims.dim;
  const nv = dims.batch * dims.heads * dims.seq * dims.dimV;
  return { q: randn(nqk, seed, 0.5), k: randn(nqk, seed + 1, 0.5), v: randn(nv, seed + 2) };
}

const specs: AttentionSpec[] = [
  { kind: 'softmax', causal: true },
  { kind: 'softmax', causal: false },
  { kind: 'linear', causal: true },
  { kind: 'linear', causal: false },
  { kind: 'momentum', causal: true, beta: 0.6, gamma: 0.9 },
  { kind: 'momentum', causal: false, beta: 0.3, gamma: 1.7 },
  { kind: 'momentum', causal: true, beta: 0, gamma: 0.5 },
];

const shapes: AttentionDims[] = [
  { batch: 2, heads: 3, seq: 37, dim: 5, dimV: 7 },
  { batch: 1, heads: 2, seq: 50, dim: 21, dimV: 3 },
];

const f64 = (a: Float32Array) => Float64Array.from(a);

describe('attentionMatrix: GPU against the CPU reference, and A v = attention(q, k, v)', () => {
  for (const dims of shapes) {
    const { q, k, v } = inputs(dims, 11);
    it.each(specs)(`%j on [B ${dims.batch}, H ${dims.heads}, N ${dims.seq}, D ${dims.dim}]`, async (spec) => {
      const a = await attentionMatrix(gpu, spec, q, k, dims);
      expect(a).toBeInstanceOf(Float32Array);
      expect(a.length).toBe(dims.batch * dims.heads * dims.seq * dims.seq);
      const ref = attentionMatrixCpu(spec, f64(q), f64(k), dims);
      expectClose(a, ref, { atol: 1e-6, rtol: 1e-4, label: 'A' });

      const n = dims.seq;
      for (let h = 0; h < dims.batch * dims.heads; h++) {
        for (let i = 0; i < n; i++) {
          let sum = 0;
          for (let j = 0; j < n; j++) {
            const x = a[(h * n + i) * n + j]!;
            if (spec.causal && j > i) expect(x).toBe(0);
            sum += x;
          }
          if (spec.kind !== 'momentum') expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
        }
      }

      // The strong check: the matrix times v is attention's output (GPU and CPU matrices both).
      const out = await attention(gpu, spec, q, k, v, dims);
      expectClose(applyAttentionMatrixCpu(f64(a), f64(v), dims), out, { atol: 2e-5, rtol: 2e-4, label: 'GPU A v' });
      expectClose(applyAttentionMatrixCpu(ref, f64(v), dims), out, { atol: 2e-5, rtol: 2e-4, label: 'CPU A v' });
    });
  }

  // Key padding: each example's rows and columns past its length are 0, the rest is the matrix of
  // the example alone, and A v is attention's output with the same lengths.
  it.each(specs)('%j with key-padding lengths', async (spec) => {
    const dims: AttentionDims = { batch: 3, heads: 2, seq: 37, dim: 5, dimV: 7 };
    const lengths = [37, 1, 20];
    const { q, k, v } = inputs(dims, 13);
    const a = await attentionMatrix(gpu, spec, q, k, dims, lengths);
    const ref = attentionMatrixCpu(spec, f64(q), f64(k), dims, lengths);
    expectClose(a, ref, { atol: 1e-6, rtol: 1e-4, label: 'A' });
    const n = dims.seq;
    const per = dims.heads * n * dims.dim;
    for (let b = 0; b < dims.batch; b++) {
      const nb = lengths[b]!;
      const alone = { ...dims, batch: 1, seq: nb };
      const sub = (x: Float32Array) => {
        const y = new Float32Array(dims.heads * nb * dims.dim);
        for (let h = 0; h < dims.heads; h++) y.set(x.subarray(b * per + h * n * dims.dim, b * per + (h * n + nb) * dims.dim), h * nb * dims.dim);
        return y;
      };
      const own = attentionMatrixCpu(spec, f64(sub(q)), f64(sub(k)), alone);
      for (let h = 0; h < dims.heads; h++) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const x = a[((b * dims.heads + h) * n + i) * n + j]!;
            const want = i < nb && j < nb ? own[(h * nb + i) * nb + j]! : 0;
            if (Math.abs(x - want) > 1e-6 + 1e-4 * Math.abs(want)) {
              throw new Error(`example ${b} head ${h} A[${i}, ${j}] = ${x}; alone it is ${want}`);
            }
          }
        }
      }
    }
    const out = await attention(gpu, spec, q, k, v, dims, lengths);
    expectClose(applyAttentionMatrixCpu(f64(a), f64(v), dims), out, { atol: 2e-5, rtol: 2e-4, label: 'GPU A v' });
  });

  it('the longest sequence it accepts (N = 1024, beta = 0.99) matches the reference', async () => {
    const dims = { batch: 1, heads: 1, seq: ATTENTION_MATRIX_MAX_SEQ, dim: 3, dimV: 2 };
    const { q, k, v } = inputs(dims, 5);
    const spec: AttentionSpec = { kind: 'momentum', causal: true, beta: 0.99, gamma: 0.6 };
    const a = await attentionMatrix(gpu, spec, q, k, dims);
    expectClose(a, attentionMatrixCpu(spec, f64(q), f64(k), dims), { atol: 1e-6, rtol: 2e-4, label: 'A' });
    const out = await attention(gpu, spec, q, k, v, dims);
    expectClose(applyAttentionMatrixCpu(f64(a), f64(v), dims), out, { atol: 1e-4, rtol: 1e-3, label: 'A v' });
  });
});

describe('attentionMatrix: invalid input throws what is wrong', () => {
  const dims: AttentionDims = { batch: 2, heads: 3, seq: 37, dim: 5, dimV: 7 };
  const { q, k } = inputs(dims, 3);
  const bad: [string, () => Promise<unknown>, RegExp][] = [
    ['beta >= 1', () => attentionMatrix(gpu, { kind: 'momentum', causal: true, beta: 1, gamma: 1 }, q, k, dims), /beta must be in \[0, 1\)/],
    ['negative beta', () => attentionMatrix(gpu, { kind: 'momentum', causal: true, beta: -0.1 }, q, k, dims), /beta must be in \[0, 1\)/],
    ['gamma <= 0', () => attentionMatrix(gpu, { kind: 'momentum', causal: true, gamma: 0 }, q, k, dims), /gamma .*must be > 0/],
    ['beta on softmax', () => attentionMatrix(gpu, { kind: 'softmax', causal: true, beta: 0.5 }, q, k, dims), /momentum attention only/],
    ['unknown kind', () => attentionMatrix(gpu, { kind: 'cosine' as never, causal: true }, q, k, dims), /kind must be one of softmax, linear, momentum/],
    ['causal missing', () => attentionMatrix(gpu, { kind: 'linear' } as never, q, k, dims), /'causal' must be true or false/],
    ['short q', () => attentionMatrix(gpu, { kind: 'linear', causal: true }, q.subarray(1), k, dims), /q has 1109 values but dims .* need 1110/],
    ['long k', () => attentionMatrix(gpu, { kind: 'linear', causal: true }, q, new Float32Array(1111), dims), /k has 1111 values/],
    ['not a Float32Array', () => attentionMatrix(gpu, { kind: 'linear', causal: true }, Array.from(q) as never, k, dims), /q must be a Float32Array/],
    ['zero heads', () => attentionMatrix(gpu, { kind: 'linear', causal: true }, q, k, { ...dims, heads: 0 }), /dims.heads must be a positive integer/],
    ['dimV missing', () => attentionMatrix(gpu, { kind: 'linear', causal: true }, q, k, { ...dims, dimV: undefined } as never), /dims.dimV must be a positive integer/],
    [
      'seq over the limit',
      () => attentionMatrix(gpu, { kind: 'softmax', causal: true }, new Float32Array(0), new Float32Array(0), { ...dims, seq: 1025 }),
      /seq 1025 is over the limit of 1024/,
    ],
    [
      'matrix over the buffer limit',
      () =>
        attentionMatrix(gpu, { kind: 'softmax', causal: true }, new Float32Array(0), new Float32Array(0), {
          batch: 64, heads: 16, seq: 1024, dim: 8, dimV: 8,
        }),
      /the matrix \[64, 16, 1024, 1024\] needs 4294967296 bytes, over this device's buffer limit of \d+ bytes/,
    ],
  ];
  it.each(bad)('%s', async (_, call, message) => {
    await expect(call()).rejects.toThrow(message);
  });
});
