import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/optim.ts';
import { globalNorm as cpuGlobalNorm } from '../../src/engine/cpu/reduce.ts';
import { optimizerUpdate, updateUniforms } from '../../src/engine/kernels/optim.ts';
import { Optimizer, lrAt, type LrSchedule, type OptimizerConfig, type OptimizerKind } from '../../src/engine/optim.ts';
import { addInto, empty, fromArray, parameter, type Tensor } from '../../src/engine/tensor.ts';
import { expectClose, randn, toF64, uniform, useGpu } from '../helpers.ts';

const KINDS: OptimizerKind[] = ['adam', 'adamw', 'radam'];
/** Odd sizes: below, across and far from a 256-thread workgroup. */
const SIZES = [37, 1000, 5];
/** RAdam's first rectified step is t = 6 with beta2 = 0.999, so run past it. */
const STEPS = 7;
/** The parameter whose gradient is null on SKIP_STEP (it must keep its values and moments). */
const SKIPPED = 2;
const SKIP_STEP = 3;

interface Case {
  name: string;
  cfg: Omit<OptimizerConfig, 'kind'>;
}

// Gradients are ~N(0, 1) over 1042 values (norm ~ 32): clip 1.0 always bites, clip 1e3 never does.
const CASES: Case[] = [
  { name: 'plain', cfg: { lr: 1e-2 } },
  { name: 'clip 1.0, weight decay 0.01 (the paper\'s copy task)', cfg: { lr: 1e-3, weightDecay: 0.01, clipNorm: 1 } },
  { name: 'inactive clip, strong weight decay, other betas', cfg: { lr: 3e-2, weightDecay: 0.1, clipNorm: 1e3, beta1: 0.8, beta2: 0.99, eps: 1e-6 } },
];

/** A warmup-then-cosine schedule, so every step has a different lr. */
function schedule(lr: number): LrSchedule {
  return { kind: 'cosine', lr, warmup: 2, total: STEPS, minLr: lr / 10 };
}

describe('fused optimizer updates on the GPU', () => {
  const gpu = useGpu();

  for (const kind of KINDS) {
    for (const c of CASES) {
      it(`${kind}, ${c.name}: ${STEPS} steps match the float64 reference`, async () => {
        const cfg: OptimizerConfig = { kind, ...c.cfg };
        const init = SIZES.map((n, i) => uniform(n, 10 + i, -1, 1));
        const params = init.map((x, i) => parameter(gpu(), x, [x.length], `p${i}`));
        const opt = new Optimizer(gpu(), params, cfg);
        const ref = { p: init.map(toF64), m: SIZES.map((n) => new Float64Array(n)), v: SIZES.map((n) => new Float64Array(n)) };
        const full = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...c.cfg };
        for (let s = 0; s < STEPS; s++) {
          const grads = SIZES.map((n, i) => randn(n, 1000 * s + i));
          const live = SIZES.map((_, i) => !(i === SKIPPED && s === SKIP_STEP));
          const gts = grads.map((g, i) => fromArray(gpu(), g, [g.length], `g${i}`)); // like p_i
          params.forEach((p, i) => (p.grad = live[i] ? gts[i]! : null));
          const lr = lrAt(schedule(c.cfg.lr), opt.stepCount);
          const submits = gpu().submitCount;
          opt.step(lr);
          expect(gpu().submitCount, 'step() must only record').toBe(submits);

          const norm = new Float64Array(1);
          cpuGlobalNorm(grads.filter((_, i) => live[i]).map(toF64), norm);
          const h: cpu.UpdateHyper = { ...full, lr, step: s + 1, clip: c.cfg.clipNorm ?? 0 };
          for (let i = 0; i < SIZES.length; i++) {
            if (live[i]) cpu.optimizerUpdate(kind, ref.p[i]!, toF64(grads[i]!), ref.m[i]!, ref.v[i]!, norm, h);
          }
          expectClose(await opt.gradNorm.read(), norm, { atol: 0, rtol: 1e-5, label: `gradNorm step ${s + 1}` });
          gts.forEach((g) => g.dispose());
        }
        const state = opt.stateTensors();
        for (let i = 0; i < SIZES.length; i++) {
          const at = `${kind} ${c.name} p${i}`;
          expectClose(await params[i]!.read(), ref.p[i]!, { atol: 2e-6, rtol: 1e-5, label: `${at} param` });
          expectClose(await state[2 * i]!.tensor.read(), ref.m[i]!, { atol: 1e-7, rtol: 1e-5, label: `${at} m` });
          expectClose(await state[2 * i + 1]!.tensor.read(), ref.v[i]!, { atol: 1e-9, rtol: 1e-5, label: `${at} v` });
        }
        opt.dispose();
        params.forEach((p) => p.dispose());
      });
    }
  }

  it('the clipped update equals the CPU update (clip scale from the GPU norm, no readback)', async () => {
    // A single primitive call with a norm written by hand: scale = 0.5 / (4 + 1e-6).
    const n = 37;
    const h: cpu.UpdateHyper = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, clip: 0.5 };
    const x = uniform(n, 1, -1, 1);
    const g = uniform(n, 2, -2, 2);
    for (const kind of KINDS) {
      const [p, gt, m, v] = [x, g, new Float32Array(n), new Float32Array(n)].map((a, i) => fromArray(gpu(), a, [n], `t${i}`));
      const norm = fromArray(gpu(), new Float32Array([4]), [1], 'norm'); // [1]
      optimizerUpdate(gpu(), kind, p!, gt!, m!, v!, norm, h);
      const ref = { p: toF64(x), m: new Float64Array(n), v: new Float64Array(n) };
      cpu.optimizerUpdate(kind, ref.p, toF64(g), ref.m, ref.v, new Float64Array([4]), h);
      expectClose(await m!.read(), ref.m, { atol: 1e-8, rtol: 1e-6, label: `${kind} clipped m` });
      expectClose(await p!.read(), ref.p, { atol: 1e-7, rtol: 1e-6, label: `${kind} clipped param` });
      // The scaled gradient is what the moment saw: m_1 = (1 - beta1) * g * scale.
      const scale = 0.5 / (4 + cpu.CLIP_EPS);
      expectClose(ref.m, Float64Array.from(g, (gi) => (1 - h.beta1) * gi * scale), { atol: 1e-12, rtol: 1e-6, label: 'scale' });
      [p, gt, m, v, norm].forEach((t) => t!.dispose());
    }
  });

  it('folds RAdam\'s rectification into the step size only from rho_t > 5', () => {
    const h = (step: number): cpu.UpdateHyper => ({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step, clip: 0 });
    for (let t = 1; t <= 5; t++) expect(updateUniforms('radam', 1, h(t)).rectified).toBe(0);
    const u6 = updateUniforms('radam', 1, h(6));
    expect(u6.rectified).toBe(1);
    expect(u6.stepSize).toBeCloseTo((1e-3 * 0.02582111280185855 * Math.sqrt(1 - 0.999 ** 6)) / (1 - 0.9 ** 6), 15);
  });

  it('minimises a quadratic on the GPU (gradient computed on the GPU, no readback per step)', async () => {
    const QUAD_STEPS = 60;
    const CHECK_EVERY = 20;
    const n = 1000;
    const target = uniform(n, 77, -1, 1);
    const loss = (x: Float32Array) => 0.5 * x.reduce((s, xi, i) => s + (xi - target[i]!) ** 2, 0);
    const negTarget = fromArray(gpu(), target.map((t) => -t), [n], 'negTarget'); // [n]
    for (const kind of KINDS) {
      for (const clipNorm of [undefined, 1]) {
        const x0 = new Float32Array(n);
        const x = parameter(gpu(), x0, [n], 'x'); // [n]
        const grad = empty(gpu(), [n], 'x.grad'); // [n]
        x.grad = grad;
        const opt = new Optimizer(gpu(), [x], { kind, lr: 0.05, clipNorm });
        // Read the loss every CHECK_EVERY steps: it must fall each time, and by half overall
        // (RAdam's r_t is still ~0.2 at step 100, so it moves slowest).
        const losses = [loss(x0)];
        for (let s = 1; s <= QUAD_STEPS; s++) {
          // grad = x - target for L = 0.5 |x - target|^2.
          gpu().copy({ buffer: x.buffer }, { buffer: grad.buffer }, n * 4);
          addInto(grad, negTarget);
          opt.step();
          if (s % CHECK_EVERY === 0) losses.push(loss(await x.read()));
        }
        const at = `${kind} clip ${clipNorm}: losses ${losses.map((l) => l.toFixed(2)).join(' ')}`;
        for (let k = 1; k < losses.length; k++) expect(losses[k], at).toBeLessThan(losses[k - 1]!);
        expect(losses.at(-1), at).toBeLessThan(0.5 * losses[0]!);
        opt.dispose();
        grad.dispose();
        x.dispose();
      }
    }
    negTarget.dispose();
  });

  it('restores from its state tensors and repeats bit for bit', async () => {
    const init = SIZES.map((n, i) => uniform(n, 30 + i, -1, 1));
    const grads = (s: number) => SIZES.map((n, i) => randn(n, 500 + 10 * s + i));
    const run = async (params: Tensor[], opt: Optimizer, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        const gts = grads(s).map((g, i) => fromArray(gpu(), g, [g.length], `g${i}`));
        params.forEach((p, i) => (p.grad = gts[i]!));
        opt.step();
        await gpu().sync();
        gts.forEach((g) => g.dispose());
      }
    };
    const cfg: OptimizerConfig = { kind: 'radam', lr: 1e-2, weightDecay: 0.01, clipNorm: 1 };
    const a = init.map((x, i) => parameter(gpu(), x, [x.length], `a${i}`));
    const optA = new Optimizer(gpu(), a, cfg);
    await run(a, optA, 0, 4);
    // A second optimizer picks up after step 4 from A's parameters, moments and step count.
    const b = await Promise.all(a.map(async (p, i) => parameter(gpu(), await p.read(), p.shape, `b${i}`)));
    const optB = new Optimizer(gpu(), b, cfg);
    const stateA = optA.stateTensors();
    const stateB = optB.stateTensors();
    expect(stateB.map((s) => s.name)).toEqual(['m.0.b0', 'v.0.b0', 'm.1.b1', 'v.1.b1', 'm.2.b2', 'v.2.b2']);
    for (let k = 0; k < stateA.length; k++) stateB[k]!.tensor.write(await stateA[k]!.tensor.read());
    optB.stepCount = optA.stepCount;
    await run(a, optA, 4, 7);
    await run(b, optB, 4, 7);
    for (let i = 0; i < SIZES.length; i++) {
      expect(Array.from(await b[i]!.readU32()), `param ${i}`).toEqual(Array.from(await a[i]!.readU32()));
    }
    expect((await optB.gradNorm.readU32())[0]).toBe((await optA.gradNorm.readU32())[0]);
    optA.dispose();
    optB.dispose();
    [...a, ...b].forEach((p) => p.dispose());
  });

  it('rejects bad configs and gradients before dispatching', () => {
    const p = parameter(gpu(), new Float32Array(5), [5], 'p'); // [5]
    const bad: [Partial<OptimizerConfig>, RegExp][] = [
      [{ lr: 0 }, /lr must be a finite number > 0, got 0/],
      [{ lr: NaN }, /lr must be/],
      [{ beta1: 1 }, /beta1 must be in \[0, 1\), got 1/],
      [{ beta2: -0.1 }, /beta2 must be in \[0, 1\)/],
      [{ eps: 0 }, /eps must be a finite number > 0/],
      [{ weightDecay: -1 }, /weightDecay must be a finite number >= 0/],
      [{ clipNorm: 0 }, /clipNorm must be a finite number > 0/],
      [{ kind: 'sgd' as OptimizerKind }, /unknown kind 'sgd'/],
    ];
    for (const [cfg, msg] of bad) {
      expect(() => new Optimizer(gpu(), [p], { kind: 'adam', lr: 1e-3, ...cfg })).toThrow(msg);
    }
    expect(() => new Optimizer(gpu(), [], { kind: 'adam', lr: 1e-3 })).toThrow(/no parameters/);
    expect(() => new Optimizer(gpu(), [p, p], { kind: 'adam', lr: 1e-3 })).toThrow(/shares its buffer/);
    const opt = new Optimizer(gpu(), [p], { kind: 'adamw', lr: 1e-3 });
    const wrong = fromArray(gpu(), new Float32Array(4), [4], 'wrong'); // [4]
    p.grad = wrong;
    const before = gpu().dispatchCount;
    expect(() => opt.step()).toThrow(/grad of 'p' has 4 values, the parameter 5/);
    expect(() => opt.step(-1)).toThrow(/lr must be a finite number >= 0, got -1/);
    const g = fromArray(gpu(), new Float32Array(5), [5], 'g'); // [5]
    const m = fromArray(gpu(), new Float32Array(4), [4], 'm'); // [4]
    const h: cpu.UpdateHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, clip: 0 };
    expect(() => optimizerUpdate(gpu(), 'adam', p, g, m, g, g, h)).toThrow(/m 'm' has 4 values, param 'p' has 5/);
    expect(() => optimizerUpdate(gpu(), 'adam', p, g, g, g, g, { ...h, step: 0 })).toThrow(/step must be an integer >= 1/);
    expect(() => optimizerUpdate(gpu(), 'adam', p, g, g, g, g, h)).toThrow(/five different buffers/);
    expect(gpu().dispatchCount).toBe(before);
    expect(opt.stepCount).toBe(0);
    p.grad = null;
    opt.step();
    expect(opt.stepCount).toBe(1);
    opt.dispose();
    expect(() => opt.step()).toThrow(/after dispose/);
    [p, wrong, g, m].forEach((t) => t.dispose());
  });
});
