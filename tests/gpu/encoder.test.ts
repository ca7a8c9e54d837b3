// The encoder classifier on the engine: every variant's gradient (all parameters at once) against
// finite differences of its own classify(), padding invariance of the prediction, the input checks,
// and a tiny classifier whose test accuracy rises above the majority-class rate.
import { describe, expect, it } from 'vitest';
import { crossEntropy } from '../../src/engine/ops/loss.ts';
import { Optimizer } from '../../src/engine/optim.ts';
import { Tape, fromArray } from '../../src/engine/tensor.ts';
import { checkModelConfig, defaultModelConfig, variantOverrides, type ModelConfig, type Variant } from '../../src/model/config.ts';
import { Transformer, type EncoderInput } from '../../src/model/transformer.ts';
import { Random } from '../../src/util/random.ts';
import { checkDirectional, randn, useGpu } from '../helpers.ts';

const gpu = useGpu();

function encoderConfig(variant: Variant, over: Partial<ModelConfig> = {}): ModelConfig {
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
    output: { kind: 'softmax', classes: 5 },
    encoder: { pooling: 'mean' },
    ...variantOverrides(variant, { beta: 0.4, gamma: 0.7, betaTilde: 0.5, gammaTilde: 0.8 }),
    ...over,
  };
}

function randomInput(B: number, T: number, vocab: number, seed: number, lengths: number[] | null): EncoderInput {
  const r = new Random(seed);
  return {
    batch: B,
    seq: T,
    ids: Uint32Array.from({ length: B * T }, () => r.int(0, vocab - 1)),
    lengths: lengths ? Uint32Array.from(lengths) : null,
  };
}

async function logitsOf(model: Transformer, input: EncoderInput): Promise<Float32Array> {
  const tape = new Tape(model.gpu, { grad: false });
  try {
    return await model.classify(tape, input, { train: false, dropoutSeed: 0 }).logits.read();
  } finally {
    tape.dispose();
  }
}

describe('encoder gradients (all parameters, directional finite differences)', () => {
  // Full rows, and right-padded ones (the key-padding path of every kind, forward and backward).
  const cases: [Variant, Partial<ModelConfig>, number[] | null][] = [
    ['softmax', {}, null],
    ['linear', { norm: 'pre', position: 'learned', positionCombine: 'add' }, null],
    ['momentum', {}, null],
    ['momentum-connection', { norm: 'pre' }, null],
    ['adaptive', {}, null],
    ['adaptive', { encoder: { pooling: 'cls' } }, null],
    ['softmax', {}, [9, 4, 2]],
    ['linear', {}, [3, 9, 6]],
    ['momentum', {}, [9, 5, 1]],
    ['adaptive', { encoder: { pooling: 'cls' } }, [2, 9, 7]],
  ];
  it.each(cases)('%s %j lengths %j', async (variant, over, lengths) => {
    const g = gpu();
    const cfg = encoderConfig(variant, over);
    const model = new Transformer(g, cfg, 11);
    const input = randomInput(3, 9, cfg.vocab, 3, lengths);
    const params = model.parameterList;
    const classes = 5;
    const dout = randn(input.batch * classes, 5);
    const initial = await Promise.all(params.map((p) => p.read()));
    try {
      const forward = async (values: Float32Array[]) => {
        params.forEach((p, i) => p.write(values[i]!));
        return logitsOf(model, input);
      };
      params.forEach((p, i) => p.write(initial[i]!));
      const tape = new Tape(g);
      let grads: Float32Array[];
      try {
        const { logits } = model.classify(tape, input, { train: false, dropoutSeed: 0 }); // [B, classes]
        expect(logits.shape).toEqual([input.batch, classes]);
        tape.backward(logits, tape.own(fromArray(g, dout, logits.shape, 'dout')));
        grads = await Promise.all(params.map((p) => (p.grad ? p.grad.read() : Promise.resolve(new Float32Array(p.size)))));
      } finally {
        tape.dispose(params);
      }
      params.forEach((p, i) => {
        if (!grads[i]!.some((v) => v !== 0)) throw new Error(`no gradient reached ${p.label}`);
      });
      await checkDirectional({ forward, inputs: initial, grads, dout, h: 3e-3, rtol: 3e-2, label: `${variant} encoder` });
    } finally {
      model.destroy();
    }
  });
});

describe('padding does not change a prediction', () => {
  // Each example padded (with random ids) to 10 and to 13 positions gives the logits it gives alone
  // at its own length: padding keys get no weight, padding rows are not pooled.
  const cases: [Variant, Partial<ModelConfig>][] = [
    ['softmax', {}],
    ['linear', {}],
    ['momentum', {}],
    ['momentum-connection', {}],
    ['adaptive', {}],
    ['adaptive', { encoder: { pooling: 'cls' }, norm: 'pre', position: 'learned', positionCombine: 'add' }],
  ];
  it.each(cases)('%s %j', async (variant, over) => {
    const g = gpu();
    const cfg = encoderConfig(variant, over);
    const model = new Transformer(g, cfg, 5);
    const lengths = [4, 10, 7];
    const alone = randomInput(3, 13, cfg.vocab, 8, null);
    try {
      const own: Float32Array[] = [];
      for (const [b, len] of lengths.entries()) {
        const ids = alone.ids.slice(b * 13, b * 13 + len);
        own.push(await logitsOf(model, { batch: 1, seq: len, ids, lengths: null }));
      }
      for (const T of [10, 13]) {
        const noise = new Random(T);
        const ids = new Uint32Array(3 * T);
        lengths.forEach((len, b) => {
          for (let t = 0; t < T; t++) ids[b * T + t] = t < len ? alone.ids[b * 13 + t]! : noise.int(0, cfg.vocab - 1);
        });
        const padded = await logitsOf(model, { batch: 3, seq: T, ids, lengths: Uint32Array.from(lengths) });
        lengths.forEach((_, b) => {
          const got = padded.subarray(b * 5, b * 5 + 5);
          for (let c = 0; c < 5; c++) {
            if (!(Math.abs(got[c]! - own[b]![c]!) <= 2e-4 * (1 + Math.abs(own[b]![c]!)))) {
              throw new Error(`${variant}: example ${b} padded to ${T}: logit ${c} is ${got[c]}, alone ${own[b]![c]}`);
            }
          }
        });
      }
    } finally {
      model.destroy();
    }
  });
});

describe('encoder inputs and config', () => {
  it('names a sequence over maxSeq, a bad id, a bad length and the wrong entry point', async () => {
    const g = gpu();
    const model = new Transformer(g, encoderConfig('momentum', { maxSeq: 8 }), 1);
    const cls = new Transformer(g, encoderConfig('momentum', { maxSeq: 8, encoder: { pooling: 'cls' } }), 1);
    const tape = new Tape(g, { grad: false });
    try {
      const run = (m: Transformer, input: EncoderInput) => () => m.classify(tape, input, { train: false, dropoutSeed: 0 });
      expect(run(model, randomInput(2, 9, 7, 1, null))).toThrow(/sequence of 9 tokens exceeds the model's maxSeq 8/);
      expect(run(cls, randomInput(2, 8, 7, 1, null))).toThrow(/8 tokens \(and the CLS token\) exceeds the model's maxSeq 8/);
      const badId = randomInput(2, 4, 7, 1, null);
      badId.ids[6] = 7;
      expect(run(model, badId)).toThrow(/id 7 at row 1, position 2 is outside the vocabulary \[0, 7\)/);
      expect(run(model, randomInput(2, 4, 7, 1, [4, 0]))).toThrow(/length 0 of row 1 is outside 1..4/);
      expect(run(model, randomInput(2, 4, 7, 1, [5, 1]))).toThrow(/length 5 of row 0 is outside 1..4/);
      expect(() => model.forward(tape, tape.own(fromArray(g, new Uint32Array(4), [1, 4], 'ids')), { train: false, dropoutSeed: 0 })).toThrow(
        /encoder classifier: call classify/,
      );
    } finally {
      tape.dispose();
      model.destroy();
      cls.destroy();
    }
    expect(() => checkModelConfig(encoderConfig('softmax', { output: { kind: 'dmol', mixtures: 2 } }))).toThrow(/must be a softmax over classes/);
    expect(() => checkModelConfig(encoderConfig('softmax', { encoder: { pooling: 'max' as 'mean' } }))).toThrow(/pooling must be mean or cls/);
  });

  it('the CLS token has its own row in the token table', () => {
    const g = gpu();
    const m = new Transformer(g, encoderConfig('linear', { encoder: { pooling: 'cls' } }), 1);
    try {
      expect(m.params.get('embed.token')!.shape[0]).toBe(8); // vocab 7 + CLS
    } finally {
      m.destroy();
    }
  });
});

describe('a tiny encoder classifier learns', () => {
  // Class = the most frequent of three marker tokens in a sequence of noise: attention and pooling
  // must gather evidence from the whole sequence. Majority rate on the test set about 1/3.
  function makeSet(count: number, seed: number): { input: EncoderInput; labels: Uint32Array } {
    const r = new Random(seed);
    const T = 12;
    const ids = new Uint32Array(count * T);
    const labels = new Uint32Array(count);
    for (let b = 0; b < count; b++) {
      const label = r.int(0, 2);
      labels[b] = label;
      for (let t = 0; t < T; t++) {
        const u = r.uniform();
        ids[b * T + t] = u < 0.45 ? 1 + label : u < 0.6 ? 1 + r.int(0, 2) : 4 + r.int(0, 3); // markers 1..3, noise 4..7
      }
    }
    return { input: { batch: count, seq: T, ids, lengths: null }, labels };
  }

  it.each(['softmax', 'adaptive'] as const)('%s: test accuracy well above the majority-class rate', async (variant) => {
    const g = gpu();
    const cfg: ModelConfig = {
      ...encoderConfig(variant, { vocab: 8, maxSeq: 12, layers: 2, heads: 2, headDim: 8, ffn: 32, activation: 'relu' }),
      output: { kind: 'softmax', classes: 3 },
    };
    const model = new Transformer(g, cfg, 42);
    const opt = new Optimizer(g, model.parameterList, { kind: 'adamw', lr: 5e-3, weightDecay: 0.01, clipNorm: 1 });
    const train = makeSet(64, 1);
    const test = makeSet(96, 2);
    const trainLabels = fromArray(g, train.labels, [64], 'labels');
    try {
      for (let step = 0; step < 60; step++) {
        const tape = new Tape(g);
        const { logits } = model.classify(tape, train.input, { train: true, dropoutSeed: step });
        tape.backward(crossEntropy(tape, logits, trainLabels, null).loss);
        opt.step();
        tape.dispose(model.parameterList);
      }
      const logits = await logitsOf(model, test.input);
      let right = 0;
      for (let b = 0; b < test.input.batch; b++) {
        const row = logits.subarray(b * 3, b * 3 + 3);
        if (row.indexOf(Math.max(...row)) === test.labels[b]) right++;
      }
      const counts = [0, 0, 0];
      for (const l of test.labels) counts[l]!++;
      const majority = Math.max(...counts) / test.input.batch;
      expect(majority).toBeLessThan(0.45);
      expect(right / test.input.batch).toBeGreaterThan(majority + 0.25);
    } finally {
      trainLabels.dispose();
      opt.dispose();
      model.destroy();
    }
  });
});
