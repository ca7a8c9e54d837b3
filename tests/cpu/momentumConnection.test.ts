// CPU reference of the momentum connection: exact special cases, and every backward against
// float64 finite differences of sum(out * dOut) + sum(m * dM) (+ sum(beta * dBeta)).
import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_DELTA,
  adaptiveConnectionBackward,
  adaptiveConnectionForward,
  momentumConnectionBackward,
  momentumConnectionForward,
} from '../../src/engine/cpu/momentumConnection.ts';
import { dot, expectClose, finiteDiff, randn, toF64 } from '../helpers.ts';

const FD_TOL = { atol: 1e-7, rtol: 1e-6 };

/** g with ||g_t - gPrev_t|| / ||gPrev_t|| = ratios[t] for every row t of gPrev [R, C]. */
function atRatios(gp: Float64Array, ratios: number[], cols: number, seed: number): Float64Array {
  const u = toF64(randn(gp.length, seed));
  const g = new Float64Array(gp.length);
  ratios.forEach((r, t) => {
    const row = (a: Float64Array) => a.subarray(t * cols, (t + 1) * cols);
    const np = Math.sqrt(dot(row(gp), row(gp)));
    const nu = Math.sqrt(dot(row(u), row(u)));
    for (let c = 0; c < cols; c++) g[t * cols + c] = gp[t * cols + c]! + (r * np * u[t * cols + c]!) / nu;
  });
  return g;
}

/** Random gPrev rows (scaled) and g at the given ratios: tests choose where beta~ lands. */
function rowsWithRatios(ratios: number[], cols: number, seed: number, scale = 1) {
  const gp = toF64(randn(ratios.length * cols, seed, scale));
  return { g: atRatios(gp, ratios, cols, seed + 1), gp };
}

/** Ratios that keep beta~ and its derivative well away from the clamp (r < 2.5e-7 or r > 3.998). */
function safeRatios(rows: number): number[] {
  const pick = [0.05, 0.2, 0.45, 0.8, 1.3, 2.1, 2.9];
  return Array.from({ length: rows }, (_, t) => pick[t % pick.length]!);
}

describe('fixed momentum connection (CPU)', () => {
  it('is m = beta~ m_prev + g, out = x + gamma~ m (hand-computed)', () => {
    const x = new Float64Array([1, 2]);
    const g = new Float64Array([3, 4]);
    const mPrev = new Float64Array([5, 6]);
    const r = momentumConnectionForward(x, g, mPrev, { betaTilde: 0.5, gammaTilde: 2 });
    expect(Array.from(r.m)).toEqual([5.5, 7]);
    expect(Array.from(r.out)).toEqual([12, 16]);
    const first = momentumConnectionForward(x, g, null, { betaTilde: 0.5, gammaTilde: 2 });
    expect(Array.from(first.m)).toEqual([3, 4]);
    expect(Array.from(first.out)).toEqual([7, 10]);
  });

  it('with beta~ = 0, gamma~ = 1 is the plain residual x + g, bit for bit (float32)', () => {
    const n = 37 * 5;
    const x = randn(n, 1);
    const g = randn(n, 2);
    const mPrev = randn(n, 3, 10);
    const { out, m } = momentumConnectionForward(x, g, mPrev, { betaTilde: 0, gammaTilde: 1 });
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(Array.from(x, (v, i) => Math.fround(v + g[i]!)));
    expect(Array.from(m)).toEqual(Array.from(g));
  });

  const fixedCases = [
    { name: 'with m_prev, both gradients', withPrev: true, dOut: true, dM: true },
    { name: 'with m_prev, last layer (no dM)', withPrev: true, dOut: true, dM: false },
    { name: 'with m_prev, only dM', withPrev: true, dOut: false, dM: true },
    { name: 'layer 1 (m_prev = null)', withPrev: false, dOut: true, dM: true },
  ];
  it.each(fixedCases)('backward matches finite differences: $name', ({ withPrev, dOut, dM }) => {
    const n = 7 * 5;
    const opts = { betaTilde: 0.3, gammaTilde: 0.8 };
    const inputs = [toF64(randn(n, 11)), toF64(randn(n, 12)), toF64(randn(n, 13))];
    const dout = dOut ? toF64(randn(n, 14)) : null;
    const dm = dM ? toF64(randn(n, 15)) : null;
    const loss = ([x, g, mp]: Float64Array[]) => {
      const r = momentumConnectionForward(x!, g!, withPrev ? mp! : null, opts);
      return (dout ? dot(r.out, dout) : 0) + (dm ? dot(r.m, dm) : 0);
    };
    const [fx, fg, fm] = finiteDiff(loss, inputs);
    const got = momentumConnectionBackward(dout, dm, withPrev, opts);
    expectClose(got.dx, fx!, { ...FD_TOL, label: 'dx' });
    expectClose(got.dg, fg!, { ...FD_TOL, label: 'dg' });
    if (withPrev) expectClose(got.dmPrev!, fm!, { ...FD_TOL, label: 'dmPrev' });
    else expect(got.dmPrev).toBeNull();
  });

  it('rejects beta~ outside [0, 1) and gamma~ <= 0', () => {
    const a = new Float64Array(3);
    expect(() => momentumConnectionForward(a, a, a, { betaTilde: 1, gammaTilde: 1 })).toThrow(/betaTilde must be in \[0, 1\)/);
    expect(() => momentumConnectionForward(a, a, a, { betaTilde: -0.1, gammaTilde: 1 })).toThrow(/betaTilde/);
    expect(() => momentumConnectionForward(a, a, a, { betaTilde: NaN, gammaTilde: 1 })).toThrow(/betaTilde/);
    expect(() => momentumConnectionForward(a, a, a, { betaTilde: 0.5, gammaTilde: 0 })).toThrow(/gammaTilde must be/);
    expect(() => momentumConnectionForward(a, new Float64Array(4), a, { betaTilde: 0, gammaTilde: 1 })).toThrow(
      /g has 4 values, expected 3/,
    );
  });
});

describe('adaptive momentum connection (CPU)', () => {
  const opts = { gammaTilde: 0.7 };

  it('computes beta~ = (1 - sqrt(ratio))^2 per row (hand-computed)', () => {
    // gPrev = [3, 4] (norm 5), g - gPrev = [0.75, 1] (norm 1.25): ratio 1/4, beta~ = (1 - 1/2)^2.
    const gp = new Float64Array([3, 4]);
    const g = new Float64Array([3.75, 5]);
    const x = new Float64Array([1, -1]);
    const mPrev = new Float64Array([4, 8]);
    const r = adaptiveConnectionForward(x, g, gp, mPrev, 2, { gammaTilde: 2 });
    expect(Array.from(r.beta)).toEqual([0.25]);
    expect(Array.from(r.norms)).toEqual([1.25, 5]);
    expect(Array.from(r.m)).toEqual([4.75, 7]);
    expect(Array.from(r.out)).toEqual([10.5, 13]);
  });

  const adaptiveCases = [
    { name: 'dOut and dM', dOut: true, dM: true, dBeta: false },
    { name: 'last layer (dOut only)', dOut: true, dM: false, dBeta: false },
    { name: 'dM only', dOut: false, dM: true, dBeta: false },
    { name: 'all three, beta~ in the loss', dOut: true, dM: true, dBeta: true },
  ];
  it.each(adaptiveCases)('backward matches finite differences through beta~: $name', ({ dOut, dM, dBeta }) => {
    const rows = 9;
    const cols = 5;
    const n = rows * cols;
    const { g, gp } = rowsWithRatios(safeRatios(rows), cols, 21);
    const inputs = [toF64(randn(n, 22)), g, gp, toF64(randn(n, 23))];
    const dout = dOut ? toF64(randn(n, 24)) : null;
    const dm = dM ? toF64(randn(n, 25)) : null;
    const db = dBeta ? toF64(randn(rows, 26)) : null;
    const loss = ([x, g, gp, mp]: Float64Array[]) => {
      const r = adaptiveConnectionForward(x!, g!, gp!, mp!, cols, opts);
      return (dout ? dot(r.out, dout) : 0) + (dm ? dot(r.m, dm) : 0) + (db ? dot(r.beta, db) : 0);
    };
    const fd = finiteDiff(loss, inputs);
    const [x, , , mp] = inputs;
    const fwd = adaptiveConnectionForward(x!, g, gp, mp!, cols, opts);
    const got = adaptiveConnectionBackward({ g, gPrev: gp, mPrev: mp!, norms: fwd.norms }, { dOut: dout, dM: dm, dBeta: db }, cols, opts);
    expectClose(got.dx, fd[0]!, { ...FD_TOL, label: 'dx' });
    expectClose(got.dg, fd[1]!, { ...FD_TOL, label: 'dg' });
    expectClose(got.dgPrev, fd[2]!, { ...FD_TOL, label: 'dgPrev' });
    expectClose(got.dmPrev, fd[3]!, { ...FD_TOL, label: 'dmPrev' });
    // The path through beta~ is really exercised: without it dgPrev would be zero.
    expect(Math.max(...Array.from(got.dgPrev, Math.abs))).toBeGreaterThan(1e-2);
  });

  it('clamps beta~ to 1 - delta and reaches 0 at ratio 1, with the documented gradients', () => {
    const cols = 5;
    const scale = 10; // ||gPrev|| ~ 20, so FD steps of 1e-6 stay far from the kink at ratio 2.5e-7
    const { g, gp } = rowsWithRatios([0.3, 9, 0.3, 0.3, 0.3, 0.3], cols, 31, scale);
    const row = (a: Float64Array, t: number) => a.subarray(t * cols, (t + 1) * cols);
    row(g, 0).set(row(gp, 0)); // g = gPrev: ratio 0, raw 1 -> clamped to 1 - delta
    // Row 1: ratio 9, raw (1 - 3)^2 = 4 -> clamped to 1 - delta.
    row(g, 2).set(row(gp, 2).map((v) => 2 * v)); // g - gPrev = gPrev exactly: ratio 1, beta~ = 0
    row(g, 3).fill(0); // g = 0: ratio 1 again, beta~ = 0
    row(gp, 4).fill(0); // ||gPrev|| = 0 < eps: ratio ||g|| / eps, huge -> clamped
    // Row 5 stays at ratio 0.3, unclamped, as a control.
    const n = g.length;
    const x = toF64(randn(n, 32));
    const mp = toF64(randn(n, 33));
    const dout = toF64(randn(n, 34));
    const dm = toF64(randn(n, 35));
    const fwd = adaptiveConnectionForward(x, g, gp, mp, cols, opts);
    const top = 1 - ADAPTIVE_DELTA;
    expect(Array.from(fwd.beta.subarray(0, 5))).toEqual([top, top, 0, 0, top]);
    expect(fwd.beta[5]).toBeCloseTo((1 - Math.sqrt(0.3)) ** 2, 12);
    const got = adaptiveConnectionBackward({ g, gPrev: gp, mPrev: mp, norms: fwd.norms }, { dOut: dout, dM: dm, dBeta: null }, cols, opts);
    const loss = ([x, g, gp, mp]: Float64Array[]) => {
      const r = adaptiveConnectionForward(x!, g!, gp!, mp!, cols, opts);
      return dot(r.out, dout) + dot(r.m, dm);
    };
    const fd = finiteDiff(loss, [x, g, gp, mp]);
    expectClose(got.dg, fd[1]!, { ...FD_TOL, label: 'dg' });
    expectClose(got.dgPrev, fd[2]!, { ...FD_TOL, label: 'dgPrev' });
    expectClose(got.dmPrev, fd[3]!, { ...FD_TOL, label: 'dmPrev' });
    // Clamped rows and beta~ = 0 rows pass no gradient through beta~: dg = dm exactly, dgPrev = 0.
    for (const t of [0, 1, 2, 3, 4]) {
      const dmTotal = row(dm, t).map((v, c) => v + opts.gammaTilde * row(dout, t)[c]!);
      expect(Array.from(row(got.dg, t))).toEqual(Array.from(dmTotal));
      expect(Array.from(row(got.dgPrev, t)).every((v) => v === 0)).toBe(true);
    }
    expect(Math.max(...Array.from(row(got.dgPrev, 5), Math.abs))).toBeGreaterThan(1e-3);
  });

  it('is finite where both g and gPrev rows are zero (beta~ = 1 - delta, no gradient through it)', () => {
    const z = new Float64Array(4);
    const mp = new Float64Array([1, 2, 3, 4]);
    const fwd = adaptiveConnectionForward(z, z, z, mp, 4, opts);
    expect(fwd.beta[0]).toBe(1 - ADAPTIVE_DELTA);
    const d = new Float64Array([1, 1, 1, 1]);
    const got = adaptiveConnectionBackward({ g: z, gPrev: z, mPrev: mp, norms: fwd.norms }, { dOut: d, dM: null, dBeta: null }, 4, opts);
    expect(Array.from(got.dgPrev)).toEqual([0, 0, 0, 0]);
    expect(Array.from(got.dg)).toEqual([0.7, 0.7, 0.7, 0.7]);
  });

  it('rejects bad delta, gamma~ and shapes', () => {
    const a = new Float64Array(6);
    expect(() => adaptiveConnectionForward(a, a, a, a, 3, { gammaTilde: 1, delta: 0 })).toThrow(/delta must be in \(0, 1\)/);
    expect(() => adaptiveConnectionForward(a, a, a, a, 3, { gammaTilde: 1, delta: 1 })).toThrow(/delta/);
    expect(() => adaptiveConnectionForward(a, a, a, a, 3, { gammaTilde: -1 })).toThrow(/gammaTilde/);
    expect(() => adaptiveConnectionForward(a, a, a, a, 4, opts)).toThrow(/6 values do not split into rows of 4/);
    expect(() => adaptiveConnectionForward(a, a, new Float64Array(3), a, 3, opts)).toThrow(/gPrev has 3 values/);
  });
});

describe('a 3-layer chain of connections (CPU)', () => {
  // Layer 1: fixed form with m_prev = null; layers 2 and 3: adaptive (or fixed), m flowing on;
  // X_{l+1} = X'_l. Loss = sum(X'_3 * dout); m_3 has no gradient, as in a real last layer.
  const cols = 5;
  const rows = 7;
  const gamma = 0.9;
  function chain(kind: 'fixed' | 'adaptive', [x1, g1, g2, g3]: Float64Array[]) {
    const l1 = momentumConnectionForward(x1!, g1!, null, { betaTilde: 0.4, gammaTilde: gamma });
    const step = (x: Float64Array, g: Float64Array, gp: Float64Array, mp: Float64Array) =>
      kind === 'fixed'
        ? momentumConnectionForward(x, g, mp, { betaTilde: 0.4, gammaTilde: gamma })
        : adaptiveConnectionForward(x, g, gp, mp, cols, { gammaTilde: gamma });
    const l2 = step(l1.out, g2!, g1!, l1.m);
    const l3 = step(l2.out, g3!, g2!, l2.m);
    return { l1, l2, l3 };
  }
  function chainBackward(kind: 'fixed' | 'adaptive', ins: Float64Array[], dout: Float64Array) {
    const [, g1, g2, g3] = ins;
    const { l1, l2, l3 } = chain(kind, ins);
    const fixed = { betaTilde: 0.4, gammaTilde: gamma };
    const step = (dOut: Float64Array, dM: Float64Array | null, g: Float64Array, gp: Float64Array, mp: Float64Array, norms?: Float64Array) =>
      kind === 'fixed'
        ? { ...momentumConnectionBackward(dOut, dM, true, fixed), dgPrev: null }
        : adaptiveConnectionBackward({ g, gPrev: gp, mPrev: mp, norms: norms! }, { dOut, dM, dBeta: null }, cols, { gammaTilde: gamma });
    const norms = (l: object) => ('norms' in l ? (l.norms as Float64Array) : undefined);
    const b3 = step(dout, null, g3!, g2!, l2.m, norms(l3));
    const b2 = step(b3.dx, b3.dmPrev, g2!, g1!, l1.m, norms(l2));
    const b1 = momentumConnectionBackward(b2.dx, b2.dmPrev, false, fixed);
    const add = (a: Float64Array, b: Float64Array | null) => (b ? a.map((v, i) => v + b[i]!) : a);
    return [b1.dx, add(b1.dg, b2.dgPrev), add(b2.dg, b3.dgPrev), b3.dg];
  }

  it.each(['fixed', 'adaptive'] as const)('%s: composed backward matches finite differences end to end', (kind) => {
    const n = rows * cols;
    const { g: g2, gp: g1 } = rowsWithRatios(safeRatios(rows), cols, 41);
    // Layer 3's ratios differ from layer 2's, and all stay away from the clamps.
    const g3 = atRatios(g2, safeRatios(rows).reverse(), cols, 42);
    const ins = [toF64(randn(n, 43)), g1, g2, g3];
    const dout = toF64(randn(n, 44));
    const fd = finiteDiff((xs) => dot(chain(kind, xs).l3.out, dout), ins);
    const got = chainBackward(kind, ins, dout);
    ['dx1', 'dg1', 'dg2', 'dg3'].forEach((label, k) => expectClose(got[k]!, fd[k]!, { ...FD_TOL, label }));
  });
});
