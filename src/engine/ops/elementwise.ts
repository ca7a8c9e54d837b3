// Differentiable elementwise ops: each records its backward beside its forward on the tape.
import { checkBroadcast, checkDropout, checkFloat, checkSameShape } from '../check.ts';
import type { Tape, Tensor } from '../tensor.ts';
import {
  columnChunks,
  encodeAddBackward,
  encodeAddBroadcastBackward,
  encodeAddBroadcastForward,
  encodeAddForward,
  encodeDropout,
  encodeGeluBackward,
  encodeGeluForward,
  encodeReluBackward,
  encodeReluForward,
  encodeScaleBackward,
  encodeScaleForward,
} from '../kernels/elementwise.ts';

/** GELU, tanh approximation as in GPT-2: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function gelu(tape: Tape, x: Tensor): Tensor {
  checkFloat('gelu', x);
  const y = tape.empty(x.shape, 'gelu.y'); // like x
  encodeGeluForward(tape.gpu, x, y);
  if (tape.needsGrad(x)) {
    tape.tracks(y);
    tape.record('gelu', [y], () => {
      const dx = tape.empty(x.shape, 'gelu.dx'); // like x
      encodeGeluBackward(tape.gpu, x, y.grad!, dx);
      tape.accumulate(x, dx);
    });
  }
  return y;
}

export function relu(tape: Tape, x: Tensor): Tensor {
  checkFloat('relu', x);
  const y = tape.empty(x.shape, 'relu.y'); // like x
  encodeReluForward(tape.gpu, x, y);
  if (tape.needsGrad(x)) {
    tape.tracks(y);
    tape.record('relu', [y], () => {
      const dx = tape.empty(x.shape, 'relu.dx'); // like x
      encodeReluBackward(tape.gpu, x, y.grad!, dx);
      tape.accumulate(x, dx);
    });
  }
  return y;
}

/** a + b for tensors of one shape (the residual connection). */
export function add(tape: Tape, a: Tensor, b: Tensor): Tensor {
  checkFloat('add', a, b);
  checkSameShape('add', a, b);
  const y = tape.empty(a.shape, 'add.y'); // like a
  encodeAddForward(tape.gpu, a, b, y);
  if (tape.needsGrad(a, b)) {
    tape.tracks(y);
    tape.record('add', [y], () => {
      const da = tape.empty(a.shape, 'add.da'); // like a
      const db = tape.empty(b.shape, 'add.db'); // like b
      encodeAddBackward(tape.gpu, y.grad!, da, db);
      tape.accumulate(a, da);
      tape.accumulate(b, db);
    });
  }
  return y;
}

/** s * x for a constant s. */
export function scale(tape: Tape, x: Tensor, s: number): Tensor {
  checkFloat('scale', x);
  if (!Number.isFinite(s)) throw new Error(`scale: s must be a finite number, got ${s}`);
  const y = tape.empty(x.shape, 'scale.y'); // like x
  encodeScaleForward(tape.gpu, x, s, y);
  if (tape.needsGrad(x)) {
    tape.tracks(y);
    tape.record('scale', [y], () => {
      const dx = tape.empty(x.shape, 'scale.dx'); // like x
      encodeScaleBackward(tape.gpu, y.grad!, s, dx);
      tape.accumulate(x, dx);
    });
  }
  return y;
}

/** x [..., C] + row [C], the row added to every row of x (a bias). */
export function addBroadcast(tape: Tape, x: Tensor, row: Tensor): Tensor {
  const plan = checkBroadcast('addBroadcast', x, row);
  const y = tape.empty(x.shape, 'addBroadcast.y'); // [..., C]
  encodeAddBroadcastForward(tape.gpu, plan, x, row, y);
  if (tape.needsGrad(x, row)) {
    tape.tracks(y);
    tape.record('addBroadcast', [y], () => {
      const dx = tape.empty(x.shape, 'addBroadcast.dx'); // [..., C]
      const drow = tape.empty(row.shape, 'addBroadcast.drow'); // [C]
      encodeAddBroadcastBackward(tape.gpu, { ...plan, ...columnChunks(tape.gpu, plan.rows) }, y.grad!, dx, drow);
      tape.accumulate(x, dx);
      tape.accumulate(row, drow);
    });
  }
  return y;
}

/**
 * Inverted dropout: keeps each element with probability 1 - p and scales it by 1 / (1 - p). The
 * mask is a function of (seed, offset + element index) (Philox4x32-10), recomputed by the
 * backward instead of stored; give every dropout site of a step a disjoint offset range. p = 0 is
 * the identity and returns x itself.
 */
export function dropout(tape: Tape, x: Tensor, p: number, seed: number, offset: number): Tensor {
  checkFloat('dropout', x);
  checkDropout('dropout', x.size, p, seed, offset);
  if (p === 0) return x;
  const y = tape.empty(x.shape, 'dropout.y'); // like x
  encodeDropout(tape.gpu, x, y, p, seed, offset);
  if (tape.needsGrad(x)) {
    tape.tracks(y);
    tape.record('dropout', [y], () => {
      const dx = tape.empty(x.shape, 'dropout.dx'); // like x
      encodeDropout(tape.gpu, y.grad!, dx, p, seed, offset);
      tape.accumulate(x, dx);
    });
  }
  return y;
}
