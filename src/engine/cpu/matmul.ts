// CPU reference of the matmul family: plain loops, generic over Float32Array | Float64Array (float64
// runs drive the finite-difference checks). Same argument shapes as kernels/matmul.ts, plus the
// forward and backward of the differentiable ops in ops/matmul.ts.

export type Arr = Float32Array | Float64Array;

/** A zeroed array of x's type. */
function like<T extends Arr>(x: T, length: number): T {
  return new (x.constructor as new (n: number) => T)(length);
}

export interface MatmulCpuArgs<T extends Arr> {
  /** [batch, M, K], or [batch, K, M] with transA; one item when aShared. */
  a: T;
  /** [batch, K, N], or [batch, N, K] with transB; one item when bShared. */
  b: T;
  /** [batch, M, N], or [M, N] with sumBatch. */
  c: T;
  /** [N] */
  bias?: T | null;
  batch: number;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  accumulate?: boolean;
  aShared?: boolean;
  bShared?: boolean;
  sumBatch?: boolean;
}

function expectLength(what: string, x: Arr, length: number): void {
  if (x.length !== length) throw new Error(`${what}: has ${x.length} values, expected ${length}`);
}

/** c = op(a) op(b) (+ bias) per batch item (or summed over it), or c += ... with accumulate. */
export function matmulInto<T extends Arr>(args: MatmulCpuArgs<T>): void {
  const { a, b, c, batch, m, n, k } = args;
  const bias = args.bias ?? null;
  const aItems = args.aShared ? 1 : batch;
  const bItems = args.bShared ? 1 : batch;
  expectLength('matmul A', a, aItems * m * k);
  expectLength('matmul B', b, bItems * k * n);
  expectLength('matmul C', c, (args.sumBatch ? 1 : batch) * m * n);
  if (bias) expectLength('matmul bias', bias, n);
  // op(A)[i, p] and op(B)[p, j] in storage, per batch item.
  const ai = args.transA ? (i: number, p: number) => p * m + i : (i: number, p: number) => i * k + p;
  const bi = args.transB ? (p: number, j: number) => j * k + p : (p: number, j: number) => p * n + j;
  const sums = new Float64Array((args.sumBatch ? 1 : batch) * m * n);
  for (let z = 0; z < batch; z++) {
    const ao = args.aShared ? 0 : z * m * k;
    const bo = args.bShared ? 0 : z * k * n;
    const co = args.sumBatch ? 0 : z * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + ai(i, p)]! * b[bo + bi(p, j)]!;
        sums[co + i * n + j] += s;
      }
    }
  }
  for (let i = 0; i < sums.length; i++) {
    let v = sums[i]!;
    if (bias) v += bias[i % n]!;
    c[i] = args.accumulate ? c[i]! + v : v;
  }
}

/** out[col] (+)= sum over rows of x[row, col]. */
export function sumRowsInto<T extends Arr>(args: { x: T; out: T; rows: number; cols: number; accumulate?: boolean }): void {
  const { x, out, rows, cols } = args;
  expectLength('sumRows x', x, rows * cols);
  expectLength('sumRows out', out, cols);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * cols + j]!;
    out[j] = args.accumulate ? out[j]! + s : s;
  }
}

export interface MatmulShape {
  /** Product of the leading dimensions of A (and of B unless bShared). */
  batch: number;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  /** B is one [K, N] (or [N, K]) matrix for every batch item. */
  bShared?: boolean;
}

/** The differentiable matmul's forward: C = op(A) op(B) per batch item. */
export function matmulForward<T extends Arr>(a: T, b: T, s: MatmulShape): T {
  const c = like(a, s.batch * s.m * s.n); // [batch, M, N]
  matmulInto({ a, b, c, ...s });
  return c;
}

/**
 * The differentiable matmul's backward, straight from d op(A) = dC op(B)^T, d op(B) = op(A)^T dC
 * (summed over the batch when B is shared), written back in A's and B's storage layouts.
 */
export function matmulBackward<T extends Arr>(a: T, b: T, dc: T, s: MatmulShape): { da: T; db: T } {
  const { batch, m, n, k } = s;
  const da = like(a, a.length);
  const db = like(b, b.length);
  const ai = s.transA ? (i: number, p: number) => p * m + i : (i: number, p: number) => i * k + p;
  const bi = s.transB ? (p: number, j: number) => j * k + p : (p: number, j: number) => p * n + j;
  for (let z = 0; z < batch; z++) {
    const ao = z * m * k;
    const bo = s.bShared ? 0 : z * k * n;
    const co = z * m * n;
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        let g = 0;
        for (let j = 0; j < n; j++) g += dc[co + i * n + j]! * b[bo + bi(p, j)]!;
        da[ao + ai(i, p)] = g;
      }
    }
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) {
        let g = 0;
        for (let i = 0; i < m; i++) g += a[ao + ai(i, p)]! * dc[co + i * n + j]!;
        db[bo + bi(p, j)] += g;
      }
    }
  }
  return { da, db };
}

/** linear's forward: y[r, :] = x[r, :] W + bias, x [rows, K], W [K, N]. */
export function linearForward<T extends Arr>(x: T, w: T, bias: T | null, rows: number, k: number, n: number): T {
  const y = like(x, rows * n); // [rows, N]
  matmulInto({ a: x, b: w, c: y, bias, batch: 1, m: rows, n, k });
  return y;
}

/** linear's backward: dx = dy W^T, dW = x^T dy (summed over rows), dbias = sum of dy over rows. */
export function linearBackward<T extends Arr>(
  x: T,
  w: T,
  dy: T,
  rows: number,
  k: number,
  n: number,
): { dx: T; dw: T; dbias: T } {
  const { da: dx, db: dw } = matmulBackward(x, w, dy, { batch: 1, m: rows, n, k });
  const dbias = like(x, n); // [N]
  sumRowsInto({ x: dy, out: dbias, rows, cols: n });
  return { dx, dw, dbias };
}
