// Differentiable momentum connection across layers (MATH.md sections 5 and 6). It replaces the
// residual X + g of layer l with heavy-ball momentum carried from layer to layer:
//   m_l = beta~ m_{l-1} + g_l ;  X'_l = X_l + gamma~ m_l
// Both outputs carry gradients: X'_l flows on through the layer, m_l into layer l+1's connection.
// Each op checks and plans once (kernels/momentumConnection/plan.ts) before it allocates; the
// kernels only encode.
import {
  encodeAdaptiveBackward,
  encodeAdaptiveForward,
  encodeFixedBackward,
  encodeFixedForward,
  planAdaptiveInputs,
  planFixedInputs,
  type AdaptiveKernelOptions,
} from '../kernels/momentumConnection.ts';
import type { FixedConnectionOptions } from '../host/momentumConnection.ts';
import type { Tape, Tensor } from '../tensor.ts';

/**
 * Fixed beta~ (section 5). x, g, mPrev: [..., C] of one shape; mPrev null for layer 1 (m_0 = 0).
 * beta~ in [0, 1), gamma~ > 0; beta~ = 0, gamma~ = 1 is exactly the residual x + g.
 */
export function momentumConnection(
  tape: Tape,
  x: Tensor,
  g: Tensor,
  mPrev: Tensor | null,
  opts: FixedConnectionOptions,
): { out: Tensor; m: Tensor } {
  const plan = planFixedInputs('momentumConnection', x, g, mPrev, opts);
  const out = tape.empty(x.shape, 'momentumConnection.out'); // [..., C]
  const m = tape.empty(x.shape, 'momentumConnection.m'); // [..., C]
  encodeFixedForward(tape.gpu, plan, x, g, mPrev, out, m);
  if (tape.needsGrad(x, g, mPrev)) {
    tape.tracks(out);
    tape.tracks(m);
    tape.record('momentumConnection', [out, m], () => {
      const dOut = out.grad;
      const dx = tape.empty(x.shape, 'momentumConnection.dx'); // [..., C]
      const dg = tape.empty(x.shape, 'momentumConnection.dg'); // [..., C]
      const dmPrev = mPrev ? tape.empty(x.shape, 'momentumConnection.dmPrev') : null; // [..., C]
      encodeFixedBackward(tape.gpu, plan, { dOut, dM: m.grad }, dx, dg, dmPrev);
      if (dOut) tape.accumulate(x, dx);
      else dx.dispose();
      tape.accumulate(g, dg);
      if (mPrev && dmPrev) tape.accumulate(mPrev, dmPrev);
    });
  }
  return { out, m };
}

/**
 * Adaptive beta~ (section 6, eq. 18) for layers l >= 2: per row t (token) of [..., C],
 *   beta~_t = proj_[0, 1-delta]((1 - sqrt(||g_t - gPrev_t|| / ||gPrev_t||))^2),
 * then m = beta~_t mPrev + g and out = x + gamma~ m. g is this layer's attention output, gPrev the
 * previous layer's, mPrev the previous layer's velocity (all [..., C]). Gradients flow through
 * beta~ into g and gPrev (see cpu/momentumConnection.ts for the clamps and the eps guard).
 * Layer 1 has m_0 = 0, so its beta~ does not matter: call `momentumConnection` with mPrev = null
 * there (any betaTilde, e.g. 0) and pass its g and m on to layer 2.
 * `beta` [...] (one value per row) is an output for metrics (e.g. each layer's mean beta~); it is
 * differentiable too, should a loss use it.
 */
export function adaptiveMomentumConnection(
  tape: Tape,
  x: Tensor,
  g: Tensor,
  gPrev: Tensor,
  mPrev: Tensor,
  opts: AdaptiveKernelOptions,
): { out: Tensor; m: Tensor; beta: Tensor } {
  const plan = planAdaptiveInputs(tape.gpu, 'adaptiveMomentumConnection', x, g, gPrev, mPrev, opts);
  const { rows } = plan;
  const rowShape = x.shape.slice(0, -1);
  const out = tape.empty(x.shape, 'adaptiveMomentumConnection.out'); // [..., C]
  const m = tape.empty(x.shape, 'adaptiveMomentumConnection.m'); // [..., C]
  const beta = tape.empty(rowShape, 'adaptiveMomentumConnection.beta'); // [...] = [R]
  const norms = tape.empty([rows, 2], 'adaptiveMomentumConnection.norms'); // [R, 2], for the backward
  encodeAdaptiveForward(tape.gpu, plan, { x, g, gPrev, mPrev, out, m, beta, norms });
  if (tape.needsGrad(x, g, gPrev, mPrev)) {
    tape.tracks(out);
    tape.tracks(m);
    tape.tracks(beta);
    tape.record('adaptiveMomentumConnection', [out, m, beta], () => {
      const dOut = out.grad;
      const result = {
        dx: tape.empty(x.shape, 'adaptiveMomentumConnection.dx'), // [..., C]
        dg: tape.empty(x.shape, 'adaptiveMomentumConnection.dg'), // [..., C]
        dgPrev: tape.empty(x.shape, 'adaptiveMomentumConnection.dgPrev'), // [..., C]
        dmPrev: tape.empty(x.shape, 'adaptiveMomentumConnection.dmPrev'), // [..., C]
      };
      encodeAdaptiveBackward(tape.gpu, plan, { g, gPrev, mPrev, norms }, { dOut, dM: m.grad, dBeta: beta.grad }, result);
      if (dOut) tape.accumulate(x, result.dx);
      else result.dx.dispose();
      tape.accumulate(g, result.dg);
      tape.accumulate(gPrev, result.dgPrev);
      tape.accumulate(mPrev, result.dmPrev);
    });
  }
  return { out, m, beta };
}
