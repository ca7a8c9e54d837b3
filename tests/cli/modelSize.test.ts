// The model-size flags (--layers, --heads, --head-dim, --ffn) of train, compare and sweep: parsed
// into the run config over the preset's model (so the WebGPU engine and the twin, which reads the
// same config.json, build the same model), and refused with a message naming the flag.
import { describe, expect, it } from 'vitest';
import { UsageError, modelSizeOptions, parse, RUN_OPTIONS, runConfigFrom } from '../../src/cli/common.ts';
import { makeRunConfig } from '../../src/train/presets.ts';

describe('model-size flags', () => {
  it('override the preset model and leave the rest of it alone', () => {
    const v = parse(['--task', 'mqar', '--layers', '3', '--heads', '1', '--head-dim', '8', '--ffn', '40'], RUN_OPTIONS);
    const cfg = runConfigFrom(v, 'momentum');
    const preset = makeRunConfig({ task: 'mqar', variant: 'momentum' });
    expect([cfg.model.layers, cfg.model.heads, cfg.model.headDim, cfg.model.ffn]).toEqual([3, 1, 8, 40]);
    expect({ ...cfg.model, layers: 0, heads: 0, headDim: 0, ffn: 0 }).toEqual({ ...preset.model, layers: 0, heads: 0, headDim: 0, ffn: 0 });
    expect(cfg.optim).toEqual(preset.optim);
  });

  it('give the preset model when absent, and only the flags given', () => {
    expect(modelSizeOptions({})).toEqual({});
    expect(modelSizeOptions({ 'head-dim': '4' })).toEqual({ headDim: 4 });
    const preset = makeRunConfig({ task: 'copy', variant: 'linear' }).model;
    expect(runConfigFrom({ task: 'copy' }, 'linear').model).toEqual(preset);
    expect(runConfigFrom({ task: 'copy', ffn: '16' }, 'linear').model).toEqual({ ...preset, ffn: 16 });
  });

  it('keep an encoder pooling given beside them', () => {
    const cfg = runConfigFrom({ task: 'listops', pooling: 'cls', heads: '4' }, 'softmax');
    expect(cfg.model.encoder).toEqual({ pooling: 'cls' });
    expect(cfg.model.heads).toBe(4);
  });

  it.each([
    ['layers', '0'],
    ['heads', '-2'],
    ['head-dim', '2.5'],
    ['ffn', 'wide'],
    ['head-dim', ''],
  ])('refuses --%s %j naming the flag', (flag, value) => {
    const run = () => runConfigFrom({ task: 'mqar', [flag]: value }, 'softmax');
    expect(run).toThrow(UsageError);
    expect(run).toThrow(new RegExp(`^--${flag} must be an integer >= 1; got '${value}'`));
  });

  it('refuses a width the model cannot take, as a usage error', () => {
    // The decoder concatenates its position code: heads x headDim must be even.
    expect(() => runConfigFrom({ task: 'mqar', heads: '1', 'head-dim': '5' }, 'linear')).toThrow(/even model width; heads \* headDim = 5/);
    expect(() => runConfigFrom({ task: 'mqar', heads: '1', 'head-dim': '5' }, 'linear')).toThrow(UsageError);
  });
});
