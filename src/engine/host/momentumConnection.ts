// Options of the momentum connection across layers (MATH.md sections 5 and 6), their checks and
// constants, shared by the GPU primitives and the CPU reference.

/** The paper's clamp threshold: beta~ <= 1 - delta (the authors' code used 1e-4). */
export const ADAPTIVE_DELTA = 1e-3;

/**
 * Floor on ||g_{l-1,t}|| in the adaptive ratio. Far below the norm of a live attention output row
 * (order 0.1 to 10), far above float32's underflow of a sum of squares.
 */
export const ADAPTIVE_NORM_EPS = 1e-6;

export interface FixedConnectionOptions {
  /** beta~ in [0, 1): momentum of the connection. */
  betaTilde: number;
  /** gamma~ > 0: its step size. beta~ = 0, gamma~ = 1 is the plain residual x + g. */
  gammaTilde: number;
}

export interface AdaptiveConnectionOptions {
  /** gamma~ > 0. */
  gammaTilde: number;
  /** beta~ is projected onto [0, 1 - delta]; 0 < delta < 1, default ADAPTIVE_DELTA. */
  delta?: number;
}

/** Throws unless 0 <= beta~ < 1 and gamma~ > 0 (both finite). */
export function checkFixedOptions(opts: FixedConnectionOptions, where: string): void {
  const { betaTilde, gammaTilde } = opts;
  if (!(Number.isFinite(betaTilde) && betaTilde >= 0 && betaTilde < 1)) {
    throw new Error(`${where}: betaTilde must be in [0, 1) (momentum >= 1 diverges), got ${betaTilde}`);
  }
  checkGamma(gammaTilde, where);
}

/** Throws unless gamma~ > 0 and 0 < delta < 1; returns delta with its default. */
export function checkAdaptiveOptions(opts: AdaptiveConnectionOptions, where: string): number {
  checkGamma(opts.gammaTilde, where);
  const delta = opts.delta ?? ADAPTIVE_DELTA;
  if (!(Number.isFinite(delta) && delta > 0 && delta < 1)) {
    throw new Error(`${where}: delta must be in (0, 1) (beta~ is projected onto [0, 1 - delta]), got ${delta}`);
  }
  return delta;
}

export function checkGamma(gammaTilde: number, where: string): void {
  if (!(Number.isFinite(gammaTilde) && gammaTilde > 0)) {
    throw new Error(`${where}: gammaTilde must be a finite number > 0, got ${gammaTilde}`);
  }
}
