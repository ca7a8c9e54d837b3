// The memory estimate and the model's parameter shapes it counts, without a GPU: the count from
// the shapes equals the transformer's parameter formula written out by hand (MATH.md section 8's
// model), and the estimate grows where the run does.
import { describe, expect, it } from 'vitest';
import { modelWidth, outputWidth, type ModelConfig } from '../../src/model/config.ts';
import { parameterSpecs } from '../../src/model/transformer.ts';
import { estimateMemory } from '../../src/train/memory.ts';
import { makeRunConfig, type RunOverrides } from '../../src/train/presets.ts';
import type { RunConfig } from '../../src/train/types.ts';

/** Embeddings, per layer qkv + proj + two norms + the feed-forward pair, the head, the final norm. */
function handCount(m: ModelConfig): number {
  const d = modelWidth(m);
  const out = outputWidth(m);
  const concat = m.positionCombine === 'concat';
  const tokenDim = concat ? d / 2 : d;
  const posDim = d - (concat ? tokenDim : 0);
  const embed = m.vocab * tokenDim + (m.position === 'learned' ? m.maxSeq * posDim : 0);
  const layer = d * 3 * d + 3 * d + (d * d + d) + 2 * (2 * d) + (d * m.ffn + m.ffn) + (m.ffn * d + d);
  return embed + m.layers * layer + d * out + out + (m.norm === 'pre' ? 2 * d : 0);
}

const run = (task: 'copy' | 'mnist', o: RunOverrides = {}): RunConfig => makeRunConfig({ task, variant: 'momentum', overrides: o });

describe('parameter shapes and the memory estimate', () => {
  it.each<[string, RunConfig]>([
    ['copy, post-norm, sinusoidal, concat', run('copy')],
    ['copy, pre-norm, learned, add', run('copy', { model: { norm: 'pre', position: 'learned', positionCombine: 'add' } })],
    ['copy, learned, concat, odd head count', run('copy', { model: { position: 'learned', heads: 3, headDim: 6 } })],
    ['mnist, mixture head', run('mnist')],
  ])('%s: the count from the shapes is the formula by hand', (_, cfg) => {
    const specs = parameterSpecs(cfg.model);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    const fromShapes = specs.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(fromShapes).toBe(handCount(cfg.model));
    expect(estimateMemory(cfg).parameterBytes).toBe(4 * handCount(cfg.model));
  });

  it('keeps the model order: embeddings, then each layer, then the head last', () => {
    const names = parameterSpecs(run('copy', { model: { layers: 2, norm: 'pre', position: 'learned' } }).model).map((s) => s.name);
    expect(names.slice(0, 4)).toEqual(['embed.token', 'embed.position', 'layers.0.attn.qkv.weight', 'layers.0.attn.qkv.bias']);
    expect(names.indexOf('layers.1.attn.qkv.weight')).toBeGreaterThan(names.indexOf('layers.0.norm2.bias'));
    expect(names.slice(-4)).toEqual(['final.norm.gain', 'final.norm.bias', 'head.weight', 'head.bias']);
  });

  it('grows with the batch and with shorter attention chunks, and names the largest buffer', () => {
    const small = estimateMemory(run('copy', { batch: 8 }));
    const big = estimateMemory(run('copy', { batch: 64 }));
    expect(big.totalBytes).toBeGreaterThan(small.totalBytes);
    expect(big.parameterBytes).toBe(small.parameterBytes);
    const cfg = run('copy', { batch: 64, task: { maxLen: 128 } });
    expect(estimateMemory(cfg, 16).totalBytes).toBeGreaterThan(estimateMemory(cfg, 64).totalBytes);
    expect(estimateMemory(cfg).totalBytes).toBe(estimateMemory(cfg, 16).totalBytes);
    const wide = estimateMemory(run('copy', { batch: 1, model: { ffn: 100_000 } }));
    expect(wide.largest.what).toMatch(/^parameter layers\.0\.ffn\.1\.weight \[\d+, 100000\]$/);
  });
});
