// The identities momentum attention must satisfy (MATH.md sections 3, 4 and 9), on the GPU:
// beta = 0, gamma = 1 is linear attention exactly; beta = 0 is gamma times linear attention; the
// RNN form (12), the closed form (13) and the chunked scan agree for long sequences; the chunked
// scan keeps its precision at beta = 0.99, N = 4096; N recurrent steps reproduce the parallel
// forward; non-causal attention is the closed form (14).
import { describe, expect, it } from 'vitest';
import {
  momentumChunkedCpu,
  momentumClosedBackwardCpu,
  momentumClosedCpu,
  momentumRecurrentCpu,
} from '../../src/engine/cpu/linearAttention.ts';
import type { Gpu } from '../../src/engine/gpu.ts';
import {
  MomentumState,
  momentumAttentionBackward,
  momentumAttentionForward,
  momentumChunk,
  momentumSavedShapes,
  type AttentionDims,
  type MomentumConfig,
} from '../../src/engine/kernels/linearAttention.ts';
import { empty, fromArray, type Tensor } from '../../src/engine/tensor.ts';
import { maxRelError, randn, toF64, uniform, useGpu } from '../helpers.ts';

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  dout: Float32Array;
}

/** Moderate q, k; values in [0.5, 1.5], so outputs stay positive and relative errors mean something. */
function inputs(d: AttentionDims, seed: number): Inputs {
  const { batch: b, heads: h, seq: n, dim, dimV } = d;
  return {
    q: randn(b * h * n * dim, seed, 0.5),
    k: randn(b * h * n * dim, seed + 1, 0.5),
    v: uniform(b * h * n * dimV, seed + 2, 0.5, 1.5),
    dout: randn(b * h * n * dimV, seed + 3),
  };
}

type Result = Record<'out' | 'states' | 'z' | 'den' | 'dq' | 'dk' | 'dv', Float32Array>;

/** Forward (and backward with dout) through the primitives; everything read back. */
async function run(gpu: Gpu, d: AttentionDims, cfg: MomentumConfig, x: Inputs, backward: boolean): Promise<Result> {
  const { batch: b, heads: h, seq: n, dim, dimV } = d;
  const momentum = (cfg.path ?? (cfg.beta === 0 && cfg.gamma === 1 ? 'linear' : 'momentum')) === 'momentum';
  const shapes = momentumSavedShapes(d, cfg.chunk ?? momentumChunk(gpu, cfg.variant), momentum);
  const owned: Tensor[] = [];
  const own = (t: Tensor) => (owned.push(t), t);
  const q = own(fromArray(gpu, x.q, [b, h, n, dim], 'q'));
  const k = own(fromArray(gpu, x.k, [b, h, n, dim], 'k'));
  const v = own(fromArray(gpu, x.v, [b, h, n, dimV], 'v'));
  const out = own(empty(gpu, [b, h, n, dimV], 'out'));
  const saved = {
    states: own(empty(gpu, shapes.states, 'states')),
    z: own(empty(gpu, shapes.z, 'z')),
    den: own(empty(gpu, shapes.den, 'den')),
  };
  momentumAttentionForward(gpu, { q, k, v, out, ...saved, dims: d, ...cfg });
  const res = { out: await out.read(), states: await saved.states.read(), z: await saved.z.read(), den: await saved.den.read() } as Result;
  if (backward) {
    const dout = own(fromArray(gpu, x.dout, [b, h, n, dimV], 'dout'));
    const dq = own(empty(gpu, [b, h, n, dim], 'dq'));
    const dk = own(empty(gpu, [b, h, n, dim], 'dk'));
    const dv = own(empty(gpu, [b, h, n, dimV], 'dv'));
    momentumAttentionBackward(gpu, { q, k, v, out, dout, dq, dk, dv, ...saved, dims: d, ...cfg });
    res.dq = await dq.read();
    res.dk = await dk.read();
    res.dv = await dv.read();
  }
  for (const t of owned) t.dispose();
  return res;
}

/** Index of the first element where a and b differ (=== on floats), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const dims = (batch: number, heads: number, seq: number, dim: number, dimV: number): AttentionDims => ({
  batch,
  heads,
  seq,
  dim,
  dimV,
});

const VARIANTS = ['gpu', 'swiftshader'] as const;

describe('momentum attention identities on the GPU', () => {
  const gpu = useGpu();

  for (const variant of VARIANTS) {
    for (const causal of [true, false]) {
      it(`${variant}, ${causal ? 'causal' : 'non-causal'}: beta = 0, gamma = 1 on the momentum path is the linear path, bit for bit`, async () => {
        const d = dims(2, 2, 45, 5, 7);
        const x = inputs(d, 10);
        const base = { causal, beta: 0, gamma: 1, variant };
        const mom = await run(gpu(), d, { ...base, path: 'momentum' }, x, true);
        const lin = await run(gpu(), d, { ...base, path: 'linear' }, x, true);
        // The momentum path saves (S, m) pairs, the linear path S alone.
        mom.states = mom.states.filter((_, i) => i % 2 === 0);
        for (const key of ['out', 'states', 'z', 'den', 'dq', 'dk', 'dv'] as const) {
          const at = firstDifference(mom[key], lin[key]);
          expect(at, `${key}[${at}]: momentum path ${mom[key][at]}, linear path ${lin[key][at]}`).toBe(-1);
        }
      });

      it(`${variant}, ${causal ? 'causal' : 'non-causal'}: beta = 0 is gamma times linear attention`, async () => {
        const d = dims(1, 2, 45, 5, 7);
        const x = inputs(d, 20);
        const lin = await run(gpu(), d, { causal, beta: 0, gamma: 1, variant }, x, false);
        const mom = await run(gpu(), d, { causal, beta: 0, gamma: 2.5, variant }, x, false);
        expect(maxRelError(mom.out, lin.out.map((y) => 2.5 * y))).toBeLessThan(1e-6);
      });
    }
  }

  it('RNN (12) = closed form (13) = chunked scan at N = 1000: float64 on the CPU, and the GPU scan in float32', async () => {
    const d = dims(1, 2, 1000, 4, 3);
    const x = inputs(d, 30);
    const f64 = { dims: d, q: toF64(x.q), k: toF64(x.k), v: toF64(x.v) };
    for (const beta of [0.3, 0.9]) {
      const p = { beta, gamma: 0.7 };
      const closed = momentumClosedCpu({ ...f64, ...p, causal: true });
      const rnn = momentumRecurrentCpu({ ...f64, ...p });
      const chunked = momentumChunkedCpu({ ...f64, ...p, causal: true, chunk: 32 });
      expect(maxRelError(rnn, closed), `rnn vs closed, beta ${beta}`).toBeLessThan(1e-12);
      expect(maxRelError(chunked.out, closed), `chunked vs closed, beta ${beta}`).toBeLessThan(1e-12);
      for (const variant of VARIANTS) {
        const res = await run(gpu(), d, { ...p, causal: true, variant }, x, false);
        expect(maxRelError(res.out, closed), `${variant} vs closed, beta ${beta}`).toBeLessThan(2e-6);
        expect(maxRelError(res.out, rnn), `${variant} vs rnn, beta ${beta}`).toBeLessThan(2e-6);
      }
    }
  });

  it('beta = 0.99 at N = 4096: the GPU forward stays within 1e-4 (relative) of the closed form in float64', async () => {
    const d = dims(1, 1, 4096, 4, 3);
    const x = inputs(d, 40);
    const p = { causal: true, beta: 0.99, gamma: 1 };
    const closed = momentumClosedCpu({ dims: d, ...p, q: toF64(x.q), k: toF64(x.k), v: toF64(x.v) });
    for (const variant of VARIANTS) {
      const res = await run(gpu(), d, { ...p, variant }, x, false);
      expect(maxRelError(res.out, closed), variant).toBeLessThan(1e-4);
    }
  });

  // Each state variant ('gpu': step, a workgroup per batch and head; 'swiftshader': step_rows, a
  // thread per batch and head with vec4 rows, where Dv is a multiple of 4) on an odd D, a Dv that
  // step_rows takes (8) and one it leaves to step (7), and B H = 6, not a multiple of its workgroup.
  const stepCases = [
    { b: 2, h: 2, e: 7 },
    { b: 3, h: 2, e: 8 },
  ];
  for (const stateVariant of VARIANTS) {
    for (const sc of stepCases) {
      it(`N recurrent steps (12) on the GPU reproduce the parallel causal forward, across chunks (${stateVariant} state, B ${sc.b} H ${sc.h} Dv ${sc.e})`, async () => {
        const d = dims(sc.b, sc.h, 41, 5, sc.e);
        const x = inputs(d, 50);
        const { batch: b, heads: h, seq: n, dim, dimV: e } = d;
        const cfg = { causal: true, beta: 0.6, gamma: 0.9 };
        const state = new MomentumState(gpu(), { batch: b, heads: h, dim, dimV: e, beta: cfg.beta, gamma: cfg.gamma, variant: stateVariant });
        const row = (src: Float32Array, t: number, w: number) => {
          const r = new Float32Array(b * h * w);
          for (let bh = 0; bh < b * h; bh++) r.set(src.subarray((bh * n + t) * w, (bh * n + t + 1) * w), bh * w);
          return r;
        };
        const outs: Tensor[] = [];
        const inputsUsed: Tensor[] = [];
        const kernels = new Set<string>();
        gpu().observer = (info) => void kernels.add(info.label);
        try {
          for (let t = 0; t < n; t++) {
            const q = fromArray(gpu(), row(x.q, t, dim), [b, h, 1, dim], 'q1');
            const k = fromArray(gpu(), row(x.k, t, dim), [b, h, 1, dim], 'k1');
            const v = fromArray(gpu(), row(x.v, t, e), [b, h, 1, e], 'v1');
            outs.push(state.step(q, k, v));
            inputsUsed.push(q, k, v);
          }
        } finally {
          gpu().observer = null;
        }
        const rows = stateVariant === 'swiftshader' && e % 4 === 0;
        expect([...kernels]).toEqual([rows ? 'linear_attention/step_rows:step_rows' : 'linear_attention/step:step']);
        const steps = new Float32Array(b * h * n * e);
        for (let t = 0; t < n; t++) {
          const got = await outs[t]!.read();
          for (let bh = 0; bh < b * h; bh++) steps.set(got.subarray(bh * e, (bh + 1) * e), (bh * n + t) * e);
        }
        for (const t of [...outs, ...inputsUsed]) t.dispose();
        state.dispose();
        for (const variant of VARIANTS) {
          const parallel = await run(gpu(), d, { ...cfg, variant }, x, false);
          expect(maxRelError(steps, parallel.out), variant).toBeLessThan(2e-6);
        }
      });
    }
  }

  for (const variant of VARIANTS) {
    it(`${variant}: non-causal attention is the closed form (14), forward and backward, N = 300`, async () => {
      const d = dims(1, 2, 300, 4, 3);
      const x = inputs(d, 60);
      const f64 = { dims: d, q: toF64(x.q), k: toF64(x.k), v: toF64(x.v) };
      for (const beta of [0.1, 0.9, 0.99]) {
        const p = { causal: false, beta, gamma: 1.3 };
        const res = await run(gpu(), d, { ...p, variant }, x, true);
        expect(maxRelError(res.out, momentumClosedCpu({ ...f64, ...p })), `out, beta ${beta}`).toBeLessThan(2e-6);
        const g = momentumClosedBackwardCpu({ ...f64, ...p, dout: toF64(x.dout) });
        // Gradients have mixed signs: compare to their largest value.
        for (const key of ['dq', 'dk', 'dv'] as const) {
          const scale = g[key].reduce((m, y) => Math.max(m, Math.abs(y)), 0);
          expect(maxRelError(res[key], g[key], scale), `${key}, beta ${beta}`).toBeLessThan(2e-5);
        }
      }
    });
  }
});
