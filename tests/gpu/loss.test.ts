import { describe, expect, it } from 'vitest';
import {
  crossEntropyBackward as cpuCeBackward,
  crossEntropyForward as cpuCeForward,
  dmolBackward as cpuDmolBackward,
  dmolForward as cpuDmolForward,
  maskedMean as cpuMaskedMean,
} from '../../src/engine/cpu/loss.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import { DMOL_ROWS_PER_WG, crossEntropyWorkgroup, type LossVariant } from '../../src/engine/kernels/loss.ts';
import { crossEntropy, dmolLoss } from '../../src/engine/ops/loss.ts';
import { Tape, fromArray, variable } from '../../src/engine/tensor.ts';
import { checkDirectional, expectClose, randn, rng, toF64, uniform, useGpu } from '../helpers.ts';

type MaskKind = 'none' | 'some' | 'weights' | 'all zero';

function makeMask(kind: MaskKind, rows: number, seed: number): Float32Array | null {
  if (kind === 'none') return null;
  if (kind === 'all zero') return new Float32Array(rows);
  const r = rng(seed);
  return Float32Array.from({ length: rows }, () => (r() < 0.35 ? 0 : kind === 'some' ? 1 : 0.25 + r()));
}

function randomTargets(n: number, classes: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(r() * classes));
}

const DLOSS = 0.7; // a random upstream gradient of the scalar loss

interface Run {
  loss: Float32Array;
  nll: Float32Array;
  denom: Float32Array;
  argmax?: Uint32Array;
  grad: Float32Array | null;
}

/** One loss through its op on the GPU; with `backward`, also d(loss * DLOSS)/d(input). */
async function runLoss(
  gpu: Gpu,
  kind: 'ce' | 'dmol',
  x: Float32Array,
  shape: number[],
  targets: Uint32Array,
  mask: Float32Array | null,
  opts: { backward: boolean; variant?: LossVariant },
): Promise<Run> {
  const tape = new Tape(gpu);
  const tx = tape.own(variable(gpu, x, shape, 'x'));
  const tt = tape.own(fromArray(gpu, targets, [targets.length], 'targets'));
  const tm = mask ? tape.own(fromArray(gpu, mask, [mask.length], 'mask')) : null;
  const ce = kind === 'ce' ? crossEntropy(tape, tx, tt, tm, { variant: opts.variant }) : null;
  const out = ce ?? dmolLoss(tape, tx, tt, tm);
  let grad: Float32Array | null = null;
  if (opts.backward) {
    tape.backward(out.loss, tape.own(fromArray(gpu, Float32Array.from([DLOSS]), [1], 'dloss')));
    grad = await tx.grad!.read();
  }
  const run: Run = { loss: await out.loss.read(), nll: await out.nll.read(), denom: await out.denom.read(), grad };
  if (ce) run.argmax = await ce.argmax.readU32();
  tape.dispose();
  return run;
}

function cpuCe(x: Float32Array, targets: Uint32Array, mask: Float32Array | null, V: number) {
  const R = targets.length;
  const logits = toF64(x);
  const m = mask ? toF64(mask) : null;
  const nll = new Float64Array(R);
  const stats = new Float64Array(2 * R);
  const argmax = new Uint32Array(R);
  cpuCeForward(logits, targets, nll, stats, argmax, V);
  const loss = new Float64Array(1);
  const denom = new Float64Array(1);
  cpuMaskedMean(nll, m, loss, denom);
  const grad = new Float64Array(R * V);
  cpuCeBackward(logits, targets, m, stats, denom, Float64Array.from([DLOSS]), grad, V);
  return { loss, nll, argmax, denom, grad };
}

function cpuDmol(x: Float32Array, targets: Uint32Array, mask: Float32Array | null, K: number) {
  const params = toF64(x);
  const m = mask ? toF64(mask) : null;
  const nll = new Float64Array(targets.length);
  cpuDmolForward(params, targets, nll, K);
  const loss = new Float64Array(1);
  const denom = new Float64Array(1);
  cpuMaskedMean(nll, m, loss, denom);
  const grad = new Float64Array(params.length);
  cpuDmolBackward(params, targets, m, denom, Float64Array.from([DLOSS]), grad, K);
  return { loss, nll, denom, grad };
}

/** Mixture rows [R, 3K]: logits ~ N(0, 1), means in [-1, 1], log-scales in [lo, hi]. */
function mixtureParams(rows: number, K: number, seed: number, lo: number, hi: number): Float32Array {
  const logits = randn(rows * K, seed);
  const means = uniform(rows * K, seed + 1, -1, 1);
  const scales = uniform(rows * K, seed + 2, lo, hi);
  const out = new Float32Array(rows * 3 * K);
  for (let r = 0; r < rows; r++) {
    out.set(logits.subarray(r * K, (r + 1) * K), r * 3 * K);
    out.set(means.subarray(r * K, (r + 1) * K), r * 3 * K + K);
    out.set(scales.subarray(r * K, (r + 1) * K), r * 3 * K + 2 * K);
  }
  return out;
}

describe('cross-entropy on the GPU', () => {
  const gpu = useGpu();

  // V = 300 is more than one 256-thread row workgroup; V = 11 and 13 leave most of a 32-thread one idle.
  const cases: { V: number; R: number; mask: MaskKind; scale?: number }[] = [
    { V: 11, R: 37, mask: 'some' },
    { V: 13, R: 1, mask: 'none' },
    { V: 256, R: 70, mask: 'weights' },
    { V: 300, R: 5, mask: 'some' },
    { V: 3, R: 40, mask: 'all zero' },
    { V: 11, R: 9, mask: 'some', scale: 1e4 },
  ];
  for (const variant of ['gpu', 'swiftshader'] as const) {
    for (const c of cases) {
      const name = `${variant}: V=${c.V} R=${c.R} mask ${c.mask}${c.scale ? ` logits x${c.scale}` : ''}`;
      it(`matches the CPU reference, forward and backward, ${name}`, async () => {
        const x = randn(c.R * c.V, c.V + c.R, 2 * (c.scale ?? 1));
        const targets = randomTargets(c.R, c.V, 3);
        const mask = makeMask(c.mask, c.R, 4);
        const got = await runLoss(gpu(), 'ce', x, [c.R, c.V], targets, mask, { backward: true, variant });
        const want = cpuCe(x, targets, mask, c.V);
        expect(Array.from(got.argmax!)).toEqual(Array.from(want.argmax));
        // nll = (max - x_t) + log sum: exact to f32 rounding of each term, also at 1e4.
        const tol = { atol: 2e-6 * (c.scale ?? 1), rtol: 1e-5 };
        expectClose(got.nll, want.nll, { ...tol, label: `${name} nll` });
        expectClose(got.loss, want.loss, { ...tol, label: `${name} loss` });
        expectClose(got.denom, want.denom, { atol: 1e-6, label: `${name} denom` });
        expect(got.grad!.every(Number.isFinite)).toBe(true);
        expectClose(got.grad!, want.grad, { atol: 1e-6, rtol: 1e-4, label: `${name} dlogits` });
        if (c.mask === 'all zero') {
          expect(got.loss[0]).toBe(0);
          expect(got.grad!.every((v) => v === 0)).toBe(true);
        }
      });
    }
  }

  for (const variant of ['gpu', 'swiftshader'] as const) {
    it(`breaks argmax ties towards the lowest index, across threads (${variant})`, async () => {
      const V = 70; // a 128-thread row: indices 5, 37 and 69 belong to different threads
      const x = new Float32Array(2 * V).fill(-1);
      for (const v of [69, 37, 5]) x[v] = 2;
      x.fill(0.5, V); // a constant row: every index ties
      const got = await runLoss(gpu(), 'ce', x, [2, V], Uint32Array.from([0, 1]), null, { backward: false, variant });
      expect(Array.from(got.argmax!)).toEqual([5, 0]);
    });
  }

  it('sizes the per-row workgroup from V', () => {
    expect([1, 11, 33, 256, 300].map(crossEntropyWorkgroup)).toEqual([32, 32, 64, 256, 256]);
  });

  for (const variant of ['gpu', 'swiftshader'] as const) {
    it(`passes a directional-derivative check (${variant})`, async () => {
      const [V, R] = [11, 37];
      const x = randn(R * V, 5, 2);
      const targets = randomTargets(R, V, 6);
      const mask = makeMask('weights', R, 7);
      const g = await runLoss(gpu(), 'ce', x, [R, V], targets, mask, { backward: true, variant });
      await checkDirectional({
        forward: async ([xs]) => (await runLoss(gpu(), 'ce', xs!, [R, V], targets, mask, { backward: false, variant })).loss,
        inputs: [x],
        grads: [g.grad!],
        dout: Float32Array.from([DLOSS]),
        label: `crossEntropy ${variant}`,
      });
    });
  }

  it('handles more rows than one grid dimension holds, bit-identically from run to run', async () => {
    const V = 3;
    const R = gpu().limits.maxComputeWorkgroupsPerDimension + 37; // one workgroup per row
    const x = randn(R * V, 8);
    const targets = randomTargets(R, V, 9);
    const mask = makeMask('some', R, 10);
    const a = await runLoss(gpu(), 'ce', x, [R, V], targets, mask, { backward: true, variant: 'gpu' });
    const want = cpuCe(x, targets, mask, V);
    expectClose(a.nll, want.nll, { atol: 2e-6, rtol: 1e-5, label: 'many rows nll' });
    expectClose(a.loss, want.loss, { atol: 1e-6, rtol: 1e-5, label: 'many rows loss' });
    expectClose(a.grad!, want.grad, { atol: 1e-9, rtol: 1e-4, label: 'many rows dlogits' });
    const b = await runLoss(gpu(), 'ce', x, [R, V], targets, mask, { backward: true, variant: 'gpu' });
    expect(b.loss).toEqual(a.loss);
    expect(b.grad).toEqual(a.grad);
  });

  it('gives NaN per-row loss for GPU targets outside V, kept out of the loss when masked', async () => {
    const x = randn(3 * 4, 11);
    const got = await runLoss(gpu(), 'ce', x, [3, 4], Uint32Array.from([1, 9, 2]), Float32Array.from([1, 0, 1]), { backward: true });
    expect(Number.isNaN(got.nll[1]!)).toBe(true);
    expectClose(got.loss, [(got.nll[0]! + got.nll[2]!) / 2], { atol: 1e-6, label: 'loss without the bad row' });
    expect(Array.from(got.grad!.subarray(4, 8))).toEqual([0, 0, 0, 0]);
  });

  it('rejects bad inputs before allocating or dispatching', () => {
    const tape = new Tape(gpu());
    const logits = tape.own(variable(gpu(), new Float32Array(12), [3, 4], 'logits'));
    const targets = tape.own(fromArray(gpu(), new Uint32Array(2), [2], 'targets'));
    const fTargets = tape.own(fromArray(gpu(), new Float32Array(3), [3], 'ftargets'));
    const mask = tape.own(fromArray(gpu(), new Float32Array(2), [2], 'mask'));
    const t3 = tape.own(fromArray(gpu(), new Uint32Array(3), [3], 't3'));
    const before = [gpu().dispatchCount, gpu().pool.inUseBytes];
    expect(() => crossEntropy(tape, logits, targets, null)).toThrow(/targets 'targets' must hold 3 values, its shape is \[2\]/);
    expect(() => crossEntropy(tape, logits, fTargets, null)).toThrow(/targets 'ftargets' must be u32, it is f32/);
    expect(() => dmolLoss(tape, logits, t3, null)).toThrow(/mixture rows hold 3K values .* got 4/);
    expect(() => crossEntropy(tape, logits, t3, mask)).toThrow(/mask 'mask' must hold 3 values/);
    expect([gpu().dispatchCount, gpu().pool.inUseBytes]).toEqual(before);
    tape.dispose();
  });
});

describe('discretized mixture of logistics on the GPU', () => {
  const gpu = useGpu();

  const edge = (R: number) => Uint32Array.from({ length: R }, (_, i) => [0, 255, 128, 1, 254][i % 5]!);
  // R = 70 is more than one 64-row workgroup (DMOL_ROWS_PER_WG); K = 3 checks the component count is not fixed at 10.
  const cases: { name: string; R: number; K: number; lo: number; hi: number; targets?: (R: number) => Uint32Array; mask: MaskKind }[] = [
    { name: 'random', R: 37, K: 10, lo: -4, hi: 0.5, mask: 'some' },
    { name: 'one row at pixel 0', R: 1, K: 10, lo: -3, hi: 0, targets: () => Uint32Array.from([0]), mask: 'none' },
    { name: 'edges, > one workgroup', R: DMOL_ROWS_PER_WG + 6, K: 10, lo: -5, hi: 0.5, targets: edge, mask: 'weights' },
    { name: 'narrow (fallback)', R: 5, K: 10, lo: -6.8, hi: -5.5, mask: 'none' },
    { name: 'clamped log-scales', R: 3, K: 10, lo: -9, hi: -7.5, mask: 'none' },
    { name: 'all masked', R: 4, K: 10, lo: -3, hi: 0, mask: 'all zero' },
    { name: 'K = 3', R: 9, K: 3, lo: -3, hi: 1, mask: 'some' },
  ];
  for (const c of cases) {
    it(`matches the CPU reference, forward and backward: ${c.name}`, async () => {
      const x = mixtureParams(c.R, c.K, 30 + c.R, c.lo, c.hi);
      const targets = c.targets ? c.targets(c.R) : randomTargets(c.R, 256, 31);
      const mask = makeMask(c.mask, c.R, 32);
      const got = await runLoss(gpu(), 'dmol', x, [c.R, 3 * c.K], targets, mask, { backward: true });
      const want = cpuDmol(x, targets, mask, c.K);
      // f32 logs of bin masses: relative error ~1e-6 of terms up to |mid| ~ 1e3 in the fallback.
      expectClose(got.nll, want.nll, { atol: 1e-5, rtol: 1e-5, label: `${c.name} nll` });
      expectClose(got.loss, want.loss, { atol: 1e-5, rtol: 1e-5, label: `${c.name} loss` });
      expectClose(got.denom, want.denom, { atol: 1e-6, label: `${c.name} denom` });
      expectClose(got.grad!, want.grad, { atol: 1e-6, rtol: 1e-3, label: `${c.name} dparams` });
      if (c.mask === 'all zero') expect(got.grad!.every((v) => v === 0)).toBe(true);
    });
  }

  it('passes a directional-derivative check', async () => {
    const [R, K] = [DMOL_ROWS_PER_WG + 6, 10];
    const x = mixtureParams(R, K, 50, -4, 0.5);
    const targets = Uint32Array.from({ length: R }, (_, i) => (i % 7 === 0 ? 0 : i % 7 === 1 ? 255 : (i * 37) % 256));
    const mask = makeMask('some', R, 51);
    const g = await runLoss(gpu(), 'dmol', x, [R, 3 * K], targets, mask, { backward: true });
    await checkDirectional({
      forward: async ([xs]) => (await runLoss(gpu(), 'dmol', xs!, [R, 3 * K], targets, mask, { backward: false })).loss,
      inputs: [x],
      grads: [g.grad!],
      dout: Float32Array.from([DLOSS]),
      h: 1e-3,
      label: 'dmolLoss',
    });
  });

  it('gives NaN per-row loss for a target above 255, kept out of the loss when masked', async () => {
    const x = mixtureParams(2, 10, 60, -3, 0);
    const got = await runLoss(gpu(), 'dmol', x, [2, 30], Uint32Array.from([256, 17]), Float32Array.from([0, 1]), { backward: true });
    expect(Number.isNaN(got.nll[0]!)).toBe(true);
    expectClose(got.loss, [got.nll[1]!], { atol: 1e-6, label: 'loss without the bad row' });
    expect(got.grad!.subarray(0, 30).every((v) => v === 0)).toBe(true);
  });
});
