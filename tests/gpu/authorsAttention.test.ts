// Momentum attention under the authors'-code weighting on the GPU (ops/authorsAttention.ts: the
// scaling of shaders/authors_weights.wgsl composed with linear attention) against its CPU
// reference, on odd shapes, causal and not, with each kernel variant of the linear attention
// forced; a directional check of the backward; the scaling alone on a long sequence at beta = 0.99
// (the weights' Horner and closed forms); the spec's `weights` through the library; bad input.
import { describe, expect, it } from 'vitest';
import { authorsAttentionBackwardCpu, authorsAttentionCpu, scaleByAuthorsWeightsCpu } from '../../src/engine/cpu/authorsAttention.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import type { AttentionDims, LinearAttentionVariant } from '../../src/engine/kernels/linearAttention.ts';
import { attention as attentionOp } from '../../src/engine/ops/attention.ts';
import { authorsMomentumAttention, scaleByAuthorsWeights } from '../../src/engine/ops/authorsAttention.ts';
import { Tape, empty, fromArray, variable } from '../../src/engine/tensor.ts';
import { attention, attentionBackward, type AttentionSpec } from '../../src/lib.ts';
import { checkDirectional, expectClose, randn, toF64, useGpu } from '../helpers.ts';

interface Case {
  dims: AttentionDims;
  causal: boolean;
  beta: number;
  gamma: number;
  variant: LinearAttentionVariant;
  chunk?: number;
}

function inputs(dims: AttentionDims, seed: number) {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = dims;
  return {
    q: randn(b * h * n * d, seed, 0.7),
    k: randn(b * h * n * d, seed + 1, 0.7),
    v: randn(b * h * n * e, seed + 2),
    dout: randn(b * h * n * e, seed + 3),
  };
}

/** The op's forward, and with dout its backward through the tape; everything read back. */
async function run(gpu: Gpu, c: Case, x: { q: Float32Array; k: Float32Array; v: Float32Array }, dout?: Float32Array) {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = c.dims;
  const tape = new Tape(gpu);
  const q = variable(gpu, x.q, [b, h, n, d], 'test.q');
  const k = variable(gpu, x.k, [b, h, n, d], 'test.k');
  const v = variable(gpu, x.v, [b, h, n, e], 'test.v');
  try {
    const out = authorsMomentumAttention(tape, q, k, v, { causal: c.causal, beta: c.beta, gamma: c.gamma, variant: c.variant, chunk: c.chunk });
    const res: { out: Float32Array; dq?: Float32Array; dk?: Float32Array; dv?: Float32Array } = { out: await out.read() };
    if (dout) {
      tape.backward(out, tape.own(fromArray(gpu, dout, [b, h, n, e], 'test.dout')));
      [res.dq, res.dk, res.dv] = await Promise.all([q.grad!.read(), k.grad!.read(), v.grad!.read()]);
    }
    return res;
  } finally {
    tape.dispose();
    for (const t of [q, k, v]) t.dispose();
  }
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** float32 GPU against the float64 reference, relative to the reference's largest value. */
function close(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expectClose(actual, expected, { atol: tol * Math.max(maxAbs(expected), 1), rtol: tol, label });
}

function describeCase(c: Case): string {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = c.dims;
  return `${c.variant}: B=${b} H=${h} N=${n} D=${d} Dv=${e}, ${c.causal ? 'causal' : 'non-causal'}, beta ${c.beta}, gamma ${c.gamma}${c.chunk ? `, C=${c.chunk}` : ''}`;
}

const dims = (batch: number, heads: number, seq: number, dim: number, dimV: number): AttentionDims => ({ batch, heads, seq, dim, dimV });

// Odd sizes: N = 37 spans chunks of 16 and 32 with a short last one; N = 1; N = 70 with D = 33
// (two feature slices) at beta = 0.99, where the first key's weight is about 50 times the last's.
const CASES: { dims: AttentionDims; beta: number; gamma: number; directional: boolean }[] = [
  { dims: dims(2, 3, 37, 5, 7), beta: 0.6, gamma: 0.9, directional: true },
  { dims: dims(1, 2, 1, 5, 7), beta: 0.6, gamma: 0.9, directional: false },
  { dims: dims(1, 1, 70, 33, 3), beta: 0.99, gamma: 0.6, directional: false },
];

describe("authors'-code momentum attention on the GPU vs the CPU reference", () => {
  const gpu = useGpu();

  for (const variant of ['gpu', 'swiftshader'] as const) {
    for (const causal of [true, false]) {
      CASES.forEach(({ dims: d, beta, gamma, directional }, ci) => {
        const c: Case = { dims: d, causal, beta, gamma, variant, ...(ci === 0 && variant === 'gpu' ? { chunk: 16 } : {}) };
        it(describeCase(c), async () => {
          const x = inputs(d, 100 + ci);
          const res = await run(gpu(), c, x, x.dout);
          const p = { dims: d, causal, beta, gamma, q: toF64(x.q), k: toF64(x.k), v: toF64(x.v) };
          close('out', res.out, authorsAttentionCpu(p));
          const g = authorsAttentionBackwardCpu({ ...p, dout: toF64(x.dout) });
          close('dq', res.dq!, g.dq);
          close('dk', res.dk!, g.dk);
          close('dv', res.dv!, g.dv);
          if (directional && causal) {
            await checkDirectional({
              forward: async ([q, k, v]) => (await run(gpu(), c, { q: q!, k: k!, v: v! })).out,
              inputs: [x.q, x.k, x.v],
              grads: [res.dq!, res.dk!, res.dv!],
              dout: x.dout,
              label: describeCase(c),
            });
          }
        });
      });
    }
  }

  it('the scaling alone: N = 300, beta = 0.99 (short lags by Horner, long ones closed), and its backward', async () => {
    const [bh, n, e] = [3, 300, 5];
    const x = randn(bh * n * e, 7);
    const dy = randn(bh * n * e, 8);
    const tape = new Tape(gpu());
    const v = variable(gpu(), x, [1, bh, n, e], 'v');
    const wv = scaleByAuthorsWeights(tape, v, { beta: 0.99, gamma: 0.6 });
    tape.backward(wv, tape.own(fromArray(gpu(), dy, [1, bh, n, e], 'dy')));
    const p = { bh, seq: n, width: e, beta: 0.99, gamma: 0.6 };
    expectClose(await wv.read(), scaleByAuthorsWeightsCpu(toF64(x), p), { atol: 1e-6, rtol: 2e-6, label: 'w v' });
    expectClose(await v.grad!.read(), scaleByAuthorsWeightsCpu(toF64(dy), p), { atol: 1e-6, rtol: 2e-6, label: 'dv = w dy' });
    tape.dispose();
    v.dispose();
  });

  it("attention() with weights 'authors-code' is this op; 'recurrence' is the default momentum attention", async () => {
    const d = dims(1, 2, 19, 4, 3);
    const x = inputs(d, 300);
    const spec: AttentionSpec = { kind: 'momentum', causal: true, beta: 0.6, gamma: 0.9, weights: 'authors-code' };
    const out = await attention(gpu(), spec, x.q, x.k, x.v, d);
    const p = { dims: d, causal: true, beta: 0.6, gamma: 0.9, q: toF64(x.q), k: toF64(x.k), v: toF64(x.v) };
    close('lib attention', out, authorsAttentionCpu(p));
    const g = await attentionBackward(gpu(), spec, x.q, x.k, x.v, x.dout, d);
    const ref = authorsAttentionBackwardCpu({ ...p, dout: toF64(x.dout) });
    close('lib dq', g.dq, ref.dq);
    close('lib dk', g.dk, ref.dk);
    close('lib dv', g.dv, ref.dv);
    const rec = await attention(gpu(), { ...spec, weights: 'recurrence' }, x.q, x.k, x.v, d);
    const plain = await attention(gpu(), { kind: 'momentum', causal: true, beta: 0.6, gamma: 0.9 }, x.q, x.k, x.v, d);
    expect(rec).toEqual(plain);
    // The two weightings agree at the last query only.
    const last = (a: Float32Array, h: number) => a.subarray((h * 19 + 18) * 3, (h * 19 + 19) * 3);
    for (const h of [0, 1]) close('last query', last(out, h), last(rec, h), 1e-5);
    expect(Math.abs(out[0]! - rec[0]!)).toBeGreaterThan(1e-3);
  });
});

describe("authors'-code weights: bad input is refused, naming it, before anything is allocated", () => {
  const gpu = useGpu();
  const d = dims(1, 2, 9, 3, 4);
  const q = () => new Float32Array(1 * 2 * 9 * 3);
  const v = () => new Float32Array(1 * 2 * 9 * 4);

  const badSpecs: [string, AttentionSpec, RegExp][] = [
    ['an unknown weighting', { kind: 'momentum', causal: true, weights: 'paper' as never }, /attention 'weights' must be one of recurrence, authors-code; got "paper"/],
    ['weights on linear attention', { kind: 'linear', causal: true, weights: 'authors-code' }, /attention 'weights' applies to momentum attention only, not 'linear'/],
    ['weights on softmax attention', { kind: 'softmax', causal: false, weights: 'recurrence' }, /attention 'weights' applies to momentum attention only, not 'softmax'/],
    ['beta = 1', { kind: 'momentum', causal: true, beta: 1, weights: 'authors-code' }, /beta must be in \[0, 1\)/],
  ];
  it.each(badSpecs)('lib attention: %s', async (_, spec, msg) => {
    await expect(attention(gpu(), spec, q(), q(), v(), d)).rejects.toThrow(msg);
  });

  const badOpts: [string, Record<string, unknown>, RegExp][] = [
    ['beta = 1', { beta: 1 }, /authorsMomentumAttention: momentum beta must be a number in \[0, 1\)/],
    ['gamma = 0', { gamma: 0 }, /authorsMomentumAttention: momentum gamma \(step size\) must be a finite number > 0; got 0/],
    ['missing causal', { causal: undefined }, /authorsMomentumAttention: causal must be true or false/],
    ['unknown variant', { variant: 'cuda' }, /unknown variant 'cuda'/],
    ['bad chunk', { chunk: 48 }, /chunk must be one of 16, 32, 64; got 48/],
  ];
  for (const [name, override, msg] of badOpts) {
    it(`authorsMomentumAttention: ${name}`, () => {
      const tape = new Tape(gpu());
      const tq = empty(gpu(), [1, 2, 9, 3], 'q');
      const tv = empty(gpu(), [1, 2, 9, 4], 'v');
      const before = gpu().pool.inUseBytes;
      expect(() => authorsMomentumAttention(tape, tq, tq, tv, { causal: true, beta: 0.5, gamma: 1, ...override } as never)).toThrow(msg);
      expect(gpu().pool.inUseBytes).toBe(before);
      tape.dispose();
      tq.dispose();
      tv.dispose();
    });
  }

  it('mismatched shapes and a v of the wrong rank', () => {
    const tape = new Tape(gpu());
    const tq = empty(gpu(), [1, 2, 9, 3], 'q');
    const tk = empty(gpu(), [1, 2, 8, 3], 'k');
    const tv = empty(gpu(), [1, 2, 9, 4], 'v');
    const v3 = empty(gpu(), [2, 9, 4], 'v3');
    const before = gpu().pool.inUseBytes;
    const opts = { causal: true, beta: 0.5, gamma: 1 };
    expect(() => authorsMomentumAttention(tape, tq, tk, tv, opts)).toThrow(/k has shape \[1, 2, 8, 3\]; q has \[1, 2, 9, 3\]/);
    expect(() => authorsMomentumAttention(tape, tq, tq, v3, opts)).toThrow(/v 'v3' must have rank 4/);
    expect(() => scaleByAuthorsWeights(tape, tv, { beta: 1.5, gamma: 1 })).toThrow(/scaleByAuthorsWeights: momentum beta must be a number in \[0, 1\)/);
    expect(() => attentionOp(tape, { kind: 'linear', causal: true, weights: 'authors-code' }, tq, tq, tv)).toThrow(/applies to momentum attention only/);
    expect(gpu().pool.inUseBytes).toBe(before);
    tape.dispose();
    for (const t of [tq, tk, tv, v3]) t.dispose();
  });
});
