import { describe, expect, it } from 'vitest';
import {
  CLIP_EPS,
  RADAM_RHO_THRESHOLD,
  clipScale,
  optimizerUpdate,
  radamRectifier,
  radamRho,
  type OptimizerKind,
  type UpdateHyper,
} from '../../src/engine/cpu/optim.ts';
import { lrAt, resolveOptimizerConfig, validateSchedule, type LrSchedule } from '../../src/engine/optim.ts';

// The optimizers have no backward; these pin the float64 references against hand-computed steps.
const BASE: Omit<UpdateHyper, 'step'> = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clip: 0 };

/** Runs `steps` updates of one scalar parameter with a constant gradient; returns p after each. */
function trajectory(kind: OptimizerKind, p0: number, g: number, steps: number, h: Omit<UpdateHyper, 'step'>): number[] {
  const p = new Float64Array([p0]);
  const m = new Float64Array(1);
  const v = new Float64Array(1);
  const out: number[] = [];
  for (let t = 1; t <= steps; t++) {
    optimizerUpdate(kind, p, new Float64Array([g]), m, v, new Float64Array([Math.abs(g)]), { ...h, step: t });
    out.push(p[0]!);
  }
  return out;
}

describe('optimizer references, by hand', () => {
  it('Adam and AdamW: with a constant gradient every bias-corrected step is lr * g / (|g| + eps)', () => {
    // m_t = (1 - beta1^t) g and v_t = (1 - beta2^t) g^2 exactly, so m_hat = g and sqrt(v_hat) = |g|.
    const g = 0.5;
    const stepLen = (0.1 * g) / (g + 1e-8);
    for (const kind of ['adam', 'adamw'] as const) {
      const ps = trajectory(kind, 1, g, 3, BASE);
      ps.forEach((p, k) => expect(p).toBeCloseTo(1 - (k + 1) * stepLen, 12));
    }
  });

  it('Adam couples weight decay into the gradient, AdamW decouples it', () => {
    const h = { ...BASE, weightDecay: 0.1 };
    // Zero gradient, p = 2. Adam sees g = wd * p = 0.2 and steps by ~lr; AdamW only shrinks p by lr * wd.
    expect(trajectory('adam', 2, 0, 1, h)[0]).toBeCloseTo(2 - (0.1 * 0.2) / (0.2 + 1e-8), 12);
    expect(trajectory('adamw', 2, 0, 1, h)[0]).toBeCloseTo(2 * (1 - 0.1 * 0.1), 12);
    expect(trajectory('radam', 2, 0, 1, h)[0]).toBeCloseTo(2 * (1 - 0.1 * 0.1), 12);
  });

  it('RAdam: rho_t and r_t for the first steps (beta2 = 0.999)', () => {
    // rho_inf = 2 / 0.001 - 1 = 1999; rho_t = 1999 - 2 t 0.999^t / (1 - 0.999^t) ~ t for small t.
    const rho = [1, 1.999499749846109, 2.9986659997755396, 3.9974987498546852, 4.995998000395048, 5.994163751655833];
    rho.forEach((r, k) => {
      expect(radamRho(0.999, k + 1).rhoInf).toBeCloseTo(1999, 9);
      expect(radamRho(0.999, k + 1).rho).toBeCloseTo(r, 9);
    });
    expect(RADAM_RHO_THRESHOLD).toBe(5);
    // Step 5 has rho = 4.996 > 4 (the paper's test) but <= 5 (the authors' code): un-rectified.
    for (let t = 1; t <= 5; t++) expect(radamRectifier(0.999, t)).toBeNull();
    // r_6 = sqrt((rho - 4)(rho - 2) 1999 / (1995 * 1997 * rho)) at rho = 5.994163751655833.
    const r6 = Math.sqrt((1.994163751655833 * 3.994163751655833 * 1999) / (1995 * 1997 * 5.994163751655833));
    expect(r6).toBeCloseTo(0.02582111280185855, 14);
    expect(radamRectifier(0.999, 6)).toBeCloseTo(r6, 14);
  });

  it('RAdam: five momentum-only steps, then the first rectified step, with decoupled decay', () => {
    const h = { ...BASE, lr: 1e-3, weightDecay: 0.01 };
    const g = 0.5;
    const shrink = 1 - 1e-3 * 0.01;
    // Steps 1-5: p <- p * shrink - lr * m_hat, and m_hat = g for a constant gradient.
    let p = 1;
    const expected: number[] = [];
    for (let t = 1; t <= 5; t++) expected.push((p = p * shrink - 1e-3 * g));
    // Step 6: p <- p * shrink - lr r_6 sqrt(1 - beta2^6) / (1 - beta1^6) * m_6 / (sqrt(v_6) + eps),
    // with m_6 = (1 - 0.9^6) g and sqrt(v_6) = sqrt(1 - 0.999^6) g.
    const s6 = Math.sqrt(1 - 0.999 ** 6);
    expected.push(p * shrink - (1e-3 * 0.02582111280185855 * s6 * g) / (s6 * g + 1e-8));
    const ps = trajectory('radam', 1, g, 6, h);
    ps.forEach((pt, k) => expect(pt, `step ${k + 1}`).toBeCloseTo(expected[k]!, 14));
  });

  it('clipping scales the gradient by min(1, clip / (norm + 1e-6)) before anything else', () => {
    expect(clipScale(10, 1)).toBe(1 / (10 + CLIP_EPS));
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(10, 0)).toBe(1);
    // A clipped update equals the unclipped update of the pre-scaled gradient, for every kind.
    const g = Float64Array.from([3, -4, 0.5]);
    const norm = Math.hypot(...g);
    const scale = 2 / (norm + CLIP_EPS);
    for (const kind of ['adam', 'adamw', 'radam'] as const) {
      const h = { ...BASE, weightDecay: 0.05, step: 7 };
      const run = (grad: Float64Array, clip: number) => {
        const p = Float64Array.from([1, 2, 3]);
        const m = Float64Array.from([0.1, 0.2, 0.3]);
        const v = Float64Array.from([0.01, 0.02, 0.03]);
        optimizerUpdate(kind, p, grad, m, v, new Float64Array([norm]), { ...h, clip });
        return [...p, ...m, ...v];
      };
      const clipped = run(g, 2);
      const prescaled = run(g.map((x) => x * scale), 0);
      clipped.forEach((x, i) => expect(x).toBeCloseTo(prescaled[i]!, 14));
    }
  });

  it('rejects bad hyperparameters and mismatched lengths', () => {
    const a = new Float64Array(3);
    const one = new Float64Array(1);
    const h = { ...BASE, step: 1 };
    expect(() => optimizerUpdate('adam', a, a, a, new Float64Array(2), one, h)).toThrow(/equal lengths/);
    expect(() => optimizerUpdate('adam', a, a, a, a, one, { ...h, beta2: 1 })).toThrow(/beta2 must be in \[0, 1\)/);
    expect(() => optimizerUpdate('adam', a, a, a, a, one, { ...h, step: 1.5 })).toThrow(/step must be an integer >= 1/);
    expect(() => optimizerUpdate('sgd' as OptimizerKind, a, a, a, a, one, h)).toThrow(/unknown kind/);
  });

  it('fills config defaults', () => {
    expect(resolveOptimizerConfig({ kind: 'radam', lr: 1e-3, weightDecay: 0.01, clipNorm: 1 })).toEqual({
      kind: 'radam',
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
      clipNorm: 1,
    });
  });
});

describe('learning-rate schedules', () => {
  const cases: { name: string; s: LrSchedule; at: [number, number][] }[] = [
    { name: 'constant', s: { kind: 'constant', lr: 1e-3 }, at: [[0, 1e-3], [12345, 1e-3]] },
    {
      name: 'constant with warmup 4',
      s: { kind: 'constant', lr: 1e-3, warmup: 4 },
      at: [[0, 2.5e-4], [1, 5e-4], [3, 1e-3], [4, 1e-3]],
    },
    {
      // The copy task: 100 steps per epoch, lr x 0.1 from epoch 30.
      name: 'step (copy task)',
      s: { kind: 'step', lr: 1e-3, milestones: [3000], factor: 0.1 },
      at: [[0, 1e-3], [2999, 1e-3], [3000, 1e-4], [9999, 1e-4]],
    },
    {
      name: 'step, two milestones, warmup 10',
      s: { kind: 'step', lr: 1, milestones: [5, 20], factor: 0.5, warmup: 10 },
      at: [[0, 0.1], [4, 0.5], [5, 0.5 * 0.6], [9, 0.5], [19, 0.5], [20, 0.25]],
    },
    {
      name: 'cosine with warmup',
      s: { kind: 'cosine', lr: 1, warmup: 10, total: 110, minLr: 0.1 },
      at: [[0, 0.1], [9, 1], [10, 1], [60, 0.55], [110, 0.1], [500, 0.1]],
    },
    {
      // The authors' LRA schedule: warm-up, then a straight line to minLr at the last step.
      name: 'linear decay with warmup',
      s: { kind: 'linear', lr: 1, warmup: 10, total: 110, minLr: 0 },
      at: [[0, 0.1], [9, 1], [10, 1], [35, 0.75], [60, 0.5], [110, 0], [500, 0]],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      for (const [step, lr] of c.at) expect(lrAt(c.s, step), `step ${step}`).toBeCloseTo(lr, 12);
    });
  }

  it('cosine decays monotonically between warmup and total', () => {
    const s: LrSchedule = { kind: 'cosine', lr: 3e-4, warmup: 3, total: 50, minLr: 1e-5 };
    for (let t = 3; t < 60; t++) expect(lrAt(s, t + 1)).toBeLessThanOrEqual(lrAt(s, t));
  });

  it('rejects bad schedules and steps', () => {
    const bad: [LrSchedule, RegExp][] = [
      [{ kind: 'constant', lr: 0 }, /lr must be a finite number > 0/],
      [{ kind: 'constant', lr: 1, warmup: -1 }, /warmup must be an integer >= 0/],
      [{ kind: 'step', lr: 1, milestones: [10, 5], factor: 0.1 }, /milestones must increase/],
      [{ kind: 'step', lr: 1, milestones: [1.5], factor: 0.1 }, /milestones\[0\] must be an integer/],
      [{ kind: 'step', lr: 1, milestones: [], factor: 0 }, /factor must be/],
      [{ kind: 'cosine', lr: 1, warmup: 10, total: 10, minLr: 0 }, /total must be an integer > warmup/],
      [{ kind: 'cosine', lr: 1, total: 10, minLr: 2 }, /minLr must be in \[0, lr = 1\]/],
      [{ kind: 'linear', lr: 1, warmup: 1000, total: 1000, minLr: 0 }, /total must be an integer > warmup \(1000\)/],
      [{ kind: 'linear', lr: 1, total: 10, minLr: -1 }, /minLr must be in \[0, lr = 1\]/],
      [{ kind: 'exponential', lr: 1 } as unknown as LrSchedule, /unknown kind/],
    ];
    for (const [s, msg] of bad) expect(() => validateSchedule(s)).toThrow(msg);
    expect(() => lrAt({ kind: 'constant', lr: 1 }, -1)).toThrow(/step must be an integer >= 0/);
  });
});
