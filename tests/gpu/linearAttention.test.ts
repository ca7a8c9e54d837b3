// GPU linear and momentum attention against the CPU references, on odd shapes, for both kernel
// variants ('gpu': tiled; 'swiftshader': row kernels), causal and not, several beta; directional
// checks of the backward; the differentiable ops; the recurrent state's API; input validation.
// (The identities, N recurrent steps = the parallel forward among them: momentumIdentities.test.ts.)
import { describe, expect, it } from 'vitest';
import { momentumChunkedCpu, momentumClosedBackwardCpu, momentumClosedCpu } from '../../src/engine/cpu/linearAttention.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import {
  MomentumState,
  momentumAttentionBackward,
  momentumAttentionForward,
  momentumChunk,
  momentumSavedShapes,
  planMomentum,
  type AttentionDims,
  type LinearAttentionVariant,
  type MomentumPath,
} from '../../src/engine/kernels/linearAttention.ts';
import type { RowBody } from '../../src/engine/kernels/linear/plan.ts';
import { phiFeatures } from '../../src/engine/kernels/linear/scan.ts';
import { linearAttention, momentumAttention } from '../../src/engine/ops/linearAttention.ts';
import { Tape, empty, fromArray, variable } from '../../src/engine/tensor.ts';
import { checkDirectional, expectClose, randn, toF64, useGpu } from '../helpers.ts';

interface Case {
  dims: AttentionDims;
  causal: boolean;
  beta: number;
  gamma: number;
  variant: LinearAttentionVariant;
  chunk?: number;
  path?: MomentumPath;
  /** The row kernels' body (swiftshader variant); default 'quads'. */
  rows?: RowBody;
}

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  dout: Float32Array;
}

function inputs(dims: AttentionDims, seed: number): Inputs {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = dims;
  return {
    q: randn(b * h * n * d, seed, 0.7),
    k: randn(b * h * n * d, seed + 1, 0.7),
    v: randn(b * h * n * e, seed + 2),
    dout: randn(b * h * n * e, seed + 3),
  };
}

interface GpuResult {
  out: Float32Array;
  states: Float32Array;
  z: Float32Array;
  den: Float32Array;
  dq?: Float32Array;
  dk?: Float32Array;
  dv?: Float32Array;
}

/** The primitives' forward (and backward when dout is given) on uploaded inputs; all read back. */
async function runGpu(gpu: Gpu, c: Case, x: { q: Float32Array; k: Float32Array; v: Float32Array }, dout?: Float32Array) {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = c.dims;
  const cfg = { causal: c.causal, beta: c.beta, gamma: c.gamma, chunk: c.chunk, variant: c.variant, path: c.path, rows: c.rows };
  const momentum = (c.path ?? (c.beta === 0 && c.gamma === 1 ? 'linear' : 'momentum')) === 'momentum';
  const shapes = momentumSavedShapes(c.dims, c.chunk ?? momentumChunk(gpu, c.variant), momentum);
  const q = fromArray(gpu, x.q, [b, h, n, d], 'test.q');
  const k = fromArray(gpu, x.k, [b, h, n, d], 'test.k');
  const v = fromArray(gpu, x.v, [b, h, n, e], 'test.v');
  const out = empty(gpu, [b, h, n, e], 'test.out');
  const saved = {
    states: empty(gpu, shapes.states, 'test.states'),
    z: empty(gpu, shapes.z, 'test.z'),
    den: empty(gpu, shapes.den, 'test.den'),
  };
  momentumAttentionForward(gpu, { q, k, v, out, ...saved, dims: c.dims, ...cfg });
  const res: GpuResult = {
    out: await out.read(),
    states: await saved.states.read(),
    z: await saved.z.read(),
    den: await saved.den.read(),
  };
  const owned = [q, k, v, out, saved.states, saved.z, saved.den];
  if (dout) {
    const tdo = fromArray(gpu, dout, [b, h, n, e], 'test.dout');
    const dq = empty(gpu, [b, h, n, d], 'test.dq');
    const dk = empty(gpu, [b, h, n, d], 'test.dk');
    const dv = empty(gpu, [b, h, n, e], 'test.dv');
    momentumAttentionBackward(gpu, { q, k, v, out, dout: tdo, dq, dk, dv, ...saved, dims: c.dims, ...cfg });
    res.dq = await dq.read();
    res.dk = await dk.read();
    res.dv = await dv.read();
    owned.push(tdo, dq, dk, dv);
  }
  for (const t of owned) t.dispose();
  return res;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * float32 GPU against a float64 reference: error relative to the reference's largest value, at
 * least to 1 (the size of the terms that cancel where a reference is 0, e.g. dq at N = 1).
 */
function close(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expectClose(actual, expected, { atol: tol * Math.max(maxAbs(expected), 1), rtol: tol, label });
}

function describeCase(c: Case): string {
  const { batch: b, heads: h, seq: n, dim: d, dimV: e } = c.dims;
  const extra = [c.chunk ? `C=${c.chunk}` : '', c.path ? `${c.path} path` : '', c.rows ? `${c.rows} body` : ''].filter(Boolean).join(', ');
  return `${c.variant}: B=${b} H=${h} N=${n} D=${d} Dv=${e}, ${c.causal ? 'causal' : 'non-causal'}, beta ${c.beta}, gamma ${c.gamma}${extra ? `, ${extra}` : ''}`;
}

/** Forward, saved tensors and backward against the CPU chunked scan and closed-form backward. */
async function checkCase(gpu: Gpu, c: Case, seed: number, directional: boolean): Promise<void> {
  const x = inputs(c.dims, seed);
  const res = await runGpu(gpu, c, x, x.dout);
  const chunk = c.chunk ?? momentumChunk(gpu, c.variant);
  const p = { dims: c.dims, causal: c.causal, beta: c.beta, gamma: c.gamma };
  const f64 = { q: toF64(x.q), k: toF64(x.k), v: toF64(x.v) };
  const ref = momentumChunkedCpu({ ...p, ...f64, chunk, path: c.path });
  close('out', res.out, ref.out);
  close('states (S, m per entry)', res.states, ref.states);
  close('z', res.z, ref.z);
  close('den', res.den, ref.den);
  const g = momentumClosedBackwardCpu({ ...p, ...f64, dout: toF64(x.dout) });
  close('dq', res.dq!, g.dq);
  close('dk', res.dk!, g.dk);
  close('dv', res.dv!, g.dv);
  if (directional) {
    await checkDirectional({
      forward: async ([q, k, v]) => (await runGpu(gpu, c, { q: q!, k: k!, v: v! })).out,
      inputs: [x.q, x.k, x.v],
      grads: [res.dq!, res.dk!, res.dv!],
      dout: x.dout,
      label: describeCase(c),
    });
  }
}

const dims = (batch: number, heads: number, seq: number, dim: number, dimV: number): AttentionDims => ({
  batch,
  heads,
  seq,
  dim,
  dimV,
});

// Odd sizes, never multiples of a tile: N = 37 spans several chunks (of 16 or 32) with a short
// last one, N = 1, N < C; N = 100 with D = Dv = 70 needs five feature slices, two column blocks of
// attend and two state tiles each way in the tiled chunk sums. (Tiled pipelines take SwiftShader
// ~0.2 s each to compile, so the big shape runs causal only there.) Each variant also runs with
// the chunk lengths it does not use by default.
const SHAPES: { dims: AttentionDims; directional: boolean; nonCausal: boolean }[] = [
  { dims: dims(2, 3, 37, 5, 7), directional: true, nonCausal: true },
  { dims: dims(1, 2, 1, 5, 7), directional: false, nonCausal: true },
  { dims: dims(1, 1, 20, 3, 2), directional: false, nonCausal: true },
  { dims: dims(1, 1, 100, 70, 70), directional: false, nonCausal: false },
];

describe('momentum attention on the GPU vs the CPU references', () => {
  const gpu = useGpu();

  for (const variant of ['gpu', 'swiftshader'] as const) {
    for (const causal of [true, false]) {
      SHAPES.forEach(({ dims: d, directional, nonCausal }, si) => {
        if (!causal && !nonCausal && variant === 'gpu') return;
        const c: Case = { dims: d, causal, beta: 0.6, gamma: 0.9, variant };
        it(describeCase(c), async () => {
          await checkCase(gpu(), c, 100 + si, directional);
        });
      });
    }
    for (const beta of [0, 0.1, 0.9, 0.99]) {
      for (const causal of [true, false]) {
        const c: Case = { dims: dims(1, 2, 45, 6, 5), causal, beta, gamma: beta === 0 ? 1 : 1.7, variant };
        it(describeCase(c), async () => {
          await checkCase(gpu(), c, 200, beta === 0.9);
        });
      }
    }
    for (const chunk of variant === 'gpu' ? [16] : [32, 64]) {
      const c: Case = { dims: dims(1, 1, 150, 5, 7), causal: true, beta: 0.9, gamma: 0.8, variant, chunk };
      it(describeCase(c), async () => {
        await checkCase(gpu(), c, 300, false);
      });
    }
    // Head sizes multiples of 4: the row kernels' aligned vec4 loads (the shapes above shift).
    for (const [causal, beta] of variant === 'swiftshader' ? [[true, 0], [true, 0.7], [false, 0], [false, 0.7]] as const : []) {
      const c: Case = { dims: dims(2, 2, 37, 8, 12), causal, beta, gamma: beta === 0 ? 1 : 1.3, variant };
      it(`vec4 rows: ${describeCase(c)}`, async () => await checkCase(gpu(), c, 500, true));
    }
    const forced: Case = { dims: dims(1, 2, 37, 5, 7), causal: true, beta: 0, gamma: 1, variant, path: 'momentum' };
    it(describeCase(forced), async () => {
      await checkCase(gpu(), forced, 400, false);
    });
  }

  // The row kernels' other body, forced: a thread per row quad (attend_quads.wgsl, dk and dv as two
  // passes); the cases above run the default, a thread per two tokens (attend_rows.wgsl).
  const forced = (c: Omit<Case, 'variant' | 'rows'>): Case => ({ ...c, variant: 'swiftshader', rows: 'quads' });
  const bodyCases: [Case, boolean][] = [
    ...SHAPES.flatMap(({ dims: d, directional, nonCausal }) =>
      [true, ...(nonCausal ? [false] : [])].map((causal): [Case, boolean] => [forced({ dims: d, causal, beta: 0.6, gamma: 0.9 }), directional]),
    ),
    [forced({ dims: dims(1, 2, 45, 6, 5), causal: true, beta: 0, gamma: 1 }), false],
    [forced({ dims: dims(1, 2, 45, 6, 5), causal: true, beta: 0.9, gamma: 1.7 }), true],
    [forced({ dims: dims(1, 1, 150, 5, 7), causal: true, beta: 0.9, gamma: 0.8, chunk: 64 }), false],
    [forced({ dims: dims(2, 2, 37, 8, 12), causal: true, beta: 0.7, gamma: 1.3 }), false],
    [forced({ dims: dims(2, 2, 37, 8, 12), causal: false, beta: 0.7, gamma: 1.3 }), false],
  ];
  bodyCases.forEach(([c, directional], i) => {
    it(describeCase(c), async () => await checkCase(gpu(), c, 600 + i, directional));
  });

  // dk or dv alone (the pairs body then runs attend_rows_dk or attend_rows_dv, not dkv).
  for (const rows of ['pairs', 'quads'] as const) {
    for (const causal of [true, false]) {
      const c: Case = { dims: dims(2, 2, 29, 6, 5), causal, beta: 0.7, gamma: 1.3, variant: 'swiftshader', rows };
      it(`one gradient at a time: ${describeCase(c)}`, async () => {
        const g = gpu();
        const x = inputs(c.dims, 700);
        const { batch: b, heads: h, seq: n, dim: d, dimV: e } = c.dims;
        const cfg = { causal, beta: c.beta, gamma: c.gamma, variant: c.variant, rows };
        const shapes = momentumSavedShapes(c.dims, momentumChunk(g, c.variant), true);
        const q = fromArray(g, x.q, [b, h, n, d], 'q');
        const k = fromArray(g, x.k, [b, h, n, d], 'k');
        const v = fromArray(g, x.v, [b, h, n, e], 'v');
        const dout = fromArray(g, x.dout, [b, h, n, e], 'dout');
        const out = empty(g, [b, h, n, e], 'out');
        const saved = { states: empty(g, shapes.states, 'states'), z: empty(g, shapes.z, 'z'), den: empty(g, shapes.den, 'den') };
        momentumAttentionForward(g, { q, k, v, out, ...saved, dims: c.dims, ...cfg });
        const dk = empty(g, [b, h, n, d], 'dk');
        const dv = empty(g, [b, h, n, e], 'dv');
        momentumAttentionBackward(g, { q, k, v, out, dout, dq: null, dk, dv: null, ...saved, dims: c.dims, ...cfg });
        const dkAlone = await dk.read();
        momentumAttentionBackward(g, { q, k, v, out, dout, dq: null, dk: null, dv, ...saved, dims: c.dims, ...cfg });
        const dvAlone = await dv.read();
        const ref = momentumClosedBackwardCpu({ dims: c.dims, causal, beta: c.beta, gamma: c.gamma, q: toF64(x.q), k: toF64(x.k), v: toF64(x.v), dout: toF64(x.dout) });
        close('dk alone', dkAlone, ref.dk);
        close('dv alone', dvAlone, ref.dv);
        for (const t of [q, k, v, dout, out, dk, dv, saved.states, saved.z, saved.den]) t.dispose();
      });
    }
  }

  it('the default chunk and variant follow the device', () => {
    expect(momentumChunk(gpu(), 'gpu')).toBe(32);
    expect([16, 32, 64]).toContain(momentumChunk(gpu()));
  });
});

describe('differentiable ops', () => {
  const gpu = useGpu();

  it('momentumAttention: gradients through the tape, q used as both query and key', async () => {
    const d = dims(1, 2, 37, 5, 7);
    const x = inputs(d, 500);
    const tape = new Tape(gpu());
    const qk = variable(gpu(), x.q, [1, 2, 37, 5], 'qk');
    const v = variable(gpu(), x.v, [1, 2, 37, 7], 'v');
    const out = momentumAttention(tape, qk, qk, v, { causal: true, beta: 0.6, gamma: 0.9 });
    tape.backward(out, tape.own(fromArray(gpu(), x.dout, [1, 2, 37, 7], 'seed')));
    const f64 = { dims: d, causal: true, beta: 0.6, gamma: 0.9, q: toF64(x.q), k: toF64(x.q), v: toF64(x.v) };
    close('out', await out.read(), momentumClosedCpu(f64));
    const g = momentumClosedBackwardCpu({ ...f64, dout: toF64(x.dout) });
    close('d(qk) = dq + dk', await qk.grad!.read(), g.dq.map((a, i) => a + g.dk[i]!));
    close('dv', await v.grad!.read(), g.dv);
    tape.dispose();
    qk.dispose();
    v.dispose();
  });

  it('linearAttention: non-causal, only v needs a gradient (dq, dk are skipped)', async () => {
    const d = dims(2, 1, 23, 4, 3);
    const x = inputs(d, 510);
    const tape = new Tape(gpu());
    const q = fromArray(gpu(), x.q, [2, 1, 23, 4], 'q');
    const k = fromArray(gpu(), x.k, [2, 1, 23, 4], 'k');
    const v = variable(gpu(), x.v, [2, 1, 23, 3], 'v');
    const out = linearAttention(tape, q, k, v, { causal: false });
    tape.backward(out, tape.own(fromArray(gpu(), x.dout, [2, 1, 23, 3], 'seed')));
    const f64 = { dims: d, causal: false, beta: 0, gamma: 1, q: toF64(x.q), k: toF64(x.k), v: toF64(x.v) };
    close('out', await out.read(), momentumClosedCpu(f64));
    close('dv', await v.grad!.read(), momentumClosedBackwardCpu({ ...f64, dout: toF64(x.dout) }).dv);
    expect(q.grad).toBeNull();
    tape.dispose();
    for (const t of [q, k, v]) t.dispose();
  });

  it('inference tapes record nothing', () => {
    const tape = new Tape(gpu(), { grad: false });
    const t = (n: number) => variable(gpu(), randn(n, 1), [1, 1, 5, n / 5], 'x');
    const [q, k, v] = [t(10), t(10), t(15)];
    momentumAttention(tape, q!, k!, v!, { causal: true, beta: 0.3, gamma: 1 });
    expect(q!.grad).toBeNull();
    tape.dispose();
    for (const x of [q, k, v]) x!.dispose();
  });
});

describe('phi(x) = elu(x) + 1 rows (the row variant reads phi(q), phi(k) precomputed)', () => {
  const gpu = useGpu();
  // Sizes a multiple of 4 and not; values around 0 on both sides, where phi switches branch.
  for (const size of [1028, 37]) {
    it(`phi_map${size % 4 === 0 ? ' and its vec4 build (the same bits)' : ''} on ${size} values`, async () => {
      const xs = randn(size, 91 + size).map((v) => 2 * v);
      xs[0] = 0;
      const x = fromArray(gpu(), xs, [size], 'x');
      const want = Array.from(xs, (t) => (t > 0 ? t + 1 : Math.exp(t)));
      const scalar = phiFeatures(gpu(), x, 'phi', false);
      const got = await scalar.read();
      expectClose(got, Float64Array.from(want), { atol: 1e-6, rtol: 1e-6, label: 'phi_map' });
      if (size % 4 === 0) {
        const vec4 = phiFeatures(gpu(), x, 'phi4', true);
        expect(Array.from(await vec4.read())).toEqual(Array.from(got));
        vec4.dispose();
      } else {
        expect(() => phiFeatures(gpu(), x, 'phi4', true)).toThrow(/vec4 needs a size that is a multiple of 4; got 37/);
      }
      scalar.dispose();
      x.dispose();
    });
  }
});

describe('recurrent state (12) for sampling', () => {
  const gpu = useGpu();

  it('beta and gamma can change between steps; reset() starts over', async () => {
    const d = dims(1, 1, 6, 3, 2);
    const x = inputs(d, 610);
    const state = new MomentumState(gpu(), { batch: 1, heads: 1, dim: 3, dimV: 2, beta: 0.5, gamma: 1 });
    const run = async () => {
      const outs: number[] = [];
      for (let t = 0; t < 6; t++) {
        if (t === 3) {
          state.beta = 0.9;
          state.gamma = 0.4;
        }
        const q = fromArray(gpu(), x.q.slice(t * 3, t * 3 + 3), [1, 1, 1, 3], 'q1');
        const k = fromArray(gpu(), x.k.slice(t * 3, t * 3 + 3), [1, 1, 1, 3], 'k1');
        const v = fromArray(gpu(), x.v.slice(t * 2, t * 2 + 2), [1, 1, 1, 2], 'v1');
        const o = state.step(q, k, v);
        outs.push(...(await o.read()));
        for (const tt of [q, k, v, o]) tt.dispose();
      }
      return outs;
    };
    const first = await run();
    // The recurrence (12) by hand with the parameters switched after three tokens.
    const phi = (t: number) => (t > 0 ? t + 1 : Math.exp(t));
    const S = new Float64Array(6);
    const m = new Float64Array(6);
    const z = new Float64Array(3);
    const expected: number[] = [];
    for (let t = 0; t < 6; t++) {
      const [beta, gamma] = t < 3 ? [0.5, 1] : [0.9, 0.4];
      for (let dd = 0; dd < 3; dd++) {
        z[dd]! += phi(x.k[t * 3 + dd]!);
        for (let e = 0; e < 2; e++) {
          m[dd * 2 + e] = beta * m[dd * 2 + e]! - phi(x.k[t * 3 + dd]!) * x.v[t * 2 + e]!;
          S[dd * 2 + e]! -= gamma * m[dd * 2 + e]!;
        }
      }
      let den = 0;
      for (let dd = 0; dd < 3; dd++) den += phi(x.q[t * 3 + dd]!) * z[dd]!;
      for (let e = 0; e < 2; e++) {
        let num = 0;
        for (let dd = 0; dd < 3; dd++) num += phi(x.q[t * 3 + dd]!) * S[dd * 2 + e]!;
        expected.push(num / den);
      }
    }
    close('switched parameters', first, expected);
    state.reset();
    state.beta = 0.5;
    state.gamma = 1;
    expect(state.length).toBe(0);
    expect(await run()).toEqual(first);
    expect(() => (state.beta = 1)).toThrow(/beta must be a number in \[0, 1\)/);
    expect(() => (state.gamma = -1)).toThrow(/gamma \(step size\) must be a finite number > 0/);
    expect(state.beta).toBe(0.9);
    state.dispose();
  });

  it('rejects bad parameters and shapes', () => {
    const base = { batch: 1, heads: 2, dim: 3, dimV: 4, beta: 0.5, gamma: 1 };
    expect(() => new MomentumState(gpu(), { ...base, beta: 1.2 })).toThrow(/beta must be a number in \[0, 1\)/);
    expect(() => new MomentumState(gpu(), { ...base, dim: 0 })).toThrow(/dims.dim must be a positive integer/);
    const state = new MomentumState(gpu(), base);
    const q = empty(gpu(), [1, 2, 2, 3], 'q');
    expect(() => state.step(q, q, q)).toThrow(/q 'q' has shape \[1, 2, 2, 3\]; expected \[1, 2, 1, 3\]/);
    q.dispose();
    state.dispose();
  });
});

describe('momentum attention rejects bad input before allocating anything', () => {
  const gpu = useGpu();
  const d = dims(1, 2, 9, 3, 4);

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['beta = 1', { beta: 1 }, /beta must be a number in \[0, 1\) \(beta >= 1 diverges\); got 1/],
    ['beta < 0', { beta: -0.5 }, /beta must be a number in \[0, 1\).*got -0.5/],
    ['NaN beta', { beta: NaN }, /beta must be a number in \[0, 1\).*got NaN/],
    ['gamma = 0', { gamma: 0 }, /gamma \(step size\) must be a finite number > 0; got 0/],
    ['infinite gamma', { gamma: Infinity }, /gamma \(step size\) must be a finite number > 0; got Infinity/],
    ['missing causal', { causal: undefined }, /causal must be true or false/],
    ['bad chunk', { chunk: 48 }, /chunk must be one of 16, 32, 64; got 48/],
    ['chunk 64 on the tiled kernels', { chunk: 64, variant: 'gpu' }, /the gpu variant takes chunks of 16 or 32; got 64/],
    ['unknown variant', { variant: 'cuda' }, /unknown variant 'cuda'/],
    ['linear path with momentum', { path: 'linear' }, /linear path is momentum attention at beta = 0, gamma = 1/],
  ];
  it('planMomentum: the row body is checked, and only the swiftshader variant has one', () => {
    const d = dims(1, 2, 9, 3, 4);
    const cfg = { causal: true, beta: 0.5, gamma: 1 };
    expect(() => planMomentum('t', gpu(), d, { ...cfg, variant: 'swiftshader', rows: 'octs' as never })).toThrow(/rows must be 'pairs' or 'quads'; got octs/);
    expect(() => planMomentum('t', gpu(), d, { ...cfg, variant: 'gpu', rows: 'pairs' })).toThrow(/the gpu variant has none/);
    expect(planMomentum('t', gpu(), d, { ...cfg, variant: 'swiftshader' }).rows).toBe('pairs');
    expect(planMomentum('t', gpu(), d, { ...cfg, variant: 'swiftshader', rows: 'quads' }).rows).toBe('quads');
    expect(planMomentum('t', gpu(), d, { ...cfg, variant: 'gpu' }).rows).toBeNull();
  });
  for (const [name, override, msg] of bad) {
    it(`momentumAttention: ${name}`, () => {
      const tape = new Tape(gpu());
      const q = empty(gpu(), [1, 2, 9, 3], 'q');
      const v = empty(gpu(), [1, 2, 9, 4], 'v');
      const before = gpu().pool.inUseBytes;
      expect(() => momentumAttention(tape, q, q, v, { causal: true, beta: 0.5, gamma: 1, ...override } as never)).toThrow(msg);
      expect(gpu().pool.inUseBytes).toBe(before);
      tape.dispose();
      q.dispose();
      v.dispose();
    });
  }

  it('mismatched shapes', () => {
    const tape = new Tape(gpu());
    const q = empty(gpu(), [1, 2, 9, 3], 'q');
    const k = empty(gpu(), [1, 2, 8, 3], 'k');
    const v = empty(gpu(), [1, 2, 9, 4], 'v');
    const v3 = empty(gpu(), [1, 2, 9], 'v3');
    const before = gpu().pool.inUseBytes;
    const opts = { causal: true, beta: 0.5, gamma: 1 };
    expect(() => momentumAttention(tape, q, k, v, opts)).toThrow(/k has shape \[1, 2, 8, 3\]; q has \[1, 2, 9, 3\]/);
    expect(() => linearAttention(tape, q, q, k, { causal: false })).toThrow(/v has shape \[1, 2, 8, 3\]; its first three sizes must match/);
    expect(() => momentumAttention(tape, q, q, v3, opts)).toThrow(/v must have shape \[batch, heads, seq, dim\]; got \[1, 2, 9\]/);
    expect(gpu().pool.inUseBytes).toBe(before);
    tape.dispose();
    for (const t of [q, k, v, v3]) t.dispose();
  });

  it('primitives check the saved tensors and outputs', () => {
    const q = empty(gpu(), [1, 2, 9, 3], 'q');
    const v = empty(gpu(), [1, 2, 9, 4], 'v');
    const out = empty(gpu(), [1, 2, 9, 4], 'out');
    const shapes = momentumSavedShapes(d, 32, false);
    const states = empty(gpu(), shapes.states, 'states');
    const z = empty(gpu(), shapes.z, 'z');
    const den = empty(gpu(), [1, 2, 8], 'den');
    const args = { q, k: q, v, out, states, z, den, dims: d, causal: true, beta: 0, gamma: 1, chunk: 32 };
    expect(() => momentumAttentionForward(gpu(), args)).toThrow(/den 'den' has shape \[1, 2, 8\]; expected \[1, 2, 9\]/);
    expect(() => momentumAttentionForward(gpu(), { ...args, den: states })).toThrow(/den 'states' has shape/);
    // The momentum path keeps (S, m) pairs: a one-float-per-entry state tensor is refused.
    expect(() => momentumAttentionForward(gpu(), { ...args, beta: 0.5 })).toThrow(
      /states 'states' has shape \[1, 2, 2, 3, 4, 1\]; expected \[1, 2, 2, 3, 4, 2\]/,
    );
    expect(() => momentumAttentionForward(gpu(), { ...args, out: q })).toThrow(/out 'q' has shape \[1, 2, 9, 3\]; expected \[1, 2, 9, 4\]/);
    const dOk = empty(gpu(), [1, 2, 9], 'den9');
    expect(() => momentumAttentionForward(gpu(), { ...args, den: dOk, out: v })).toThrow(/out 'v' shares its buffer with v/);
    expect(() =>
      momentumAttentionBackward(gpu(), { ...args, den: dOk, dout: out, dq: q, dk: null, dv: null }),
    ).toThrow(/dq 'q' shares its buffer with q/);
    for (const t of [q, v, out, states, z, den, dOk]) t.dispose();
  });
});
