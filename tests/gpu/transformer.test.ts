// The whole model on the engine: every variant's gradient (all parameters at once) against finite
// differences of its own forward, the hyper-parameter checks, and a tiny model whose loss falls on a
// fixed batch when trained with the optimizer, the loss read back in batches through a ScalarRing.
import { describe, expect, it } from 'vitest';
import { crossEntropy } from '../../src/engine/ops/loss.ts';
import { Optimizer } from '../../src/engine/optim.ts';
import { ScalarRing } from '../../src/engine/readback.ts';
import { Tape, fromArray, type Tensor } from '../../src/engine/tensor.ts';
import {
  PAPER_HYPERS,
  checkModelConfig,
  defaultModelConfig,
  variantOverrides,
  type ModelConfig,
  type Variant,
} from '../../src/model/config.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { makeCopyBatch } from '../../src/tasks/copyTask.ts';
import { Random } from '../../src/util/random.ts';
import { checkDirectional, randn, useGpu } from '../helpers.ts';

const gpu = useGpu();

function tinyConfig(variant: Variant, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    ...defaultModelConfig,
    vocab: 7,
    maxSeq: 16,
    layers: 3,
    heads: 2,
    headDim: 3,
    ffn: 11,
    activation: 'gelu', // smooth, so finite differences do not straddle a ReLU kink
    dropout: 0,
    output: { kind: 'softmax', classes: 7 },
    ...variantOverrides(variant, { beta: 0.4, gamma: 0.7, betaTilde: 0.5, gammaTilde: 0.8 }),
    ...over,
  };
}

describe('Transformer gradients (all parameters, directional finite differences)', () => {
  const cases: [Variant, Partial<ModelConfig>][] = [
    ['softmax', {}],
    ['linear', { norm: 'pre', position: 'learned', positionCombine: 'add' }],
    ['momentum', {}],
    ['momentum-connection', { norm: 'pre' }],
    ['adaptive', {}],
    ['adaptive', { output: { kind: 'dmol', mixtures: 2 } }],
  ];
  it.each(cases)('%s %j', async (variant, over) => {
    const g = gpu();
    const cfg = tinyConfig(variant, over);
    const model = new Transformer(g, cfg, 11);
    const B = 2;
    const N = 9;
    const r = new Random(3);
    const ids = Uint32Array.from({ length: B * N }, () => r.int(0, cfg.vocab - 1));
    const idT = fromArray(g, ids, [B, N], 'ids');
    const params = model.parameterList;
    const width = cfg.output.kind === 'softmax' ? cfg.output.classes : 3 * cfg.output.mixtures;
    const dout = randn(B * N * width, 5);
    const initial = await Promise.all(params.map((p) => p.read()));
    try {
      const forward = async (values: Float32Array[]) => {
        params.forEach((p, i) => p.write(values[i]!));
        const tape = new Tape(g, { grad: false });
        try {
          return await model.forward(tape, idT, { train: false, dropoutSeed: 0 }).output.read();
        } finally {
          tape.dispose();
        }
      };
      params.forEach((p, i) => p.write(initial[i]!));
      const tape = new Tape(g);
      let grads: Float32Array[];
      try {
        const out = model.forward(tape, idT, { train: false, dropoutSeed: 0 }).output; // [B*N, width]
        expect(out.shape).toEqual([B * N, width]);
        tape.backward(out, tape.own(fromArray(g, dout, out.shape, 'dout')));
        grads = await Promise.all(params.map((p) => (p.grad ? p.grad.read() : Promise.resolve(new Float32Array(p.size)))));
      } finally {
        tape.dispose(params);
      }
      // Every parameter takes part (a sinusoidal code has no table; all others are used).
      params.forEach((p, i) => {
        if (!grads[i]!.some((v) => v !== 0)) throw new Error(`no gradient reached ${p.label}`);
      });
      await checkDirectional({ forward, inputs: initial, grads, dout, h: 3e-3, rtol: 3e-2, label: `${variant} model` });
    } finally {
      idT.dispose();
      model.destroy();
    }
  });
});

describe('Transformer config and hyper-parameters', () => {
  it('rejects beta >= 1, gamma <= 0 and bad sizes with a message naming the field', () => {
    expect(() => checkModelConfig(tinyConfig('momentum', { attention: { kind: 'momentum', beta: 1, gamma: 1 } }))).toThrow(/beta must be in \[0, 1\)/);
    expect(() => checkModelConfig(tinyConfig('momentum', { attention: { kind: 'momentum', beta: 0.5, gamma: 0 } }))).toThrow(/gamma must be > 0/);
    expect(() => checkModelConfig(tinyConfig('softmax', { heads: 0 }))).toThrow(/model.heads/);
    expect(() => checkModelConfig(tinyConfig('softmax', { headDim: 3, heads: 1 }))).toThrow(/even model width/);
  });

  it('setHypers changes a running model and refuses what does not apply or would diverge', async () => {
    const g = gpu();
    const model = new Transformer(g, tinyConfig('momentum-connection'), 1);
    try {
      model.setHypers({ beta: 0.2, gamma: 1.5, betaTilde: 0.3, gammaTilde: 0.5 });
      expect(model.cfg.attention).toEqual({ kind: 'momentum', beta: 0.2, gamma: 1.5 });
      expect(model.cfg.connection).toEqual({ kind: 'momentum', betaTilde: 0.3, gammaTilde: 0.5 });
      expect(() => model.setHypers({ beta: 1 })).toThrow(/beta must be in \[0, 1\)/);
      expect(() => model.setHypers({ delta: 0.1 })).toThrow(/adaptive/);
      expect(model.cfg.attention).toEqual({ kind: 'momentum', beta: 0.2, gamma: 1.5 }); // unchanged by the refusals
    } finally {
      model.destroy();
    }
    const lin = new Transformer(g, tinyConfig('linear'), 1);
    try {
      expect(() => lin.setHypers({ beta: 0.5 })).toThrow(/momentum attention/);
    } finally {
      lin.destroy();
    }
  });

  it('the same seed gives the same parameters, another seed others', async () => {
    const g = gpu();
    const read = async (seed: number) => {
      const m = new Transformer(g, tinyConfig('adaptive'), seed);
      try {
        return await m.params.get('layers.1.attn.qkv.weight')!.read();
      } finally {
        m.destroy();
      }
    };
    const [a, b, c] = [await read(5), await read(5), await read(6)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

describe('a tiny model learns on a fixed batch (the whole training step)', () => {
  it.each(['softmax', 'adaptive'] as const)('%s: masked copy loss falls below a third of its start', async (variant) => {
    const g = gpu();
    const cfg: ModelConfig = {
      ...tinyConfig(variant, { ...variantOverrides(variant, PAPER_HYPERS.copy) }),
      vocab: 5,
      maxSeq: 12,
      layers: 2,
      heads: 2,
      headDim: 8,
      ffn: 32,
      activation: 'relu',
      dropout: 0.1,
      output: { kind: 'softmax', classes: 5 },
    };
    const model = new Transformer(g, cfg, 42);
    const opt = new Optimizer(g, model.parameterList, { kind: 'radam', lr: 1e-2, weightDecay: 0.01, clipNorm: 1 });
    const batch = makeCopyBatch(new Random(9), 8, { maxLen: 12, symbols: 4 });
    const ids = fromArray(g, batch.inputs, [8, 12], 'ids');
    const targets = fromArray(g, batch.targets, [96], 'targets');
    const mask = fromArray(g, batch.mask, [96], 'mask');
    const ring = new ScalarRing(g, 25, 'losses');
    const losses: number[] = [];
    try {
      for (let step = 0; step < 200; step++) {
        const tape = new Tape(g);
        const { output } = model.forward(tape, ids, { train: true, dropoutSeed: step });
        const { loss } = crossEntropy(tape, output, targets, mask);
        tape.backward(loss);
        opt.step();
        ring.push(loss);
        tape.dispose(model.parameterList);
        if (ring.full) losses.push(...(await ring.drain())); // one readback per 25 steps
      }
    } finally {
      for (const t of [ids, targets, mask] as Tensor[]) t.dispose();
      ring.destroy();
      opt.dispose();
      model.destroy();
    }
    expect(losses).toHaveLength(200);
    expect(losses.every(Number.isFinite)).toBe(true);
    const first = losses[0]!;
    const last = Math.min(...losses.slice(-5));
    expect(first).toBeGreaterThan(1); // about ln 5 at initialisation
    expect(last).toBeLessThan(first / 3);
  });
});
