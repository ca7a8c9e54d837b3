// Key-padding lengths for the encoder (right-padded batches, e.g. ListOps): with lengths, every
// example's output and gradients must equal running that example alone at its own length, the
// padding rows must be 0 and receive no gradient, and what the padding holds must change nothing.
// All three kinds, causal and not, both kernel variants forced, odd shapes, lengths that end on,
// just past and inside a chunk (16, 33), down to a single token.
import { describe, expect, it } from 'vitest';
import { momentumClosedBackwardCpu, momentumClosedCpu } from '../../src/engine/cpu/linearAttention.ts';
import { softmaxAttentionBackwardCpu, softmaxAttentionForwardCpu } from '../../src/engine/cpu/softmaxAttention.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import type { AttentionDims } from '../../src/engine/check.ts';
import { attention } from '../../src/engine/ops/attention.ts';
import { linearAttention, momentumAttention } from '../../src/engine/ops/linearAttention.ts';
import { softmaxAttention } from '../../src/engine/ops/softmaxAttention.ts';
import { Tape, fromArray, variable, type Tensor } from '../../src/engine/tensor.ts';
import type { Variant } from '../../src/engine/variants.ts';
import { checkDirectional, expectClose, randn, toF64, uniform, useGpu } from '../helpers.ts';

type Kind = 'softmax' | 'linear' | 'momentum';
const KINDS: Kind[] = ['softmax', 'linear', 'momentum'];
const VARIANTS: Variant[] = ['gpu', 'swiftshader'];
const BETA = 0.6;
const GAMMA = 0.9;

interface Data {
  q: Float32Array; // [B, H, N, D]
  k: Float32Array; // [B, H, N, D]
  v: Float32Array; // [B, H, N, Dv]
  dOut: Float32Array; // [B, H, N, Dv]
}

interface Result {
  out: Float32Array;
  dq: Float32Array;
  dk: Float32Array;
  dv: Float32Array;
}

function makeData(d: AttentionDims, seed: number): Data {
  const rows = d.batch * d.heads * d.seq;
  return {
    q: randn(rows * d.dim, seed, 0.7),
    k: randn(rows * d.dim, seed + 1, 0.7),
    v: uniform(rows * d.dimV, seed + 2),
    dOut: randn(rows * d.dimV, seed + 3),
  };
}

function op(tape: Tape, kind: Kind, causal: boolean, variant: Variant, q: Tensor, k: Tensor, v: Tensor, lengths?: Tensor): Tensor {
  if (kind === 'softmax') return softmaxAttention(tape, q, k, v, { causal, variant, lengths });
  if (kind === 'linear') return linearAttention(tape, q, k, v, { causal, variant, lengths });
  return momentumAttention(tape, q, k, v, { causal, beta: BETA, gamma: GAMMA, variant, lengths });
}

async function run(gpu: Gpu, kind: Kind, causal: boolean, variant: Variant, d: AttentionDims, x: Data, lengths: number[] | null): Promise<Result> {
  const qk = [d.batch, d.heads, d.seq, d.dim];
  const vs = [d.batch, d.heads, d.seq, d.dimV];
  const tape = new Tape(gpu);
  const q = tape.own(variable(gpu, x.q, qk, 'q'));
  const k = tape.own(variable(gpu, x.k, qk, 'k'));
  const v = tape.own(variable(gpu, x.v, vs, 'v'));
  const len = lengths ? tape.own(fromArray(gpu, Uint32Array.from(lengths), [d.batch], 'lengths')) : undefined;
  try {
    const out = op(tape, kind, causal, variant, q, k, v, len);
    tape.backward(out, tape.own(fromArray(gpu, x.dOut, vs, 'dOut')));
    const [o, dq, dk, dv] = await Promise.all([out.read(), q.grad!.read(), k.grad!.read(), v.grad!.read()]);
    return { out: o, dq, dk, dv };
  } finally {
    tape.dispose();
    for (const t of [q, k, v]) t.grad = null;
  }
}

/** The gradient of one input alone (the other two are constants, so their passes are skipped). */
async function runOne(gpu: Gpu, kind: Kind, causal: boolean, variant: Variant, d: AttentionDims, x: Data, lengths: number[] | null, name: 'dq' | 'dk' | 'dv'): Promise<Float32Array> {
  const qk = [d.batch, d.heads, d.seq, d.dim];
  const vs = [d.batch, d.heads, d.seq, d.dimV];
  const tape = new Tape(gpu);
  const input = (want: boolean, data: Float32Array, shape: number[], label: string) =>
    tape.own(want ? variable(gpu, data, shape, label) : fromArray(gpu, data, shape, label));
  const q = input(name === 'dq', x.q, qk, 'q');
  const k = input(name === 'dk', x.k, qk, 'k');
  const v = input(name === 'dv', x.v, vs, 'v');
  const len = lengths ? tape.own(fromArray(gpu, Uint32Array.from(lengths), [d.batch], 'lengths')) : undefined;
  try {
    const out = op(tape, kind, causal, variant, q, k, v, len);
    tape.backward(out, tape.own(fromArray(gpu, x.dOut, vs, 'dOut')));
    const wanted = { dq: q, dk: k, dv: v }[name];
    for (const t of [q, k, v]) if (t !== wanted) expect(t.grad).toBeNull();
    return await wanted.grad!.read();
  } finally {
    tape.dispose();
    for (const t of [q, k, v]) t.grad = null;
  }
}

/** Example b's first `len` tokens of x [B, H, N, W] as [1, H, len, W]. */
function slice(x: Float32Array, d: AttentionDims, width: number, b: number, len: number): Float32Array {
  const out = new Float32Array(d.heads * len * width);
  for (let h = 0; h < d.heads; h++) {
    const from = ((b * d.heads + h) * d.seq) * width;
    out.set(x.subarray(from, from + len * width), h * len * width);
  }
  return out;
}

/** Example b's rows of x [B, H, N, W]: the first `len` tokens, then the padding. */
function rowsOf(x: Float32Array, d: AttentionDims, width: number, b: number, len: number): { valid: Float32Array; pad: Float32Array } {
  const valid = slice(x, d, width, b, len);
  const pad = new Float32Array(d.heads * (d.seq - len) * width);
  for (let h = 0; h < d.heads; h++) {
    const from = ((b * d.heads + h) * d.seq + len) * width;
    pad.set(x.subarray(from, from + (d.seq - len) * width), h * (d.seq - len) * width);
  }
  return { valid, pad };
}

/** x with every padding token (t >= lengths[b]) replaced by fresh random values. */
function repad(x: Float32Array, d: AttentionDims, width: number, lengths: number[], seed: number): Float32Array {
  const y = x.slice();
  const noise = randn(x.length, seed, 3);
  for (let b = 0; b < d.batch; b++) {
    for (let h = 0; h < d.heads; h++) {
      for (let t = lengths[b]!; t < d.seq; t++) {
        const at = ((b * d.heads + h) * d.seq + t) * width;
        y.set(noise.subarray(at, at + width), at);
      }
    }
  }
  return y;
}

function cpu(kind: Kind, causal: boolean, d: AttentionDims, x: Data, lengths: number[]) {
  const [q, k, v, dOut] = [toF64(x.q), toF64(x.k), toF64(x.v), toF64(x.dOut)];
  if (kind === 'softmax') {
    const out = new Float64Array(v.length); // [B, H, N, Dv]
    const lse = new Float64Array(d.batch * d.heads * d.seq); // [B, H, N]
    softmaxAttentionForwardCpu({ q, k, v, out, lse, dims: d, causal, lengths });
    const dq = new Float64Array(q.length);
    const dk = new Float64Array(k.length);
    const dv = new Float64Array(v.length);
    softmaxAttentionBackwardCpu({ q, k, v, out, lse, dOut, dq, dk, dv, dims: d, causal, lengths });
    return { out, dq, dk, dv };
  }
  const p = kind === 'linear' ? { beta: 0, gamma: 1 } : { beta: BETA, gamma: GAMMA };
  const out = momentumClosedCpu({ q, k, v, dims: d, causal, lengths, ...p });
  return { out, ...momentumClosedBackwardCpu({ q, k, v, dims: d, causal, lengths, dout: dOut, ...p }) };
}

const WIDTH = { out: 'dimV', dq: 'dim', dk: 'dim', dv: 'dimV' } as const;
const NAMES = ['out', 'dq', 'dk', 'dv'] as const;

// B = 4, H = 2, N = 70 (chunks of 16 or 32 end at 16, 32, 48, 64), D = 5, Dv = 7.
const DIMS: AttentionDims = { batch: 4, heads: 2, seq: 70, dim: 5, dimV: 7 };
const LENGTHS = [70, 1, 33, 16];

describe('attention with key-padding lengths', () => {
  const gpu = useGpu();

  for (const kind of KINDS) {
    for (const causal of [false, true]) {
      it(`${kind}, ${causal ? 'causal' : 'non-causal'}: each example equals itself alone; padding is inert`, async () => {
        const d = DIMS;
        const x = makeData(d, 101);
        const ref = cpu(kind, causal, d, x, LENGTHS);
        for (const variant of VARIANTS) {
          const label = `${kind} ${variant} causal=${causal}`;
          const got = await run(gpu(), kind, causal, variant, d, x, LENGTHS);
          for (const name of NAMES) expectClose(got[name], ref[name], { atol: 2e-5, rtol: 2e-4, label: `${label} ${name} vs CPU` });
          // What the padding holds (inputs and upstream gradient alike) changes nothing at all.
          const y: Data = {
            q: repad(x.q, d, d.dim, LENGTHS, 7),
            k: repad(x.k, d, d.dim, LENGTHS, 8),
            v: repad(x.v, d, d.dimV, LENGTHS, 9),
            dOut: repad(x.dOut, d, d.dimV, LENGTHS, 10),
          };
          const again = await run(gpu(), kind, causal, variant, d, y, LENGTHS);
          for (const name of NAMES) expectClose(again[name], got[name], { atol: 0, rtol: 0, label: `${label} ${name} repadded` });
          for (let b = 0; b < d.batch; b++) {
            const n = LENGTHS[b]!;
            const alone = await run(gpu(), kind, causal, variant, { ...d, batch: 1, seq: n }, {
              q: slice(x.q, d, d.dim, b, n),
              k: slice(x.k, d, d.dim, b, n),
              v: slice(x.v, d, d.dimV, b, n),
              dOut: slice(x.dOut, d, d.dimV, b, n),
            }, null);
            for (const name of NAMES) {
              const rows = rowsOf(got[name], d, d[WIDTH[name]], b, n);
              expectClose(rows.valid, alone[name], { atol: 1e-5, rtol: 1e-4, label: `${label} ${name} example ${b} vs alone` });
              expect(rows.pad.every((z) => z === 0), `${label} ${name} example ${b}: padding rows are 0`).toBe(true);
            }
          }
        }
      });
    }
  }

  // Several column blocks and accumulator slots per thread (D = 33, Dv = 66), a chunk split by
  // a length (17) and an example that ends one token short of N.
  for (const kind of KINDS) {
    it(`${kind}, non-causal, D=33 Dv=66: matches the CPU with lengths`, async () => {
      const d: AttentionDims = { batch: 3, heads: 1, seq: 45, dim: 33, dimV: 66 };
      const lengths = [44, 17, 45];
      const x = makeData(d, 77);
      const ref = cpu(kind, false, d, x, lengths);
      for (const variant of VARIANTS) {
        const got = await run(gpu(), kind, false, variant, d, x, lengths);
        for (const name of NAMES) expectClose(got[name], ref[name], { atol: 5e-5, rtol: 5e-4, label: `${kind} ${variant} ${name}` });
      }
    });
  }

  for (const kind of KINDS) {
    for (const variant of VARIANTS) {
      it(`${kind} ${variant}: the backward with lengths matches directional derivatives of the forward`, async () => {
        const d: AttentionDims = { batch: 3, heads: 2, seq: 37, dim: 5, dimV: 7 };
        const lengths = [37, 5, 18];
        const x = makeData(d, 55);
        const g = await run(gpu(), kind, false, variant, d, x, lengths);
        await checkDirectional({
          forward: async ([q, k, v]) => (await run(gpu(), kind, false, variant, d, { ...x, q: q!, k: k!, v: v! }, lengths)).out,
          inputs: [x.q, x.k, x.v],
          grads: [g.dq, g.dk, g.dv],
          dout: x.dOut,
          label: `${kind} ${variant} lengths`,
        });
      });
    }
  }

  // One gradient at a time: dk without dv and dv without dk take their own row kernels
  // (attend_rows_dk, attend_rows_dv; with both wanted it is attend_rows_dkv), masked or not.
  for (const kind of ['linear', 'momentum'] as const) {
    it(`${kind}: each gradient alone matches the CPU, with lengths and without`, async () => {
      const d: AttentionDims = { batch: 2, heads: 1, seq: 37, dim: 5, dimV: 7 };
      const x = makeData(d, 91);
      for (const causal of [false, true]) {
        for (const lengths of [[37, 37], [37, 18]]) {
          const ref = cpu(kind, causal, d, x, lengths);
          const masked = lengths[1] !== d.seq;
          for (const variant of VARIANTS) {
            for (const name of ['dq', 'dk', 'dv'] as const) {
              const got = await runOne(gpu(), kind, causal, variant, d, x, masked ? lengths : null, name);
              expectClose(got, ref[name], { atol: 2e-5, rtol: 2e-4, label: `${kind} ${variant} causal=${causal} ${lengths} ${name} alone` });
            }
          }
        }
      }
    });
  }

  it('the attention op refuses lengths that are not u32 [B]', () => {
    const g = gpu();
    const d = DIMS;
    const tape = new Tape(g, { grad: false });
    const x = makeData(d, 3);
    const q = tape.own(fromArray(g, x.q, [d.batch, d.heads, d.seq, d.dim], 'q'));
    const k = tape.own(fromArray(g, x.k, [d.batch, d.heads, d.seq, d.dim], 'k'));
    const v = tape.own(fromArray(g, x.v, [d.batch, d.heads, d.seq, d.dimV], 'v'));
    const f32 = tape.own(fromArray(g, new Float32Array(d.batch).fill(3), [d.batch], 'lengthsF32'));
    const short = tape.own(fromArray(g, new Uint32Array(d.batch - 1).fill(3), [d.batch - 1], 'lengthsShort'));
    try {
      for (const kind of KINDS) {
        const spec = kind === 'momentum' ? { kind, causal: false, beta: 0.5 } : { kind, causal: false };
        expect(() => attention(tape, spec, q, k, v, f32)).toThrow(/lengths 'lengthsF32' must be u32/);
        expect(() => attention(tape, spec, q, k, v, short)).toThrow(/lengths 'lengthsShort' must hold 4 values/);
      }
    } finally {
      tape.dispose();
    }
  });
});
