// Greedy copy generation through the recurrent steps against a brute-force loop over the parallel
// forward: at each copied position the parallel forward sees the sequence generated so far, and its
// argmax must be the token the recurrent generation wrote.
import { describe, expect, it } from 'vitest';
import { Tape, fromArray } from '../../src/engine/tensor.ts';
import { defaultModelConfig, variantOverrides, type ModelConfig } from '../../src/model/config.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { argmaxRows, makeCopyHeldOut } from '../../src/tasks/copyTask.ts';
import { copyGreedyAccuracy } from '../../src/train/copyGreedy.ts';
import { useGpu } from '../helpers.ts';

const gpu = useGpu();

describe('copyGreedyAccuracy', () => {
  it.each(['softmax', 'adaptive'] as const)('%s: equals generation by the parallel forward (5 sequences, groups of 2)', async (variant) => {
    const g = gpu();
    const cfg: ModelConfig = {
      ...defaultModelConfig,
      vocab: 5,
      maxSeq: 13,
      layers: 2,
      heads: 2,
      headDim: 4,
      ffn: 10,
      dropout: 0,
      output: { kind: 'softmax', classes: 5 },
      ...variantOverrides(variant, { beta: 0.3, gamma: 0.8, betaTilde: 0.5, gammaTilde: 0.9 }),
    };
    const model = new Transformer(g, cfg, 7);
    const held = makeCopyHeldOut(5, { maxLen: 13, symbols: 4 }, 99);
    const L = 13;
    try {
      const r = await copyGreedyAccuracy(model, held, 2);
      const seq = new Uint32Array(held.inputs);
      const expected = new Uint32Array(5 * L);
      for (let b = 0; b < 5; b++) {
        const n = held.lengths[b]!;
        for (let t = n; t <= 2 * n - 1; t++) {
          const tape = new Tape(g, { grad: false });
          try {
            const ids = tape.own(fromArray(g, seq.slice(b * L, (b + 1) * L), [1, L], 'ids'));
            const logits = await model.forward(tape, ids, { train: false, dropoutSeed: 0 }).output.read(); // [L, 5]
            const token = argmaxRows(logits.subarray(t * 5, (t + 1) * 5), 1, 5)[0]!;
            expected[b * L + t] = token;
            if (t + 1 < L) seq[b * L + t + 1] = token;
          } finally {
            tape.dispose();
          }
        }
      }
      expect(Array.from(r.predictions)).toEqual(Array.from(expected));
      expect(Array.from(r.outputs)).toEqual(Array.from(seq));
      expect(r.tokenAccuracy).toBeGreaterThanOrEqual(0);
    } finally {
      model.destroy();
    }
  });
});
