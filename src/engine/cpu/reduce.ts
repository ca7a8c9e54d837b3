// CPU references for the reductions of shaders/reduce.wgsl. They add in float64 whatever the input
// type (JS numbers), so they are the accurate answer the GPU's float32 tree is compared against;
// results are stored in `out`, of the input's type, as the GPU primitives store theirs.

export type Arr = Float32Array | Float64Array;

function checkOut(name: string, out: Arr): void {
  if (out.length < 1) throw new Error(`${name}: out must hold at least 1 value, it has ${out.length}`);
}

/** out[0] = sum of x. */
export function reduceSum<T extends Arr>(x: T, out: T): void {
  checkOut('reduceSum', out);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  out[0] = s;
}

/** out[0] = sum of x[i]^2. */
export function reduceSumSquares<T extends Arr>(x: T, out: T): void {
  checkOut('reduceSumSquares', out);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  out[0] = s;
}

/** out[0] = sum over every tensor of xs of its squares; with `sqrt`, the global L2 norm instead. */
export function globalSumSquares<T extends Arr>(xs: readonly T[], out: T, opts: { sqrt?: boolean } = {}): void {
  checkOut('globalSumSquares', out);
  let s = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  out[0] = opts.sqrt ? Math.sqrt(s) : s;
}

/** The global L2 norm of a list of tensors (gradient clipping's norm). */
export function globalNorm<T extends Arr>(xs: readonly T[], out: T): void {
  globalSumSquares(xs, out, { sqrt: true });
}
