// The PyTorch twin (python/momentum_twin) against the engine: its own tests (pytest: attention
// forms, bad input, two processes under torchrun equal one), the gradient cross-check for every
// variant, both heads and non-causal attention, safetensors bytes in both directions, the same
// initial parameters and batches, and a checkpoint that goes playground -> twin -> playground.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineGradients } from '../../src/cli/twinEngine.ts';
import { TWIN_PYTHON_DIR } from '../../src/cli/twinPython.ts';
import type { Variant } from '../../src/model/config.ts';
import { loadMnistFile } from '../../src/tasks/dataNode.ts';
import { loadIdxImages } from '../../src/tasks/idx.ts';
import { makeRunConfig, type RunOverrides } from '../../src/train/presets.ts';
import { readSafetensors, writeSafetensors } from '../../src/train/safetensors.ts';
import { Trainer, type TaskData } from '../../src/train/trainer.ts';
import type { RunConfig } from '../../src/train/types.ts';
import { useGpu } from '../helpers.ts';
import { FASHION_T10K, checkpointAfter, python } from './shared.ts';

const gpu = useGpu();
let dir: string;
let mnist: TaskData;
let fashion: TaskData;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twin-test-'));
  mnist = { kind: 'mnist', images: await loadMnistFile() };
  fashion = { kind: 'mnist', images: await loadIdxImages(new Uint8Array(readFileSync(FASHION_T10K))) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copyRun(variant: Variant, o: RunOverrides = {}): RunConfig {
  return makeRunConfig({
    task: 'copy',
    variant,
    overrides: {
      batch: 3,
      steps: 2,
      evalEvery: 1,
      seed: 5,
      ...o,
      task: { maxLen: 13, symbols: 4, heldOut: 5 },
      model: { layers: 2, heads: 2, headDim: 4, ffn: 12, dropout: 0, ...(o.model ?? {}) },
    },
  });
}

function mnistRun(variant: Variant, model: RunOverrides['model'] = {}): RunConfig {
  return makeRunConfig({
    task: 'mnist',
    variant,
    overrides: {
      batch: 2,
      steps: 2,
      evalEvery: 1,
      seed: 3,
      task: { resolution: 7, subset: 40, testImages: 4 },
      model: { layers: 2, heads: 2, headDim: 4, ffn: 12, dropout: 0, ...model },
    },
  });
}

function fashionRun(): RunConfig {
  const cfg = mnistRun('momentum-connection');
  return { ...cfg, task: { ...cfg.task, source: FASHION_T10K } as RunConfig['task'] };
}

describe('the twin', () => {
  it("passes its own tests (pytest; includes K = 2 under torchrun against one process)", () => {
    const r = python(['-m', 'pytest', '-q', '-p', 'no:cacheprovider', join(TWIN_PYTHON_DIR, 'tests')], 600_000);
    expect(r.out).toMatch(/passed/);
    expect(r.status, r.out).toBe(0);
  }, 620_000);

  const cases: [string, () => [RunConfig, TaskData]][] = [
    ['softmax attention', () => [copyRun('softmax'), { kind: 'copy' }]],
    ['linear attention', () => [copyRun('linear'), { kind: 'copy' }]],
    ['momentum attention', () => [copyRun('momentum'), { kind: 'copy' }]],
    ['momentum connection, dropout on', () => [copyRun('momentum-connection', { model: { dropout: 0.2 } }), { kind: 'copy' }]],
    ['adaptive connection, pre-norm, gelu, learned added positions', () => [
      copyRun('adaptive', { model: { norm: 'pre', activation: 'gelu', position: 'learned', positionCombine: 'add' } }), { kind: 'copy' }]],
    ['mixture-of-logistics head, momentum (MNIST batches)', () => [mnistRun('momentum'), mnist]],
    ['mixture-of-logistics head, adaptive, dropout on', () => [mnistRun('adaptive', { dropout: 0.1 }), mnist]],
    ['256-way softmax pixel head, linear', () => [mnistRun('linear', { output: { kind: 'softmax', classes: 256 } }), mnist]],
    ['mixture-of-logistics head on Fashion-MNIST IDX images (Debian\'s files)', () => [fashionRun(), fashion]],
  ];
  for (const [name, make] of cases) {
    it(`equals the engine's loss and every gradient: ${name} (and non-causal attention)`, async () => {
      const [cfg, data] = make();
      const ckpt = await checkpointAfter(gpu(), cfg, data, 1);
      const ck = join(dir, `${cfg.variant}-${name.length}.safetensors`);
      const eng = join(dir, `${cfg.variant}-${name.length}.engine.safetensors`);
      writeFileSync(ck, ckpt);
      writeFileSync(eng, await engineGradients(gpu(), ckpt, data));
      const r = python(['-m', 'momentum_twin.check', '--checkpoint', ck, '--engine', eng]);
      const last = r.out.trim().split('\n').at(-1)!;
      expect(last, r.out).toMatch(/^largest relative differences: .*all within tolerance/);
      expect(r.status, r.out).toBe(0);
    });
  }

  it('fails the check, naming the tensor, when one gradient is off by 1e-3; the CLI passes on the true one', async () => {
    const cfg = copyRun('momentum');
    const ckpt = await checkpointAfter(gpu(), cfg, { kind: 'copy' }, 1);
    const ck = join(dir, 'cli.safetensors');
    writeFileSync(ck, ckpt);
    const eng = readSafetensors(await engineGradients(gpu(), ckpt, { kind: 'copy' }));
    const g = eng.tensors.get('grad.layers.1.ffn.2.weight')!.data as Float32Array;
    let big = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[big]!)) big = i;
    g[big] = g[big]! * 1.001;
    const bad = join(dir, 'bad.engine.safetensors');
    writeFileSync(bad, writeSafetensors([...eng.tensors].map(([name, t]) => ({ name, ...t })), eng.metadata));
    const r = python(['-m', 'momentum_twin.check', '--checkpoint', ck, '--engine', bad]);
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(/FAIL (9\.9\de-04|1\.0\de-03) .*grad layers\.1\.ffn\.2\.weight/);
    expect(r.out.trim().split('\n').at(-1)).toMatch(/1 over tolerance, worst grad layers\.1\.ffn\.2\.weight/);
    const cli = spawnSync('node', ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/twinCheck.ts', '--checkpoint', ck], { encoding: 'utf8', timeout: 300_000 });
    expect(cli.status, `${cli.stdout}${cli.stderr}`).toBe(0);
    expect(cli.stdout.trim().split('\n').at(-1)).toMatch(/^largest relative differences: loss and gradients \d\.\d\de-0[5-9].*all within tolerance/);
  });

  it('starts from the same parameters as the playground for a config and seed', async () => {
    const cfg = copyRun('adaptive', { model: { position: 'learned' } });
    const file = join(dir, 'init.safetensors');
    writeFileSync(file, await checkpointAfter(gpu(), cfg, { kind: 'copy' }, 0));
    const r = python(['-c', `
import json, numpy as np
from momentum_twin import safetensors as st
from momentum_twin.model import init_parameters
t, meta = st.read(${JSON.stringify(file)})
mine = init_parameters(json.loads(meta['config'])['model'], json.loads(meta['config'])['seed'])
assert set('param.' + n for n in mine) == {k for k in t if k.startswith('param.')}
worst = max(float(np.abs(mine[n] - t['param.' + n]).max()) for n in mine)
exact = sum(int((mine[n] == t['param.' + n]).sum()) for n in mine)
print('worst', worst, 'exact', exact, 'of', sum(a.size for a in mine.values()))
assert worst <= 1e-6, worst
`]);
    expect(r.status, r.out).toBe(0);
  });

  it('reads and writes safetensors byte for byte as the TypeScript code does, both ways', () => {
    const ts = writeSafetensors(
      [
        { name: 'w', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3e-8, 4, 5, Math.PI]) },
        { name: 'ids', dtype: 'U32', shape: [3], data: Uint32Array.from([0, 7, 4294967295]) },
        { name: 'i', dtype: 'I32', shape: [1], data: Int32Array.from([-5]) },
        { name: 'bytes', dtype: 'U8', shape: [5], data: Uint8Array.from([1, 2, 3, 4, 5]) },
      ],
      { config: JSON.stringify({ lr: 1e-5, beta: 0.1, name: 'é "q"' }), step: '12' },
    );
    const a = join(dir, 'ts.safetensors');
    const b = join(dir, 'py.safetensors');
    writeFileSync(a, ts);
    const r = python(['-c', `
import numpy as np
from momentum_twin import safetensors as st
t, meta = st.read(${JSON.stringify(a)})
assert st.encode(t, meta) == open(${JSON.stringify(a)}, 'rb').read(), 'rewrite differs'
st.write(${JSON.stringify(b)}, {'z': np.array([[0.25, -1e-9]], np.float32), 'a': np.arange(3, dtype=np.uint8), 'k': np.array([9, 8], np.uint32)},
         {'format': 'x', 'data': '{"kind":"copy","rng":[1,2,3,4]}'})
`]);
    expect(r.status, r.out).toBe(0);
    const py = new Uint8Array(readFileSync(b));
    const back = readSafetensors(py);
    expect(back.checksum).toBe('verified');
    const again = writeSafetensors([...back.tensors].map(([name, t]) => ({ name, ...t })), back.metadata);
    expect(Buffer.from(again).equals(Buffer.from(py))).toBe(true);
  });

  it('continues a playground checkpoint under torchrun (K = 2) as the engine would, and the playground resumes it', async () => {
    const cfg = copyRun('momentum-connection', { steps: 4, evalEvery: 2, batch: 4 });
    const start = join(dir, 'start.safetensors');
    writeFileSync(start, await checkpointAfter(gpu(), cfg, { kind: 'copy' }, 2));
    const out = join(dir, 'twin-run');
    const cli = spawnSync('node', ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/twin.ts', '--nproc', '2', '--resume', start, '--steps', '4', '--out', out], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(cli.status, `${cli.stdout}${cli.stderr}`).toBe(0);
    const twinBytes = new Uint8Array(readFileSync(join(out, 'last.safetensors')));
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([4]);
    // The engine's own steps 3 and 4 from the same checkpoint.
    const engine = Trainer.fromCheckpoint(gpu(), new Uint8Array(readFileSync(start)), { kind: 'copy' });
    const twin = Trainer.fromCheckpoint(gpu(), twinBytes, { kind: 'copy' });
    try {
      const { records } = await engine.run(2);
      expect(Math.abs(records.at(-1)!.trainLoss - lines[0].trainLoss)).toBeLessThan(1e-5);
      const a = readSafetensors(await engine.checkpoint());
      const b = readSafetensors(twinBytes);
      expect(b.metadata.data).toBe(a.metadata.data);
      expect(b.metadata.config).toBe(a.metadata.config); // the same JSON, number for number
      expect(b.metadata.step).toBe('4');
      for (const [name, t] of a.tensors) {
        const u = b.tensors.get(name)!.data as Float32Array;
        const v = t.data as Float32Array;
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < v.length; i++) {
          worst = Math.max(worst, Math.abs(u[i]! - v[i]!));
          scale = Math.max(scale, Math.abs(v[i]!));
        }
        expect(worst, name).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
      }
      // ... and the playground trains on from the twin's checkpoint.
      twin.extend(6);
      const more = await twin.run(2);
      expect(more.stop).toBeNull();
      expect(twin.step).toBe(6);
      expect(more.records.every((r) => Number.isFinite(r.trainLoss))).toBe(true);
    } finally {
      engine.dispose();
      twin.dispose();
    }
  }, 400_000);

  it('refuses --nproc larger than the batch before starting anything', async () => {
    const file = join(dir, 'small.safetensors');
    writeFileSync(file, await checkpointAfter(gpu(), copyRun('linear', { batch: 2 }), { kind: 'copy' }, 0));
    const out = join(dir, 'never');
    const cli = spawnSync('node', ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/twin.ts', '--nproc', '3', '--resume', file, '--out', out], { encoding: 'utf8' });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('--nproc 3 is larger than the run\'s batch of 2 sequences');
  });
  it('trains a seed group in parallel for npm run compare --twin, each run as the engine trains it (MQAR, model-size flags)', async () => {
    const out = join(dir, 'group');
    const args = ['--task', 'mqar', '--steps', '4', '--eval-every', '2', '--batch', '3', '--seq-len', '12', '--pairs', '3', '--queries', '3',
      '--layers', '3', '--heads', '1', '--head-dim', '6', '--ffn', '10'];
    const cli = spawnSync('node', ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/compare.ts', ...args,
      '--variants', 'softmax,momentum', '--seeds', '1,2', '--twin', '--jobs', '2', '--out', out], { encoding: 'utf8', timeout: 300_000 });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stderr).toContain('the PyTorch twin');
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.rows.map((x: { variant: string; metric: string }) => `${x.variant}.${x.metric}`)).toContain('momentum.accuracy');
    for (const run of ['softmax-seed1', 'softmax-seed2', 'momentum-seed1', 'momentum-seed2']) {
      const lines = readFileSync(join(out, run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.step), run).toEqual([2, 4]);
    }
    // The same config and seed in the engine: the same data and model, so the same first evaluation.
    const cfg = JSON.parse(readFileSync(join(out, 'momentum-seed2', 'config.json'), 'utf8')) as RunConfig;
    expect([cfg.model.layers, cfg.model.heads, cfg.model.headDim, cfg.model.ffn]).toEqual([3, 1, 6, 10]);
    // The twin built that model: 3 layers of width 6 (1 head x 6) with a feed-forward of 10.
    const twinParams = readSafetensors(new Uint8Array(readFileSync(join(out, 'momentum-seed2', 'last.safetensors')))).tensors;
    expect(twinParams.get('param.layers.2.ffn.1.weight')?.shape).toEqual([6, 10]);
    expect(twinParams.get('param.layers.0.attn.qkv.weight')?.shape).toEqual([6, 18]);
    expect(twinParams.has('param.layers.3.ffn.1.weight')).toBe(false);
    const t = Trainer.create(gpu(), cfg, { kind: 'mqar' });
    try {
      const r = await t.run(2);
      const eng = r.records.at(-1)!;
      const twin = JSON.parse(readFileSync(join(out, 'momentum-seed2', 'metrics.jsonl'), 'utf8').split('\n')[0]!);
      expect(eng.step).toBe(2);
      expect(Math.abs(eng.testLoss! - twin.testLoss) / twin.testLoss).toBeLessThan(1e-4);
      expect(eng.accuracy).toBeCloseTo(twin.accuracy, 6);
      expect(Math.abs(eng.trainLoss - twin.trainLoss) / twin.trainLoss).toBeLessThan(1e-4);
    } finally {
      t.dispose();
    }
  }, 400_000);

  it('refuses --jobs without --twin before training', () => {
    const run = (extra: string[]) => spawnSync('node', ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/compare.ts', '--task', 'copy', '--seeds', '1,2', ...extra], { encoding: 'utf8' });
    const r = run(['--jobs', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--jobs needs --twin');
  });
});
