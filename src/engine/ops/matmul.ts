// Differentiable matmul and linear layer on the tape. Both backwards are products of the same
// kernel with other transposes: d op(A) = dC op(B)^T, d op(B) = op(A)^T dC; a shared weight's
// gradient sums over the batch inside one deterministic product (or a fixed-order sum of partials).
// Each op checks its tensors and plans every product it will encode, the backward's included,
// before it allocates; the kernels (kernels/matmul/) only encode from the plans.
import { checkTensor } from '../check.ts';
import { encodeMatmul, encodeSumRows, planMatmul, planSumRows } from '../kernels/matmul.ts';
import type { Shape, Tape, Tensor } from '../tensor.ts';

export interface MatmulOptions {
  /** A is stored [..., K, M]: multiply by its transpose. */
  transA?: boolean;
  /** B is stored [..., N, K] (or [N, K]): multiply by its transpose. */
  transB?: boolean;
}

function product(dims: Shape): number {
  return dims.reduce((p, d) => p * d, 1);
}

function fmt(s: Shape): string {
  return `[${s.join(', ')}]`;
}

/**
 * C = op(A) op(B) over the leading dimensions: A [..., M, K], B [..., K, N] with the same leading
 * dimensions, or B [K, N] shared by every batch item (a weight). Returns C [..., M, N].
 */
export function matmul(tape: Tape, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new Error(`matmul: A ${fmt(a.shape)} and B ${fmt(b.shape)} must both have at least 2 dimensions`);
  }
  const lead = a.shape.slice(0, -2);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  const bShared = b.shape.length === 2 && lead.length > 0;
  if (!bShared && fmt(b.shape.slice(0, -2)) !== fmt(lead)) {
    throw new Error(`matmul: leading dimensions of A ${fmt(a.shape)} and B ${fmt(b.shape)} differ (B may also be 2-D)`);
  }
  if (kb !== k) {
    throw new Error(
      `matmul: inner dimensions differ: op(A) is [${m}, ${k}] and op(B) is [${kb}, ${n}] ` +
        `(A ${fmt(a.shape)}${transA ? ' transposed' : ''}, B ${fmt(b.shape)}${transB ? ' transposed' : ''})`,
    );
  }
  checkTensor('matmul', 'A', a);
  checkTensor('matmul', 'B', b);
  const batch = product(lead);
  const gpu = tape.gpu;
  const forward = planMatmul('matmul', gpu, { batch, m, n, k, transA, transB, bShared });
  const needA = tape.needsGrad(a);
  const needB = tape.needsGrad(b);
  const backA = !needA
    ? null
    : !transA
      ? // dA [M, K] = dC [M, N] op(B)^T
        planMatmul('matmul', gpu, { batch, m, n: k, k: n, transB: !transB, bShared })
      : // dA [K, M] = op(B) [K, N] dC^T
        planMatmul('matmul', gpu, { batch, m: k, n: m, k: n, transA: transB, transB: true, aShared: bShared });
  const backB = !needB
    ? null
    : !transB
      ? // dB [K, N] = op(A)^T [K, M] dC [M, N], summed over the batch when shared
        planMatmul('matmul', gpu, { batch, m: k, n, k: m, transA: !transA, sumBatch: bShared })
      : // dB [N, K] = dC^T [N, M] op(A) [M, K]
        planMatmul('matmul', gpu, { batch, m: n, n: k, k: m, transA: true, transB: transA, sumBatch: bShared });
  const c = tape.empty([...lead, m, n], 'matmul.c'); // [..., M, N]
  encodeMatmul(gpu, forward, { a, b, c });
  if (backA || backB) {
    tape.tracks(c);
    tape.record('matmul', [c], () => {
      const dc = c.grad!; // [..., M, N]
      if (backA) {
        const da = tape.empty(a.shape, 'matmul.da'); // A's shape
        encodeMatmul(gpu, backA, transA ? { a: b, b: dc, c: da } : { a: dc, b, c: da });
        tape.accumulate(a, da);
      }
      if (backB) {
        const db = tape.empty(b.shape, 'matmul.db'); // B's shape
        encodeMatmul(gpu, backB, transB ? { a: dc, b: a, c: db } : { a, b: dc, c: db });
        tape.accumulate(b, db);
      }
    });
  }
  return c;
}

/** y = x W + bias for x [..., K], W [K, N], bias [N]: returns y [..., N]. */
export function linear(tape: Tape, x: Tensor, w: Tensor, bias?: Tensor | null): Tensor {
  if (x.shape.length < 1 || w.shape.length !== 2) {
    throw new Error(`linear: x ${fmt(x.shape)} must have at least 1 dimension and W ${fmt(w.shape)} exactly 2`);
  }
  const [k, n] = w.shape as [number, number];
  const lead = x.shape.slice(0, -1);
  if (x.shape[x.shape.length - 1] !== k) {
    throw new Error(`linear: x ${fmt(x.shape)} ends in ${x.shape[x.shape.length - 1]} features but W ${fmt(w.shape)} expects ${k}`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) {
    throw new Error(`linear: bias ${fmt(bias.shape)} must be [${n}] to match W ${fmt(w.shape)}`);
  }
  checkTensor('linear', 'x', x);
  checkTensor('linear', 'W', w);
  if (bias) checkTensor('linear', 'bias', bias);
  const rows = product(lead);
  const gpu = tape.gpu;
  // Every row shares W, so the whole batch is one [rows, K] x [K, N] product.
  const forward = planMatmul('linear', gpu, { batch: 1, m: rows, n, k });
  const backX = tape.needsGrad(x) ? planMatmul('linear', gpu, { batch: 1, m: rows, n: k, k: n, transB: true }) : null; // dy W^T
  const backW = tape.needsGrad(w) ? planMatmul('linear', gpu, { batch: 1, m: k, n, k: rows, transA: true }) : null; // x^T dy
  const backBias = bias && tape.needsGrad(bias) ? planSumRows('linear', gpu, { rows, cols: n }) : null;
  const y = tape.empty([...lead, n], 'linear.y'); // [..., N]
  encodeMatmul(gpu, forward, { a: x, b: w, c: y, bias });
  if (backX || backW || backBias) {
    tape.tracks(y);
    tape.record('linear', [y], () => {
      const dy = y.grad!; // [..., N] = [rows, N]
      if (backX) {
        const dx = tape.empty(x.shape, 'linear.dx'); // [..., K]
        encodeMatmul(gpu, backX, { a: dy, b: w, c: dx });
        tape.accumulate(x, dx);
      }
      if (backW) {
        const dw = tape.empty(w.shape, 'linear.dw'); // [K, N]
        encodeMatmul(gpu, backW, { a: x, b: dy, c: dw });
        tape.accumulate(w, dw);
      }
      if (bias && backBias) {
        const db = tape.empty(bias.shape, 'linear.dbias'); // [N]
        encodeSumRows(gpu, backBias, dy, db);
        tape.accumulate(bias, db);
      }
    });
  }
  return y;
}
