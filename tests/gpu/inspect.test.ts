// Looking inside the model (src/model/inspect.ts): the captured q, k of every layer give matrices
// that reproduce the layer's own attention output (A v = out), match the CPU reference, and leave
// the model's forward unchanged; beta~ per token comes back for adaptive runs only.
import { describe, expect, it } from 'vitest';
import { applyAttentionMatrixCpu, attentionMatrixCpu } from '../../src/engine/cpu/attentionMatrix.ts';
import { Tape, fromArray } from '../../src/engine/tensor.ts';
import { defaultModelConfig, variantOverrides, type ModelConfig, type Variant } from '../../src/model/config.ts';
import { captureAttention, inspectModel } from '../../src/model/inspect.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { Random } from '../../src/util/random.ts';
import { expectClose, toF64, useGpu } from '../helpers.ts';

const gpu = useGpu();

function tinyConfig(variant: Variant, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    ...defaultModelConfig,
    vocab: 7,
    maxSeq: 40,
    layers: 3,
    heads: 2,
    headDim: 5,
    ffn: 11,
    dropout: 0,
    output: { kind: 'softmax', classes: 7 },
    ...variantOverrides(variant, { beta: 0.4, gamma: 0.7, betaTilde: 0.5, gammaTilde: 0.8 }),
    ...over,
  };
}

describe('captureAttention: the matrices reproduce each layer attention', () => {
  const variants: Variant[] = ['softmax', 'linear', 'momentum', 'adaptive'];
  it.each(variants)('%s', async (variant) => {
    const g = gpu();
    const cfg = tinyConfig(variant);
    const model = new Transformer(g, cfg, 3);
    const B = 2;
    const N = 19;
    const r = new Random(5);
    const ids = Uint32Array.from({ length: B * N }, () => r.int(0, cfg.vocab - 1));
    const tape = new Tape(g, { grad: false });
    try {
      const idT = tape.own(fromArray(g, ids, [B, N], 'ids'));
      const plain = await model.forward(tape, idT, { train: false, dropoutSeed: 0 }).output.read();
      const cap = captureAttention(model, tape, idT);
      expect(await cap.output.read()).toEqual(plain);
      expect(cap.layers.length).toBe(cfg.layers);
      expect(cap.betaTilde.length).toBe(variant === 'adaptive' ? cfg.layers - 1 : 0);
      const dims = { batch: B, heads: cfg.heads, seq: N, dim: cfg.headDim, dimV: cfg.headDim };
      for (const [l, layer] of cap.layers.entries()) {
        const [q, k, v, out, a] = await Promise.all([layer.q, layer.k, layer.v, layer.out, layer.weights].map((t) => t.read()));
        expect(layer.weights.shape).toEqual([B, cfg.heads, N, N]);
        expectClose(applyAttentionMatrixCpu(toF64(a!), toF64(v!), dims), out!, { atol: 2e-5, rtol: 2e-4, label: `layer ${l} A v` });
        expectClose(a!, attentionMatrixCpu(cap.spec, toF64(q!), toF64(k!), dims), { atol: 1e-6, rtol: 1e-4, label: `layer ${l} A` });
      }
    } finally {
      tape.dispose();
      model.destroy();
    }
  });
});

describe('inspectModel: one sequence', () => {
  it('returns [L, H, N, N] weights equal to the batched capture, and beta~ [L-1, N] for adaptive runs', async () => {
    const g = gpu();
    const cfg = tinyConfig('adaptive');
    const model = new Transformer(g, cfg, 9);
    const N = 23;
    const r = new Random(2);
    const ids = Uint32Array.from({ length: N }, () => r.int(0, cfg.vocab - 1));
    try {
      const ins = await inspectModel(model, ids);
      expect([ins.layers, ins.heads, ins.seq]).toEqual([3, 2, N]);
      expect(ins.weights.length).toBe(3 * 2 * N * N);
      expect(ins.betaTilde?.length).toBe(2 * N);
      const delta = cfg.connection.kind === 'adaptive' ? cfg.connection.delta : NaN;
      for (const b of ins.betaTilde!) expect(b >= 0 && b <= 1 - delta + 1e-7).toBe(true);
      const tape = new Tape(g, { grad: false });
      try {
        const cap = captureAttention(model, tape, tape.own(fromArray(g, ids, [1, N], 'ids')));
        for (let l = 0; l < 3; l++) {
          expect(ins.weights.subarray(l * 2 * N * N, (l + 1) * 2 * N * N)).toEqual(await cap.layers[l]!.weights.read());
        }
        expect(ins.betaTilde!.subarray(0, N)).toEqual(await cap.betaTilde[0]!.read());
        expect(ins.betaTilde!.subarray(N, 2 * N)).toEqual(await cap.betaTilde[1]!.read());
      } finally {
        tape.dispose();
      }
    } finally {
      model.destroy();
    }
  });

  it('a non-adaptive model has no beta~', async () => {
    const model = new Transformer(gpu(), tinyConfig('momentum-connection'), 1);
    try {
      expect((await inspectModel(model, new Uint32Array(5))).betaTilde).toBeNull();
    } finally {
      model.destroy();
    }
  });

  it('refuses a sequence over the limit or the model maxSeq, naming it', async () => {
    const model = new Transformer(gpu(), tinyConfig('linear', { maxSeq: 2048 }), 1);
    try {
      await expect(inspectModel(model, new Uint32Array(1025))).rejects.toThrow(/1025 is over the inspector's limit of 1024 tokens/);
      await expect(inspectModel(model, new Uint32Array(0))).rejects.toThrow(/no tokens/);
    } finally {
      model.destroy();
    }
    const small = new Transformer(gpu(), tinyConfig('linear'), 1);
    try {
      await expect(inspectModel(small, new Uint32Array(41))).rejects.toThrow(/41 exceeds the model's maxSeq 40/);
    } finally {
      small.destroy();
    }
  });
});
