// Sampling through the recurrent steps: for every variant, norm and head, the step-by-step outputs
// equal the rows of the parallel forward; greedy generation is the argmax of the parallel forward
// run on its own output (teacher forcing); temperature sampling repeats from a seed; images come
// out in the MNIST sequence convention; bad input is refused before any state moves.
import { describe, expect, it } from 'vitest';
import { DMOL, dmolLogProb, sampleDmol } from '../../src/engine/cpu/loss.ts';
import { Tape, fromArray } from '../../src/engine/tensor.ts';
import { defaultModelConfig, outputWidth, variantOverrides, VARIANTS, type ModelConfig, type Variant } from '../../src/model/config.ts';
import { Sampler, generateImages, measureSampling, sampleRow } from '../../src/model/sampler.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { Random } from '../../src/util/random.ts';
import { expectClose, useGpu } from '../helpers.ts';

const gpu = useGpu();

const HYPERS = { beta: 0.4, gamma: 0.7, betaTilde: 0.5, gammaTilde: 0.8 };

function tinyConfig(variant: Variant, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    ...defaultModelConfig,
    vocab: 7,
    maxSeq: 13,
    layers: 3,
    heads: 2,
    headDim: 3,
    ffn: 11,
    activation: 'gelu',
    dropout: 0.1, // off at inference: the sampler must not apply it
    output: { kind: 'softmax', classes: 7 },
    ...variantOverrides(variant, HYPERS),
    ...over,
  };
}

/** The parallel forward's rows [B * N, W] for ids [B, N]. */
async function parallelRows(model: Transformer, ids: Uint32Array, B: number, N: number): Promise<Float32Array> {
  const g = model.gpu;
  const tape = new Tape(g, { grad: false });
  try {
    const idT = tape.own(fromArray(g, ids, [B, N], 'ids'));
    return await model.forward(tape, idT, { train: false, dropoutSeed: 0 }).output.read();
  } finally {
    tape.dispose();
  }
}

/** The same rows [B * N, W], computed one position at a time through the sampler's states. */
async function steppedRows(sampler: Sampler, ids: Uint32Array, B: number, N: number): Promise<Float32Array> {
  const W = sampler.outputWidth;
  const rows = new Float32Array(B * N * W); // [B, N, W]
  sampler.reset();
  for (let t = 0; t < N; t++) {
    const column = Uint32Array.from({ length: B }, (_, b) => ids[b * N + t]!); // [B]
    const out = await sampler.step(column).read(); // [B, W]
    for (let b = 0; b < B; b++) rows.set(out.subarray(b * W, (b + 1) * W), (b * N + t) * W);
  }
  return rows;
}

function randomIds(n: number, vocab: number, seed: number): Uint32Array {
  const r = new Random(seed);
  return Uint32Array.from({ length: n }, () => r.int(0, vocab - 1));
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** The chosen token's score and the best score of a row (logit, or log-probability of a grey level). */
function scores(row: Float32Array, cfg: ModelConfig, chosen: number): { chosen: number; best: number } {
  const o = cfg.output;
  const score = (t: number) => (o.kind === 'softmax' ? row[t]! : dmolLogProb(row, 0, o.mixtures, t));
  const n = o.kind === 'softmax' ? o.classes : DMOL.levels;
  let best = -Infinity;
  for (let t = 0; t < n; t++) best = Math.max(best, score(t));
  return { chosen: score(chosen), best };
}

describe('Sampler steps equal the parallel forward, row by row', () => {
  // Every variant x norm x head, N = maxSeq = 13 (the last step takes the last position); the
  // position code cycles through the four kinds so each variant meets two of them.
  const positions: Pick<ModelConfig, 'position' | 'positionCombine'>[] = [
    { position: 'sinusoidal', positionCombine: 'concat' },
    { position: 'learned', positionCombine: 'add' },
    { position: 'sinusoidal', positionCombine: 'add' },
    { position: 'learned', positionCombine: 'concat' },
  ];
  const cases: [Variant, 'post' | 'pre', 'softmax' | 'dmol', Pick<ModelConfig, 'position' | 'positionCombine'>][] = [];
  let i = 0;
  for (const variant of VARIANTS) {
    for (const norm of ['post', 'pre'] as const) {
      for (const head of ['softmax', 'dmol'] as const) cases.push([variant, norm, head, positions[i++ % positions.length]!]);
    }
  }
  it.each(cases)('%s, %s-norm, %s head, %j', async (variant, norm, head, position) => {
    const output = head === 'softmax' ? ({ kind: 'softmax', classes: 7 } as const) : ({ kind: 'dmol', mixtures: 2 } as const);
    const cfg = tinyConfig(variant, { norm, output, ...position });
    const model = new Transformer(gpu(), cfg, 17);
    const sampler = new Sampler(model, 2);
    try {
      const [B, N] = [2, cfg.maxSeq];
      const ids = randomIds(B * N, cfg.vocab, 5);
      const want = await parallelRows(model, ids, B, N);
      const got = await steppedRows(sampler, ids, B, N);
      expect(got.length).toBe(B * N * outputWidth(cfg));
      const scale = Math.max(1, maxAbs(want));
      // Measured: at most 7e-7 on SwiftShader; SAMPLER_DIFF=1 prints each case's.
      const diff = expectClose(got, want, { atol: 5e-6 * scale, rtol: 1e-5, label: `${variant} ${norm} ${head} stepped vs parallel` });
      if (process.env.SAMPLER_DIFF) console.log(`${variant} ${norm} ${head}: max diff ${diff.toExponential(2)}, scale ${scale.toFixed(2)}`);
      // Again after a reset: the states start empty every time.
      expect(await steppedRows(sampler, ids, B, N)).toEqual(got);
    } finally {
      sampler.dispose();
      model.destroy();
    }
  });

  // Past several chunks of the parallel scan (16 to 64 tokens) and attention tiles: the carried
  // chunk states and the online softmax across tiles against the plain recurrence.
  it.each(['softmax', 'momentum', 'adaptive'] as const)('%s over 71 positions', async (variant) => {
    const cfg = tinyConfig(variant, { maxSeq: 71, norm: 'pre', position: 'learned' });
    const model = new Transformer(gpu(), cfg, 23);
    const sampler = new Sampler(model, 2);
    try {
      const [B, N] = [2, 71];
      const ids = randomIds(B * N, cfg.vocab, 6);
      const want = await parallelRows(model, ids, B, N);
      const got = await steppedRows(sampler, ids, B, N);
      expectClose(got, want, { atol: 5e-6 * Math.max(1, maxAbs(want)), rtol: 1e-5, label: `${variant} over ${N} positions` });
    } finally {
      sampler.dispose();
      model.destroy();
    }
  });

  it('takes the model’s new beta and gamma at reset, as the parallel forward does', async () => {
    const cfg = tinyConfig('adaptive', { norm: 'pre' });
    const model = new Transformer(gpu(), cfg, 3);
    const sampler = new Sampler(model, 3);
    try {
      const [B, N] = [3, 9];
      const ids = randomIds(B * N, cfg.vocab, 8);
      const before = await steppedRows(sampler, ids, B, N);
      model.setHypers({ beta: 0.9, gamma: 1.3 });
      const want = await parallelRows(model, ids, B, N);
      const got = await steppedRows(sampler, ids, B, N);
      expectClose(got, want, { atol: 5e-6 * Math.max(1, maxAbs(want)), rtol: 1e-5, label: 'after setHypers' });
      expect(got).not.toEqual(before);
    } finally {
      sampler.dispose();
      model.destroy();
    }
  });
});

describe('Sampler.generate', () => {
  // Greedy tokens must be what the parallel forward, fed the generated sequence, ranks first at
  // every generated position. Where the two paths' rounding could swap a near tie, the chosen
  // token's score must be within rounding of the best.
  const greedyCases: [Variant, Partial<ModelConfig>][] = [
    ...VARIANTS.map((v): [Variant, Partial<ModelConfig>] => [v, {}]),
    ['momentum', { norm: 'pre', position: 'learned' }],
    ['adaptive', { vocab: 256, output: { kind: 'dmol', mixtures: 3 } }],
    ['softmax', { vocab: 256, norm: 'pre', output: { kind: 'dmol', mixtures: 2 } }],
  ];
  it.each(greedyCases)('greedy %s %j equals the argmax of the parallel forward on its own output', async (variant, over) => {
    const cfg = tinyConfig(variant, over);
    const model = new Transformer(gpu(), cfg, 29);
    const B = 3;
    const P = 2;
    const steps = cfg.maxSeq - P + 1; // feeds exactly maxSeq tokens
    const sampler = new Sampler(model, B);
    try {
      const prompt = randomIds(B * P, Math.min(cfg.vocab, 7), 4);
      const r = await sampler.generate({ prompt, steps, temperature: 0.7, greedy: true });
      const L = P + steps;
      expect(r.length).toBe(L);
      expect(r.tokens.length).toBe(B * L);
      for (let b = 0; b < B; b++) expect(Array.from(r.tokens.subarray(b * L, b * L + P))).toEqual(Array.from(prompt.subarray(b * P, (b + 1) * P)));
      // Temperature 0 is greedy too.
      expect((await sampler.generate({ prompt, steps, temperature: 0 })).tokens).toEqual(r.tokens);

      const N = L - 1;
      const inputs = new Uint32Array(B * N); // [B, N]: every token but the last
      for (let b = 0; b < B; b++) inputs.set(r.tokens.subarray(b * L, b * L + N), b * N);
      const rows = await parallelRows(model, inputs, B, N);
      const W = outputWidth(cfg);
      let ties = 0;
      for (let b = 0; b < B; b++) {
        for (let t = P - 1; t < N; t++) {
          const row = rows.subarray((b * N + t) * W, (b * N + t + 1) * W);
          const token = r.tokens[b * L + t + 1]!;
          const argmax = sampleRow(row, cfg.output, 0, null);
          if (argmax === token) continue;
          const s = scores(row, cfg, token);
          if (s.best - s.chosen > 1e-4 * Math.max(1, Math.abs(s.best))) {
            throw new Error(`sequence ${b}, position ${t + 1}: generated ${token} (score ${s.chosen}) but the parallel forward ranks ${argmax} first (score ${s.best})`);
          }
          ties++;
        }
      }
      expect(ties).toBeLessThanOrEqual(1);
    } finally {
      sampler.dispose();
      model.destroy();
    }
  });

  it('samples at a temperature reproducibly from a seed, and differently from another seed', async () => {
    const cfg = tinyConfig('momentum-connection');
    const model = new Transformer(gpu(), cfg, 31);
    const sampler = new Sampler(model, 4);
    try {
      const prompt = new Uint32Array(4); // [4, 1]
      const run = (seed: number, temperature = 1.5) => sampler.generate({ prompt, steps: 12, temperature, rng: new Random(seed) });
      const a = await run(7);
      const b = await run(7);
      const c = await run(8);
      expect(b.tokens).toEqual(a.tokens);
      expect(c.tokens).not.toEqual(a.tokens);
      expect(a.tokens.every((t) => t < cfg.vocab)).toBe(true);
      // The same draws at T = 1 as at T = 1.5 when every row is fed the same prefix: different tokens.
      expect((await run(7, 1)).tokens).not.toEqual(a.tokens);
      expect(a.tokensPerSec).toBeGreaterThan(0);
    } finally {
      sampler.dispose();
      model.destroy();
    }
  });

  it('refuses bad input with messages that say what is wrong, leaving the state as it was', async () => {
    const cfg = tinyConfig('linear');
    const model = new Transformer(gpu(), cfg, 1);
    const sampler = new Sampler(model, 2);
    try {
      const rng = new Random(1);
      expect(() => new Sampler(model, 0)).toThrow(/batch must be a positive integer; got 0/);
      expect(() => sampler.step(new Uint32Array(3))).toThrow(/expected a Uint32Array of 2 tokens \(one per sequence\); got 3/);
      expect(() => sampler.step(Uint32Array.from([1, 7]))).toThrow(/id 7 at position 1 is outside the vocabulary \[0, 7\)/);
      expect(sampler.length).toBe(0);
      const two = new Uint32Array(2);
      await expect(sampler.generate({ prompt: new Uint32Array(3), steps: 2, temperature: 0 })).rejects.toThrow(/prompt must be a Uint32Array \[2, P\] with P >= 1; got 3 tokens/);
      await expect(sampler.generate({ prompt: two, steps: cfg.maxSeq + 1, temperature: 0 })).rejects.toThrow(
        /1 prompt and 14 new tokens feed 14 to the model, over its maxSeq 13/,
      );
      await expect(sampler.generate({ prompt: two, steps: 2, temperature: -0.5, rng })).rejects.toThrow(/temperature must be a finite number >= 0 \(0 is greedy\); got -0.5/);
      await expect(sampler.generate({ prompt: two, steps: 2, temperature: NaN, rng })).rejects.toThrow(/temperature must be a finite number >= 0/);
      await expect(sampler.generate({ prompt: two, steps: 2, temperature: 1 })).rejects.toThrow(/temperature > 0 needs an rng/);
      await expect(sampler.generate({ prompt: two, steps: -1, temperature: 0 })).rejects.toThrow(/steps must be an integer >= 0; got -1/);
      expect(() => sampleRow(new Float32Array(7), cfg.output, -1, rng)).toThrow(/temperature must be a finite number >= 0/);

      // The longest run: maxSeq steps, then a full state.
      for (let t = 0; t < cfg.maxSeq; t++) sampler.step(two);
      expect(sampler.length).toBe(cfg.maxSeq);
      expect(() => sampler.step(two)).toThrow(/the sequences are full \(the model's maxSeq is 13\); reset\(\) to start new ones/);
      sampler.reset();
      expect(sampler.length).toBe(0);

      // A head whose tokens the embedding cannot take back.
      const wide = new Transformer(gpu(), tinyConfig('linear', { output: { kind: 'softmax', classes: 9 } }), 1);
      const s2 = new Sampler(wide, 1);
      await expect(s2.generate({ prompt: new Uint32Array(1), steps: 1, temperature: 0 })).rejects.toThrow(/predicts 9 tokens but embeds only 7/);
      s2.dispose();
      wide.destroy();
      await expect(generateImages(model, { count: 1, rows: 3, cols: 3, temperature: 0 })).rejects.toThrow(
        /a softmax head over 7 classes does not predict the 256 grey levels/,
      );

      sampler.dispose();
      expect(() => sampler.step(two)).toThrow(/the sampler has been disposed/);
    } finally {
      sampler.dispose();
      model.destroy();
    }
  });
});

describe('sampleRow on the host', () => {
  it('draws classes with the frequencies of softmax(logits / T)', () => {
    const logits = Float32Array.from([0.5, -1, 2, 0]);
    const output = { kind: 'softmax', classes: 4 } as const;
    for (const T of [0.5, 1, 3]) {
      const rng = new Random(11);
      const counts = new Float64Array(4);
      const draws = 20000;
      for (let i = 0; i < draws; i++) counts[sampleRow(logits, output, T, rng)]!++;
      const e = Array.from(logits, (l) => Math.exp(l / T));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < 4; c++) expect(Math.abs(counts[c]! / draws - e[c]! / z)).toBeLessThan(0.015);
    }
    expect(sampleRow(logits, output, 0, null)).toBe(2);
  });

  it('draws grey levels as sampleDmol does at T = 1, and the most probable level at T = 0', () => {
    // K = 3: logits, means, log-scales. The third component dominates, away from the edge bins
    // (whose tail mass could otherwise make 0 or 255 the most probable level).
    const row = Float32Array.from([0.3, -0.2, 1.1, -0.6, 0.5, 0.0, -2.5, -3, -2.5]);
    const output = { kind: 'dmol', mixtures: 3 } as const;
    const a = new Random(5);
    const b = new Random(5);
    for (let i = 0; i < 200; i++) expect(sampleRow(row, output, 1, a)).toBe(sampleDmol(row, () => b.uniform(), 3));
    let best = 0;
    for (let t = 1; t < 256; t++) if (dmolLogProb(row, 0, 3, t) > dmolLogProb(row, 0, 3, best)) best = t;
    expect(sampleRow(row, output, 0, null)).toBe(best);
    expect(Math.abs(best - 127.5)).toBeLessThan(2);
    // A low temperature concentrates the draws near the most probable level.
    const r = new Random(9);
    const cold = Array.from({ length: 200 }, () => sampleRow(row, output, 0.05, r));
    expect(cold.filter((p) => Math.abs(p - best) <= 3).length).toBeGreaterThan(180);
  });
});

describe('generateImages and measureSampling', () => {
  it('makes images in the MNIST sequence convention, batch by batch, reproducibly', async () => {
    const cfg = tinyConfig('adaptive', { vocab: 256, maxSeq: 15, output: { kind: 'dmol', mixtures: 2 } });
    const model = new Transformer(gpu(), cfg, 13);
    try {
      const opts = { count: 5, rows: 4, cols: 4, temperature: 1, batch: 2, firstPixel: 3 };
      const a = await generateImages(model, { ...opts, rng: new Random(2) });
      expect(a.kind).toBe('mnist');
      expect([a.count, a.rows, a.cols, a.pixels.length]).toEqual([5, 4, 4, 80]);
      for (let n = 0; n < 5; n++) expect(a.pixels[n * 16]).toBe(3);
      expect(a.imagesPerSec).toBeGreaterThan(0);
      const b = await generateImages(model, { ...opts, rng: new Random(2) });
      expect(b.pixels).toEqual(a.pixels);
      // The first batch's images are what one sampler generates from the same draws.
      const sampler = new Sampler(model, 2);
      const r = await sampler.generate({ prompt: Uint32Array.from([3, 3]), steps: 15, temperature: 1, rng: new Random(2) });
      sampler.dispose();
      expect(Array.from(a.pixels.subarray(0, 32))).toEqual(Array.from(r.tokens));
      await expect(generateImages(model, { ...opts, rows: 5 })).rejects.toThrow(/5x4 images feed 19 pixels, over the model's maxSeq 15/);
      await expect(generateImages(model, { ...opts, firstPixel: 256 })).rejects.toThrow(/firstPixel must be a grey level 0..255; got 256/);
    } finally {
      model.destroy();
    }
  });

  it('reports tokens/s and images/s', async () => {
    const lines: string[] = [];
    for (const variant of ['softmax', 'linear', 'adaptive'] as const) {
      const cfg = tinyConfig(variant, { vocab: 256, maxSeq: 48, output: { kind: 'dmol', mixtures: 2 } });
      const model = new Transformer(gpu(), cfg, 13);
      try {
        const s = await measureSampling(model, { batch: 4, length: 49, rng: new Random(1) });
        expect(s.tokensPerSec).toBeGreaterThan(0);
        expect(s.imagesPerSec).toBeCloseTo(s.sequencesPerSec);
        expect(s.tokensPerSec).toBeCloseTo((s.batch * (s.length - 1)) / s.seconds);
        lines.push(`${variant}: ${s.tokensPerSec.toFixed(0)} tokens/s, ${s.imagesPerSec.toFixed(2)} sequences of ${s.length}/s (batch ${s.batch})`);
      } finally {
        model.destroy();
      }
    }
    console.log(`sampling speed on ${gpu().backend}:\n  ${lines.join('\n  ')}`);
  });
});
