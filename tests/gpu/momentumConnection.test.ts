// GPU momentum connection against the CPU reference on odd shapes (more than one workgroup or row
// tile in every tiled dimension), directional-derivative checks of every GPU backward, both row
// layouts of the adaptive kernels, and a 3-layer chain through the tape.
import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/momentumConnection.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import * as gk from '../../src/engine/kernels/momentumConnection.ts';
import { adaptiveMomentumConnection, momentumConnection } from '../../src/engine/ops/momentumConnection.ts';
import { Tape, empty, fromArray, variable, type Tensor } from '../../src/engine/tensor.ts';
import { checkDirectional, dot, expectClose, randn, toF64, useGpu } from '../helpers.ts';

const gpu = useGpu();
const VARIANTS = Object.keys(gk.ROW_LAYOUTS) as gk.RowVariant[];
const TOL = { atol: 2e-5, rtol: 2e-4 };

/** Tensors made by one test, disposed together. */
function scope(g: Gpu) {
  const made: Tensor[] = [];
  const keep = <T extends Tensor>(t: T) => (made.push(t), t);
  return {
    input: (a: Float32Array, shape: number[], label: string) => keep(fromArray(g, a, shape, label)),
    maybe: (a: Float32Array | null, shape: number[], label: string) => (a ? keep(fromArray(g, a, shape, label)) : null),
    out: (shape: number[], label: string) => keep(empty(g, shape, label)),
    dispose: () => made.forEach((t) => t.dispose()),
  };
}

function concat(...parts: (Float32Array | null)[]): Float32Array {
  const all = parts.filter((p): p is Float32Array => p !== null);
  const out = new Float32Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** g with ||g_t - gPrev_t|| / ||gPrev_t|| = ratios[t % ratios.length] per row (float64 maths). */
function atRatios(gp: Float32Array, ratios: readonly number[], cols: number, seed: number): Float32Array {
  const u = randn(gp.length, seed);
  const g = new Float32Array(gp.length);
  for (let t = 0; t < gp.length / cols; t++) {
    const row = (a: Float32Array) => a.subarray(t * cols, (t + 1) * cols);
    const np = Math.sqrt(dot(row(gp), row(gp)));
    const nu = Math.sqrt(dot(row(u), row(u)));
    const r = ratios[t % ratios.length]!;
    for (let c = 0; c < cols; c++) g[t * cols + c] = gp[t * cols + c]! + (r * np * u[t * cols + c]!) / nu;
  }
  return g;
}

/** Ratios keeping beta~ away from its clamps (ratio < 2.5e-7 or > 3.998), where float32 and float64 could disagree. */
const SAFE_RATIOS = [0.05, 0.2, 0.45, 0.8, 1.3, 2.1, 2.9];

// ---------------------------------------------------------------------------------------------

interface FixedCase {
  rows: number;
  cols: number;
  withPrev: boolean;
  dOut: boolean;
  dM: boolean;
}

async function fixedGpu(c: FixedCase, ins: Float32Array[], opts: cpu.FixedConnectionOptions, grads: (Float32Array | null)[] | null) {
  const s = scope(gpu());
  const shape = [c.rows, c.cols];
  const [x, g, mp] = ins.map((a, k) => s.input(a, shape, `in${k}`));
  const out = s.out(shape, 'out'); // [R, C]
  const m = s.out(shape, 'm'); // [R, C]
  gk.momentumConnectionForward(gpu(), x!, g!, c.withPrev ? mp! : null, out, m, opts);
  let back: Float32Array[] = [];
  if (grads) {
    const [dOut, dM] = grads.map((a, k) => s.maybe(a, shape, `grad${k}`));
    const dx = s.out(shape, 'dx');
    const dg = s.out(shape, 'dg');
    const dmPrev = c.withPrev ? s.out(shape, 'dmPrev') : null;
    gk.momentumConnectionBackward(gpu(), dOut!, dM!, dx, dg, dmPrev, opts);
    back = await Promise.all([dx, dg, ...(dmPrev ? [dmPrev] : [])].map((t) => t.read()));
  }
  const fwd = { out: await out.read(), m: await m.read() };
  s.dispose();
  return { ...fwd, back };
}

describe('fixed momentum connection on the GPU', () => {
  const opts = { betaTilde: 0.35, gammaTilde: 0.8 };
  const cases: (FixedCase & { name: string })[] = [
    { name: 'R=37 C=5 (under one workgroup), all gradients', rows: 37, cols: 5, withPrev: true, dOut: true, dM: true },
    { name: 'R=37 C=5, layer 1 (m_prev = null)', rows: 37, cols: 5, withPrev: false, dOut: true, dM: true },
    { name: 'R=3 C=300 (past one workgroup), last layer (no dM)', rows: 3, cols: 300, withPrev: true, dOut: true, dM: false },
    { name: 'R=3 C=300, only dM', rows: 3, cols: 300, withPrev: true, dOut: false, dM: true },
  ];

  it.each(cases)('forward and backward match the CPU reference: $name', async (c) => {
    const n = c.rows * c.cols;
    const ins = [randn(n, 1), randn(n, 2), randn(n, 3)];
    const dOut = c.dOut ? randn(n, 4) : null;
    const dM = c.dM ? randn(n, 5) : null;
    const got = await fixedGpu(c, ins, opts, [dOut, dM]);
    const ref = cpu.momentumConnectionForward(ins[0]!, ins[1]!, c.withPrev ? ins[2]! : null, opts);
    expectClose(got.out, ref.out, { ...TOL, label: 'out' });
    expectClose(got.m, ref.m, { ...TOL, label: 'm' });
    const refB = cpu.momentumConnectionBackward(dOut, dM, c.withPrev, opts);
    expectClose(got.back[0]!, refB.dx, { ...TOL, label: 'dx' });
    expectClose(got.back[1]!, refB.dg, { ...TOL, label: 'dg' });
    if (c.withPrev) expectClose(got.back[2]!, refB.dmPrev!, { ...TOL, label: 'dmPrev' });
    await checkDirectional({
      forward: async (xs) => {
        const r = await fixedGpu(c, xs, opts, null);
        return concat(c.dOut ? r.out : null, c.dM ? r.m : null);
      },
      inputs: c.withPrev ? ins : ins.slice(0, 2),
      grads: got.back,
      dout: concat(dOut, dM),
      label: `fixed ${c.name}`,
    });
  });

  it('with beta~ = 0, gamma~ = 1 is the plain residual x + g, bit for bit', async () => {
    const c = { rows: 37, cols: 5, withPrev: true, dOut: true, dM: true };
    const n = c.rows * c.cols;
    const [x, g, mp] = [randn(n, 6), randn(n, 7), randn(n, 8, 10)];
    const got = await fixedGpu(c, [x!, g!, mp!], { betaTilde: 0, gammaTilde: 1 }, null);
    expect(Array.from(got.out)).toEqual(Array.from(x!, (v, i) => Math.fround(v + g![i]!)));
    expect(Array.from(got.m)).toEqual(Array.from(g!));
  });
});

// ---------------------------------------------------------------------------------------------

interface AdaptiveCase {
  rows: number;
  cols: number;
  variant: gk.RowVariant;
}

interface AdaptiveGradsIn {
  dOut: Float32Array | null;
  dM: Float32Array | null;
  dBeta: Float32Array | null;
}

async function adaptiveGpu(c: AdaptiveCase, ins: Float32Array[], opts: cpu.AdaptiveConnectionOptions, grads: AdaptiveGradsIn | null) {
  const s = scope(gpu());
  const shape = [c.rows, c.cols];
  const [x, g, gp, mp] = ins.map((a, k) => s.input(a, shape, `in${k}`));
  const out = s.out(shape, 'out'); // [R, C]
  const m = s.out(shape, 'm'); // [R, C]
  const beta = s.out([c.rows], 'beta'); // [R]
  const norms = s.out([c.rows, 2], 'norms'); // [R, 2]
  const kopts = { ...opts, variant: c.variant };
  gk.adaptiveConnectionForward(gpu(), x!, g!, gp!, mp!, out, m, beta, norms, kopts);
  let back: Float32Array[] = [];
  if (grads) {
    const result = { dx: s.out(shape, 'dx'), dg: s.out(shape, 'dg'), dgPrev: s.out(shape, 'dgPrev'), dmPrev: s.out(shape, 'dmPrev') };
    gk.adaptiveConnectionBackward(
      gpu(),
      { g: g!, gPrev: gp!, mPrev: mp!, norms },
      { dOut: s.maybe(grads.dOut, shape, 'dOut'), dM: s.maybe(grads.dM, shape, 'dM'), dBeta: s.maybe(grads.dBeta, [c.rows], 'dBeta') },
      result,
      kopts,
    );
    back = await Promise.all([result.dx, result.dg, result.dgPrev, result.dmPrev].map((t) => t.read()));
  }
  const fwd = { out: await out.read(), m: await m.read(), beta: await beta.read(), norms: await norms.read() };
  s.dispose();
  return { ...fwd, back };
}

function adaptiveInputs(c: AdaptiveCase, ratios: readonly number[], seed: number): Float32Array[] {
  const n = c.rows * c.cols;
  const gp = randn(n, seed + 1);
  return [randn(n, seed), atRatios(gp, ratios, c.cols, seed + 2), gp, randn(n, seed + 3)];
}

async function compareAdaptive(c: AdaptiveCase, ins: Float32Array[], grads: AdaptiveGradsIn, opts: cpu.AdaptiveConnectionOptions) {
  const got = await adaptiveGpu(c, ins, opts, grads);
  const [x, g, gp, mp] = ins;
  const ref = cpu.adaptiveConnectionForward(toF64(x!), toF64(g!), toF64(gp!), toF64(mp!), c.cols, opts);
  expectClose(got.beta, ref.beta, { ...TOL, label: 'beta' });
  expectClose(got.norms, ref.norms, { ...TOL, label: 'norms' });
  expectClose(got.out, ref.out, { ...TOL, label: 'out' });
  expectClose(got.m, ref.m, { ...TOL, label: 'm' });
  const f64 = (a: Float32Array | null) => (a ? toF64(a) : null);
  // The backward reference runs on the GPU's own norms, as the GPU backward does.
  const refB = cpu.adaptiveConnectionBackward(
    { g: toF64(g!), gPrev: toF64(gp!), mPrev: toF64(mp!), norms: toF64(got.norms) },
    { dOut: f64(grads.dOut), dM: f64(grads.dM), dBeta: f64(grads.dBeta) },
    c.cols,
    opts,
  );
  ['dx', 'dg', 'dgPrev', 'dmPrev'].forEach((label, k) =>
    expectClose(got.back[k]!, refB[label as keyof typeof refB], { ...TOL, label }),
  );
  return got;
}

describe('adaptive momentum connection on the GPU', () => {
  const opts = { gammaTilde: 0.7 };
  // Row tiles: 'gpu' has 64 threads a row, 4 rows a workgroup; 'swiftshader' 1 thread a row, 64 rows.
  const shapes = [
    { rows: 37, cols: 5 },
    { rows: 70, cols: 67 },
    { rows: 5, cols: 300 },
  ];
  const cases = VARIANTS.flatMap((variant) => shapes.map((s) => ({ ...s, variant })));

  it.each(cases)('forward and backward match the CPU reference: R=$rows C=$cols, $variant layout', async (c) => {
    const n = c.rows * c.cols;
    const ins = adaptiveInputs(c, SAFE_RATIOS, 10);
    const grads = { dOut: randn(n, 20), dM: randn(n, 21), dBeta: null };
    const got = await compareAdaptive(c, ins, grads, opts);
    await checkDirectional({
      forward: async (xs) => {
        const r = await adaptiveGpu(c, xs, opts, null);
        return concat(r.out, r.m);
      },
      inputs: ins,
      grads: got.back,
      dout: concat(grads.dOut, grads.dM),
      label: `adaptive R=${c.rows} C=${c.cols} ${c.variant}`,
    });
    // gPrev reaches the loss only through beta~: checked alone, that path is not drowned out by
    // the direct terms (whose size sets checkDirectional's tolerance above).
    await checkDirectional({
      forward: async ([gp]) => {
        const r = await adaptiveGpu(c, [ins[0]!, ins[1]!, gp!, ins[3]!], opts, null);
        return concat(r.out, r.m);
      },
      inputs: [ins[2]!],
      grads: [got.back[2]!],
      dout: concat(grads.dOut, grads.dM),
      label: `adaptive through beta~ only, R=${c.rows} C=${c.cols} ${c.variant}`,
    });
  });

  it.each(VARIANTS)('takes partial gradients (only dM; only dOut and dBeta): %s layout', async (variant) => {
    const c = { rows: 37, cols: 5, variant };
    const n = c.rows * c.cols;
    const ins = adaptiveInputs(c, SAFE_RATIOS, 30);
    await compareAdaptive(c, ins, { dOut: null, dM: randn(n, 31), dBeta: null }, opts);
    const grads = { dOut: randn(n, 32), dM: null, dBeta: randn(c.rows, 33) };
    const got = await compareAdaptive(c, ins, grads, opts);
    await checkDirectional({
      forward: async (xs) => {
        const r = await adaptiveGpu(c, xs, opts, null);
        return concat(r.out, r.beta);
      },
      inputs: ins,
      grads: got.back,
      dout: concat(grads.dOut, grads.dBeta),
      label: `adaptive dOut + dBeta ${variant}`,
    });
  });

  it.each(VARIANTS)('clamps like the CPU reference (ratio 0, 1, 9; zero rows): %s layout', async (variant) => {
    const c = { rows: 7, cols: 300, variant };
    const ins = adaptiveInputs(c, [0.3, 9, 0.3, 0.3, 0.3, 0.3, 0.3], 40);
    const [, g, gp] = ins;
    const row = (a: Float32Array, t: number) => a.subarray(t * c.cols, (t + 1) * c.cols);
    row(g!, 0).set(row(gp!, 0)); // ratio 0 -> 1 - delta
    row(g!, 2).set(row(gp!, 2).map((v) => 2 * v)); // ratio exactly 1 -> 0
    row(g!, 3).fill(0); // ratio 1 -> 0
    row(gp!, 4).fill(0); // ||gPrev|| = 0 -> guarded by eps, clamped
    row(gp!, 6).fill(0); // both zero: ratio 0 / eps -> 1 - delta, finite
    row(g!, 6).fill(0);
    const n = c.rows * c.cols;
    const got = await compareAdaptive(c, ins, { dOut: randn(n, 41), dM: randn(n, 42), dBeta: null }, opts);
    const top = Math.fround(1 - cpu.ADAPTIVE_DELTA);
    expect(Array.from(got.beta)).toEqual([top, top, 0, 0, top, expect.any(Number), top]);
    for (const t of [0, 1, 2, 3, 4, 6]) expect(Array.from(row(got.back[2]!, t)).every((v) => v === 0)).toBe(true);
  });

  it('repeats bit for bit', async () => {
    const c = { rows: 70, cols: 67, variant: 'gpu' as const };
    const n = c.rows * c.cols;
    const ins = adaptiveInputs(c, SAFE_RATIOS, 50);
    const grads = { dOut: randn(n, 51), dM: randn(n, 52), dBeta: null };
    const a = await adaptiveGpu(c, ins, opts, grads);
    const b = await adaptiveGpu(c, ins, opts, grads);
    expect(concat(a.out, a.m, a.beta, ...a.back)).toEqual(concat(b.out, b.m, b.beta, ...b.back));
  });
});

// ---------------------------------------------------------------------------------------------

describe('momentum connection ops on the tape', () => {
  it('validate before allocating or dispatching', () => {
    const g = gpu();
    const x = fromArray(g, new Float32Array(6), [2, 3], 'x');
    const other = fromArray(g, new Float32Array(6), [3, 2], 'other');
    const flat = fromArray(g, new Float32Array(6), [6], 'flat');
    const tape = new Tape(g);
    const before = { bytes: g.pool.inUseBytes, dispatches: g.dispatchCount };
    expect(() => momentumConnection(tape, x, x, null, { betaTilde: 1, gammaTilde: 1 })).toThrow(/betaTilde must be in \[0, 1\)/);
    expect(() => momentumConnection(tape, x, x, x, { betaTilde: 0.5, gammaTilde: 0 })).toThrow(/gammaTilde must be/);
    expect(() => momentumConnection(tape, x, other, null, { betaTilde: 0, gammaTilde: 1 })).toThrow(
      /g is other \[3, 2\], expected the shape \[2, 3\] of x/,
    );
    expect(() => adaptiveMomentumConnection(tape, x, x, x, x, { gammaTilde: 1, delta: 0 })).toThrow(/delta must be in \(0, 1\)/);
    expect(() => adaptiveMomentumConnection(tape, x, x, other, x, { gammaTilde: 1 })).toThrow(/gPrev is other/);
    expect(() => adaptiveMomentumConnection(tape, flat, flat, flat, flat, { gammaTilde: 1 })).toThrow(/needs rank >= 2/);
    expect({ bytes: g.pool.inUseBytes, dispatches: g.dispatchCount }).toEqual(before);
    tape.dispose();
    [x, other, flat].forEach((t) => t.dispose());
  });

  it('keeps leading dims: [B, N, C] in, beta~ [B, N] out', async () => {
    const g = gpu();
    const [B, N, C] = [2, 3, 7];
    const gpA = randn(B * N * C, 61);
    const arrays = [randn(B * N * C, 60), atRatios(gpA, SAFE_RATIOS, C, 62), gpA, randn(B * N * C, 63)];
    const tape = new Tape(g, { grad: false });
    const [x, gl, gp, mp] = arrays.map((a, k) => fromArray(g, a, [B, N, C], `in${k}`));
    const r = adaptiveMomentumConnection(tape, x!, gl!, gp!, mp!, { gammaTilde: 0.5 });
    expect(r.beta.shape).toEqual([B, N]);
    expect(r.out.shape).toEqual([B, N, C]);
    const ref = cpu.adaptiveConnectionForward(arrays[0]!, arrays[1]!, arrays[2]!, arrays[3]!, C, { gammaTilde: 0.5 });
    expectClose(await r.beta.read(), ref.beta, { ...TOL, label: 'beta' });
    expectClose(await r.out.read(), ref.out, { ...TOL, label: 'out' });
    tape.dispose();
    [x, gl, gp, mp].forEach((t) => t!.dispose());
  });

  // Layer 1 fixed with m_prev = null; layers 2-3 adaptive (or fixed), X_{l+1} = X'_l, m flowing on.
  // Loss = sum(X'_3 * dout); m_3 gets no gradient (as in a real last layer); the middle layer's
  // beta~ is read as a metric.
  const rows = 37;
  const cols = 67;
  const gamma = 0.9;
  const fixed = { betaTilde: 0.4, gammaTilde: gamma };

  function cpuChain(kind: 'fixed' | 'adaptive', [x1, g1, g2, g3]: Float64Array[], dout: Float64Array) {
    const l1 = cpu.momentumConnectionForward(x1!, g1!, null, fixed);
    const fwd = (x: Float64Array, g: Float64Array, gp: Float64Array, mp: Float64Array) =>
      kind === 'fixed'
        ? { ...cpu.momentumConnectionForward(x, g, mp, fixed), beta: null, norms: null }
        : cpu.adaptiveConnectionForward(x, g, gp, mp, cols, { gammaTilde: gamma });
    const l2 = fwd(l1.out, g2!, g1!, l1.m);
    const l3 = fwd(l2.out, g3!, g2!, l2.m);
    const bwd = (dOut: Float64Array, dM: Float64Array | null, g: Float64Array, gp: Float64Array, mp: Float64Array, norms: Float64Array | null) =>
      kind === 'fixed'
        ? { ...cpu.momentumConnectionBackward(dOut, dM, true, fixed), dgPrev: null }
        : cpu.adaptiveConnectionBackward({ g, gPrev: gp, mPrev: mp, norms: norms! }, { dOut, dM, dBeta: null }, cols, { gammaTilde: gamma });
    const b3 = bwd(dout, null, g3!, g2!, l2.m, l3.norms);
    const b2 = bwd(b3.dx, b3.dmPrev, g2!, g1!, l1.m, l2.norms);
    const b1 = cpu.momentumConnectionBackward(b2.dx, b2.dmPrev, false, fixed);
    const add = (a: Float64Array, b: Float64Array | null) => (b ? a.map((v, i) => v + b[i]!) : a);
    return { out: l3.out, m: l3.m, beta2: l2.beta, grads: [b1.dx, add(b1.dg, b2.dgPrev), add(b2.dg, b3.dgPrev), b3.dg] };
  }

  async function gpuChain(kind: 'fixed' | 'adaptive', arrays: Float32Array[], dout: Float32Array | null) {
    const g = gpu();
    const tape = new Tape(g);
    const [x1, g1, g2, g3] = arrays.map((a, k) => variable(g, a, [rows, cols], `chain.in${k}`));
    const step = (x: Tensor, gl: Tensor, gp: Tensor, mp: Tensor) =>
      kind === 'fixed'
        ? { ...momentumConnection(tape, x, gl, mp, fixed), beta: null }
        : adaptiveMomentumConnection(tape, x, gl, gp, mp, { gammaTilde: gamma });
    const l1 = momentumConnection(tape, x1!, g1!, null, fixed);
    const l2 = step(l1.out, g2!, g1!, l1.m);
    const l3 = step(l2.out, g3!, g2!, l2.m);
    let grads: Float32Array[] = [];
    if (dout) {
      tape.backward(l3.out, tape.own(fromArray(g, dout, [rows, cols], 'chain.dout')));
      grads = await Promise.all([x1, g1, g2, g3].map((t) => t!.grad!.read()));
    }
    const res = { out: await l3.out.read(), m: await l3.m.read(), beta2: l2.beta ? await l2.beta.read() : null, grads };
    tape.dispose();
    [x1, g1, g2, g3].forEach((t) => t!.dispose());
    return res;
  }

  it.each(['fixed', 'adaptive'] as const)('a 3-layer %s chain matches the CPU reference end to end', async (kind) => {
    const n = rows * cols;
    const g1 = randn(n, 71);
    const g2 = atRatios(g1, SAFE_RATIOS, cols, 72);
    const g3 = atRatios(g2, [...SAFE_RATIOS].reverse(), cols, 73);
    const arrays = [randn(n, 70), g1, g2, g3];
    const dout = randn(n, 74);
    const got = await gpuChain(kind, arrays, dout);
    const ref = cpuChain(kind, arrays.map(toF64), toF64(dout));
    expectClose(got.out, ref.out, { ...TOL, label: 'out_3' });
    expectClose(got.m, ref.m, { ...TOL, label: 'm_3' });
    if (ref.beta2) expectClose(got.beta2!, ref.beta2, { ...TOL, label: 'beta~_2' });
    ['dx1', 'dg1', 'dg2', 'dg3'].forEach((label, k) => expectClose(got.grads[k]!, ref.grads[k]!, { ...TOL, label }));
    await checkDirectional({
      forward: async (xs) => (await gpuChain(kind, xs, null)).out,
      inputs: arrays,
      grads: got.grads,
      dout,
      label: `${kind} chain`,
    });
  });
});
