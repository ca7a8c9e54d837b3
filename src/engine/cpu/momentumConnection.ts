// CPU reference for the momentum connection across layers (MATH.md sections 5 and 6): plain loops,
// generic over Float32Array | Float64Array (outputs of the input's type, arithmetic in float64),
// so the backward can be checked against float64 finite differences.
//
// Fixed form (section 5):     m = beta~ m_prev + g ;  out = x + gamma~ m   (m_prev = null: m_0 = 0)
// Adaptive form (section 6, eq. 18), per row t of [R, C] with norms over the C features:
//   r_t = ||g_t - gp_t|| / max(||gp_t||, eps) ;  beta~_t = proj_[0, 1-delta]((1 - sqrt r_t)^2)
//   m_t = beta~_t m_prev_t + g_t ;  out_t = x_t + gamma~ m_t
// Gradients flow through beta~ into g and gp (no detach). Conventions where beta~ is not smooth:
// - Upper clamp: where (1 - sqrt r)^2 > 1 - delta, beta~ is constant and carries no gradient; at
//   equality the unclamped derivative is used (inclusive, as PyTorch's clamp).
// - Lower clamp: (1 - sqrt r)^2 >= 0 always, so it never binds; beta~ = 0 exactly at r = 1, where
//   the derivative (1 - sqrt r)/sqrt r is 0 anyway: beta~ is smooth there.
// - r = 0 (g_t = gp_t) is inside the upper clamp for any delta > 0, so the kink of ||g - gp|| at 0
//   and the pole of 1/sqrt r are never differentiated.
// - ||gp_t|| < eps (ADAPTIVE_NORM_EPS): the denominator is the constant eps, so no gradient flows
//   through it (r is then usually huge and clamped). With g_t and gp_t both below eps in norm, beta~
//   swings between 1 - delta and 0 within eps: treat such rows as degenerate.
import { ADAPTIVE_NORM_EPS, checkAdaptiveOptions, checkFixedOptions, type AdaptiveConnectionOptions, type FixedConnectionOptions } from '../host/momentumConnection.ts';
export { ADAPTIVE_DELTA, ADAPTIVE_NORM_EPS, checkFixedOptions, checkAdaptiveOptions, type FixedConnectionOptions, type AdaptiveConnectionOptions } from '../host/momentumConnection.ts';

export type Arr = Float32Array | Float64Array;

/** (1 - sqrt r)^2 before the projection, with r = nd / max(np, eps). */
export function adaptiveRaw(nd: number, np: number, eps = ADAPTIVE_NORM_EPS): number {
  const s = 1 - Math.sqrt(nd / Math.max(np, eps));
  return s * s;
}

/** proj_[0, 1 - delta] (the lower bound is kept as the paper writes it, though it never binds). */
export function projectBeta(raw: number, delta: number): number {
  return Math.max(0, Math.min(1 - delta, raw));
}

function like<T extends Arr>(a: T, n: number): T {
  return (a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n)) as T;
}

function sameLength(where: string, n: number, named: Record<string, Arr | null | undefined>): void {
  for (const [name, a] of Object.entries(named)) {
    if (a && a.length !== n) throw new Error(`${where}: ${name} has ${a.length} values, expected ${n}`);
  }
}

/** Fixed form forward: m = beta~ m_prev + g, out = x + gamma~ m (m_prev null: m = g). */
export function momentumConnectionForward<T extends Arr>(
  x: T,
  g: T,
  mPrev: T | null,
  opts: FixedConnectionOptions,
): { out: T; m: T } {
  checkFixedOptions(opts, 'momentumConnectionForward');
  const n = x.length;
  sameLength('momentumConnectionForward', n, { g, mPrev });
  const out = like(x, n);
  const m = like(x, n);
  const { betaTilde: beta, gammaTilde: gamma } = opts;
  for (let i = 0; i < n; i++) {
    const mi = mPrev ? beta * mPrev[i]! + g[i]! : g[i]!;
    m[i] = mi;
    out[i] = x[i]! + gamma * mi;
  }
  return { out, m };
}

/**
 * Fixed form backward from the gradients of out and m (either may be null, not both):
 * dm = dM + gamma~ dOut ; dx = dOut ; dg = dm ; dmPrev = beta~ dm (null when there was no m_prev).
 */
export function momentumConnectionBackward<T extends Arr>(
  dOut: T | null,
  dM: T | null,
  withPrev: boolean,
  opts: FixedConnectionOptions,
): { dx: T; dg: T; dmPrev: T | null } {
  checkFixedOptions(opts, 'momentumConnectionBackward');
  const ref = dOut ?? dM;
  if (!ref) throw new Error('momentumConnectionBackward: needs the gradient of out or of m');
  const n = ref.length;
  sameLength('momentumConnectionBackward', n, { dOut, dM });
  const dx = like(ref, n);
  const dg = like(ref, n);
  const dmPrev = withPrev ? like(ref, n) : null;
  const { betaTilde: beta, gammaTilde: gamma } = opts;
  for (let i = 0; i < n; i++) {
    const d = (dM ? dM[i]! : 0) + (dOut ? gamma * dOut[i]! : 0);
    dx[i] = dOut ? dOut[i]! : 0;
    dg[i] = d;
    if (dmPrev) dmPrev[i] = beta * d;
  }
  return { dx, dg, dmPrev };
}

/**
 * Adaptive form forward on [R, C] row-major data (R = length / cols). Returns, beside out and m,
 * beta~ [R] (for metrics) and what the backward needs: norms [R, 2] = (||g - gp||, ||gp||) per row.
 */
export function adaptiveConnectionForward<T extends Arr>(
  x: T,
  g: T,
  gPrev: T,
  mPrev: T,
  cols: number,
  opts: AdaptiveConnectionOptions,
): { out: T; m: T; beta: T; norms: T } {
  const delta = checkAdaptiveOptions(opts, 'adaptiveConnectionForward');
  const rows = rowCount('adaptiveConnectionForward', x.length, cols);
  sameLength('adaptiveConnectionForward', x.length, { g, gPrev, mPrev });
  const n = x.length;
  const out = like(x, n); // [R, C]
  const m = like(x, n); // [R, C]
  const beta = like(x, rows); // [R]
  const norms = like(x, 2 * rows); // [R, 2]
  for (let t = 0; t < rows; t++) {
    const base = t * cols;
    let sd = 0;
    let sp = 0;
    for (let c = 0; c < cols; c++) {
      const gp = gPrev[base + c]!;
      const d = g[base + c]! - gp;
      sd += d * d;
      sp += gp * gp;
    }
    const nd = Math.sqrt(sd);
    const np = Math.sqrt(sp);
    norms[2 * t] = nd;
    norms[2 * t + 1] = np;
    const b = projectBeta(adaptiveRaw(nd, np), delta);
    beta[t] = b;
    for (let c = 0; c < cols; c++) {
      const i = base + c;
      const mi = b * mPrev[i]! + g[i]!;
      m[i] = mi;
      out[i] = x[i]! + opts.gammaTilde * mi;
    }
  }
  return { out, m, beta, norms };
}

/**
 * Adaptive form backward. `saved` is what the forward had and kept (its inputs g, gPrev, mPrev and
 * its norms output); `grads` the gradients of out [R, C], m [R, C] and beta [R], any of which may
 * be null (not all). beta~ is recomputed from the saved norms exactly as the forward did.
 */
export function adaptiveConnectionBackward<T extends Arr>(
  saved: { g: T; gPrev: T; mPrev: T; norms: T },
  grads: { dOut: T | null; dM: T | null; dBeta: T | null },
  cols: number,
  opts: AdaptiveConnectionOptions,
): { dx: T; dg: T; dgPrev: T; dmPrev: T } {
  const where = 'adaptiveConnectionBackward';
  const delta = checkAdaptiveOptions(opts, where);
  const { g, gPrev, mPrev, norms } = saved;
  const { dOut, dM, dBeta } = grads;
  const n = g.length;
  const rows = rowCount(where, n, cols);
  if (!dOut && !dM && !dBeta) throw new Error(`${where}: needs the gradient of out, m or beta`);
  sameLength(where, n, { gPrev, mPrev, dOut, dM });
  sameLength(where, rows, { dBeta });
  sameLength(where, 2 * rows, { norms });
  const gamma = opts.gammaTilde;
  const eps = ADAPTIVE_NORM_EPS;
  const dx = like(g, n);
  const dg = like(g, n);
  const dgPrev = like(g, n);
  const dmPrev = like(g, n);
  const dmAt = (i: number) => (dM ? dM[i]! : 0) + (dOut ? gamma * dOut[i]! : 0);
  for (let t = 0; t < rows; t++) {
    const base = t * cols;
    let dbeta = dBeta ? dBeta[t]! : 0;
    for (let c = 0; c < cols; c++) dbeta += dmAt(base + c) * mPrev[base + c]!;
    const nd = norms[2 * t]!;
    const np = norms[2 * t + 1]!;
    const raw = adaptiveRaw(nd, np, eps);
    const b = projectBeta(raw, delta);
    // d/dg of beta~ = dr * d r/d nd * (g - gp)/nd ;  d/dgp adds dr * d r/d den * gp/np.
    let ca = 0;
    let cp = 0;
    if (raw <= 1 - delta && nd > 0) {
      const den = Math.max(np, eps);
      const r = nd / den;
      const s = Math.sqrt(r);
      const dr = (-dbeta * (1 - s)) / s;
      ca = dr / (den * nd);
      if (np >= eps) cp = (-dr * r) / (den * np);
    }
    for (let c = 0; c < cols; c++) {
      const i = base + c;
      const d = dmAt(i);
      const a = g[i]! - gPrev[i]!;
      dx[i] = dOut ? dOut[i]! : 0;
      dg[i] = d + ca * a;
      dgPrev[i] = cp * gPrev[i]! - ca * a;
      dmPrev[i] = b * d;
    }
  }
  return { dx, dg, dgPrev, dmPrev };
}

function rowCount(where: string, n: number, cols: number): number {
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`${where}: cols must be a positive integer, got ${cols}`);
  if (n % cols !== 0) throw new Error(`${where}: ${n} values do not split into rows of ${cols}`);
  return n / cols;
}
