// The library entry point as researchers call it: plain Float32Arrays in and out, the three kinds
// against their CPU references (causal and not, odd shapes, dimV != dim), and errors that say what is
// wrong before anything is allocated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lin from '../../src/engine/cpu/linearAttention.ts';
import { softmaxAttentionBackwardCpu, softmaxAttentionForwardCpu } from '../../src/engine/cpu/softmaxAttention.ts';
import { attention, attentionBackward, createGpu, type AttentionDims, type AttentionSpec, type Gpu } from '../../src/lib.ts';
import { expectClose, randn } from '../helpers.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createGpu();
});
afterAll(() => gpu?.destroy());

const dims: AttentionDims = { batch: 2, heads: 3, seq: 37, dim: 5, dimV: 7 };
const sizeQK = dims.batch * dims.heads * dims.seq * dims.dim;
const sizeV = dims.batch * dims.heads * dims.seq * dims.dimV;
const q = randn(sizeQK, 1, 0.5);
const k = randn(sizeQK, 2, 0.5);
const v = randn(sizeV, 3);
const dOut = randn(sizeV, 4);

/** Key-padding lengths of the batch of 2: one example full, one padded after 11 tokens. */
const LENGTHS = [37, 11];

function reference(spec: AttentionSpec, lengths?: number[]) {
  const f64 = (a: Float32Array) => Float64Array.from(a);
  if (spec.kind === 'softmax') {
    const out = new Float64Array(sizeV);
    const lse = new Float64Array(sizeV / dims.dimV);
    const args = { q: f64(q), k: f64(k), v: f64(v), out, lse, dims, causal: spec.causal, lengths };
    softmaxAttentionForwardCpu(args);
    const g = { dq: new Float64Array(sizeQK), dk: new Float64Array(sizeQK), dv: new Float64Array(sizeV) };
    softmaxAttentionBackwardCpu({ ...args, dOut: f64(dOut), ...g });
    return { out, ...g };
  }
  const p = spec.kind === 'linear' ? { beta: 0, gamma: 1 } : { beta: spec.beta!, gamma: spec.gamma! };
  const a = { q: f64(q), k: f64(k), v: f64(v), dims, causal: spec.causal, lengths, ...p };
  const out = lin.momentumClosedCpu(a);
  return { out, ...lin.momentumClosedBackwardCpu({ ...a, dout: f64(dOut) }) };
}

describe('lib: attention and attentionBackward on plain arrays', () => {
  const specs: AttentionSpec[] = [
    { kind: 'softmax', causal: true },
    { kind: 'softmax', causal: false },
    { kind: 'linear', causal: true },
    { kind: 'linear', causal: false },
    { kind: 'momentum', causal: true, beta: 0.6, gamma: 0.9 },
    { kind: 'momentum', causal: false, beta: 0.3, gamma: 1.7 },
  ];
  it.each(specs)('%j matches the CPU reference', async (spec) => {
    const ref = reference(spec);
    const out = await attention(gpu, spec, q, k, v, dims);
    expect(out).toBeInstanceOf(Float32Array);
    expectClose(out, ref.out, { atol: 2e-5, rtol: 2e-4, label: 'out' });
    const g = await attentionBackward(gpu, spec, q, k, v, dOut, dims);
    expectClose(g.dq, ref.dq, { atol: 1e-4, rtol: 1e-3, label: 'dq' });
    expectClose(g.dk, ref.dk, { atol: 1e-4, rtol: 1e-3, label: 'dk' });
    expectClose(g.dv, ref.dv, { atol: 1e-4, rtol: 1e-3, label: 'dv' });
  });

  it.each(specs)('%j with key-padding lengths matches the CPU reference', async (spec) => {
    const ref = reference(spec, LENGTHS);
    const out = await attention(gpu, spec, q, k, v, dims, Uint32Array.from(LENGTHS));
    expectClose(out, ref.out, { atol: 2e-5, rtol: 2e-4, label: 'out' });
    const g = await attentionBackward(gpu, spec, q, k, v, dOut, dims, LENGTHS);
    expectClose(g.dq, ref.dq, { atol: 1e-4, rtol: 1e-3, label: 'dq' });
    expectClose(g.dk, ref.dk, { atol: 1e-4, rtol: 1e-3, label: 'dk' });
    expectClose(g.dv, ref.dv, { atol: 1e-4, rtol: 1e-3, label: 'dv' });
  });

  it('beta = 0, gamma = 1 momentum attention is linear attention', async () => {
    const a = await attention(gpu, { kind: 'momentum', causal: true, beta: 0, gamma: 1 }, q, k, v, dims);
    const b = await attention(gpu, { kind: 'linear', causal: true }, q, k, v, dims);
    expectClose(a, b, { atol: 1e-6, rtol: 1e-5 });
  });
});

describe('lib: invalid input throws what is wrong', () => {
  const bad: [string, () => Promise<unknown>, RegExp][] = [
    ['beta >= 1', () => attention(gpu, { kind: 'momentum', causal: true, beta: 1, gamma: 1 }, q, k, v, dims), /beta must be in \[0, 1\)/],
    ['negative beta', () => attention(gpu, { kind: 'momentum', causal: true, beta: -0.1 }, q, k, v, dims), /beta must be in \[0, 1\)/],
    ['gamma <= 0', () => attention(gpu, { kind: 'momentum', causal: true, gamma: 0 }, q, k, v, dims), /gamma .*must be > 0/],
    ['beta on softmax', () => attention(gpu, { kind: 'softmax', causal: true, beta: 0.5 }, q, k, v, dims), /momentum attention only/],
    ['unknown kind', () => attention(gpu, { kind: 'cosine' as never, causal: true }, q, k, v, dims), /kind must be one of softmax, linear, momentum/],
    ['causal missing', () => attention(gpu, { kind: 'linear' } as never, q, k, v, dims), /'causal' must be true or false/],
    ['short q', () => attention(gpu, { kind: 'linear', causal: true }, q.subarray(1), k, v, dims), /q has 1109 values but dims .* need 1110/],
    ['short dOut', () => attentionBackward(gpu, { kind: 'linear', causal: true }, q, k, v, dOut.subarray(7), dims), /dOut has 1547 values/],
    ['not a Float32Array', () => attention(gpu, { kind: 'linear', causal: true }, Array.from(q) as never, k, v, dims), /q must be a Float32Array/],
    ['lengths of the wrong count', () => attention(gpu, { kind: 'linear', causal: false }, q, k, v, dims, [37]), /lengths has 1 values; batch is 2/],
    ['a zero length', () => attention(gpu, { kind: 'softmax', causal: false }, q, k, v, dims, [37, 0]), /lengths\[1\] = 0 must be an integer in 1..37/],
    ['a length past seq', () => attentionBackward(gpu, { kind: 'softmax', causal: false }, q, k, v, dOut, dims, [38, 1]), /lengths\[0\] = 38 must be an integer in 1..37/],
    ['a fractional length', () => attention(gpu, { kind: 'momentum', causal: false }, q, k, v, dims, [2.5, 1]), /lengths\[0\] = 2.5 must be an integer/],
    ['lengths as floats', () => attention(gpu, { kind: 'linear', causal: false }, q, k, v, dims, new Float32Array([1, 2]) as never), /lengths must be a Uint32Array or an array of numbers/],
    ['zero heads', () => attention(gpu, { kind: 'linear', causal: true }, q, k, v, { ...dims, heads: 0 }), /dims.heads must be a positive integer/],
    [
      'over the buffer limit',
      () => attention(gpu, { kind: 'linear', causal: true }, new Float32Array(0), k, v, { batch: 1, heads: 1, seq: 2 ** 28, dim: 8, dimV: 8 }),
      /q needs 8589934592 bytes, over this device's buffer limit of \d+ bytes/,
    ],
  ];
  it.each(bad)('%s', async (_, call, message) => {
    await expect(call()).rejects.toThrow(message);
  });
});
