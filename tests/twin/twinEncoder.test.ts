// The twin's encoder against the engine: loss and gradients of encoder checkpoints (the five
// variants, mean and CLS pooling, padded ListOps batches, image classification on the embedded
// digits and on IDX images + labels), the examples `npm run data` writes, and groups trained
// through `npm run compare -- --twin` (metrics, confusion.json, the engine's first evaluation).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineGradients } from '../../src/cli/twinEngine.ts';
import type { Variant } from '../../src/model/config.ts';
import { loadMnistFile } from '../../src/tasks/dataNode.ts';
import { loadIdxDataset } from '../../src/tasks/idx.ts';
import { runExamples } from '../../src/train/examples.ts';
import { makeRunConfig, type RunOverrides } from '../../src/train/presets.ts';
import { readSafetensors, writeSafetensors } from '../../src/train/safetensors.ts';
import { Trainer, type TaskData } from '../../src/train/trainer.ts';
import type { RunConfig } from '../../src/train/types.ts';
import { useGpu } from '../helpers.ts';
import { FASHION_T10K, FASHION_T10K_LABELS, checkpointAfter, python } from './shared.ts';

const gpu = useGpu();
let dir: string;
let mnist: TaskData;
let fashion: TaskData;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twin-encoder-'));
  mnist = { kind: 'mnist', images: await loadMnistFile() };
  fashion = { kind: 'mnist', images: await loadIdxDataset(readFileSync(FASHION_T10K), readFileSync(FASHION_T10K_LABELS)) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny encoder on ListOps (padded batches) or 7x7 image classification. */
function encoderRun(task: 'listops' | 'images', variant: Variant, pooling: 'mean' | 'cls', o: RunOverrides = {}): RunConfig {
  const t = task === 'listops' ? { minLength: 5, maxLength: 24, maxDepth: 3, minArgs: 2, maxArgs: 4, trainExamples: 40, testExamples: 7 } : { resolution: 7, subset: 40, testImages: 6 };
  return makeRunConfig({
    task,
    variant,
    overrides: { batch: 5, steps: 2, evalEvery: 1, seed: 4, ...o, task: { ...t, ...(o.task ?? {}) } as RunOverrides['task'], model: { layers: 2, heads: 2, headDim: 4, ffn: 12, dropout: 0, encoder: { pooling }, ...(o.model ?? {}) } },
  });
}

/** Writes checkpoint + engine gradients for each case, runs the twin's check on all in one process. */
async function checkAll(cases: [RunConfig, TaskData][], tag: string) {
  const pairs: [string, string][] = [];
  for (const [i, [cfg, data]] of cases.entries()) {
    const ckpt = await checkpointAfter(gpu(), cfg, data, 1);
    const [ck, eng] = [join(dir, `${tag}${i}.safetensors`), join(dir, `${tag}${i}.engine.safetensors`)];
    writeFileSync(ck, ckpt);
    const bytes = await engineGradients(gpu(), ckpt, data);
    writeFileSync(eng, bytes);
    const e = readSafetensors(bytes).tensors;
    if (cfg.task.kind === 'listops') expect([...(e.get('batch.lengths')!.data as Uint32Array)].some((l) => l < e.get('batch.inputs')!.shape[1]!)).toBe(true); // padding present
    pairs.push([ck, eng]);
  }
  const r = python(['-c', `
import sys
from momentum_twin.check import compare
lines = []
ok = [compare(c, e, out=lines.append) for c, e in ${JSON.stringify(pairs)}]
print('\\n'.join(l for l in lines if l.startswith(('FAIL', 'largest'))))
sys.exit(0 if all(ok) else 1)
`]);
  const last = r.out.trim().split('\n').filter((l) => l.startsWith('largest'));
  expect(last.length, r.out).toBe(cases.length);
  for (const l of last) expect(l, r.out).toMatch(/all within tolerance/);
  expect(r.status, r.out).toBe(0);
  return { last, pairs };
}

describe('the twin encoder', () => {
  it("equals the engine's loss and every gradient for encoders: five variants x mean and cls pooling on padded ListOps batches", async () => {
    const variants: Variant[] = ['softmax', 'linear', 'momentum', 'momentum-connection', 'adaptive'];
    const cases = variants.flatMap((v) => (['mean', 'cls'] as const).map((p): [RunConfig, TaskData] => [encoderRun('listops', v, p), { kind: 'listops' }]));
    const { last: lines, pairs } = await checkAll(cases, 'listops');
    expect(lines.filter((l) => /cls pooling/.test(l))).toHaveLength(5);
    expect(lines.every((l) => /loss and gradients \d\.\d\de-0[5-9]/.test(l)), lines.join('\n')).toBe(true);
    // A batch whose key padding is not the twin's is refused before anything is compared.
    const [ck, engFile] = pairs[0]!;
    const eng = readSafetensors(new Uint8Array(readFileSync(engFile)));
    const len = eng.tensors.get('batch.lengths')!.data as Uint32Array;
    len[len.indexOf(Math.min(...len))]! += 1;
    const bad = join(dir, 'lengths.engine.safetensors');
    writeFileSync(bad, writeSafetensors([...eng.tensors].map(([name, t]) => ({ name, ...t })), eng.metadata));
    const r = python(['-m', 'momentum_twin.check', '--checkpoint', ck, '--engine', bad]);
    expect(r.status, r.out).toBe(2);
    expect(r.out).toContain("the twin's sequence lengths (key padding) differ from the engine's");
  }, 400_000);

  it("equals the engine's gradients for image classification: embedded digits (dropout on, CLS) and Fashion-MNIST IDX images + labels", async () => {
    const idx = { source: FASHION_T10K, labels: FASHION_T10K_LABELS };
    await checkAll([
      [encoderRun('images', 'adaptive', 'cls', { model: { dropout: 0.2 } }), mnist],
      [encoderRun('images', 'momentum', 'mean', { task: idx }), fashion],
    ], 'images');
  }, 300_000);

  it('draws the ListOps and image examples that npm run data writes (train order and test split, embedded and IDX)', () => {
    const idx = { source: FASHION_T10K, labels: FASHION_T10K_LABELS };
    const runs: [string, RunConfig, string[]][] = [
      ['listops', makeRunConfig({ task: 'listops', variant: 'linear', overrides: { seed: 3, batch: 32 } }), []],
      ['images', makeRunConfig({ task: 'images', variant: 'linear', overrides: { seed: 2, batch: 16, task: { resolution: 14 } } }), ['--resolution', '14']],
      ['images', makeRunConfig({ task: 'images', variant: 'linear', overrides: { seed: 5, batch: 8, task: { resolution: 7, ...idx } } }), ['--resolution', '7', '--data', idx.source, '--labels', idx.labels]],
    ];
    const files = runs.map(([task, cfg, extra], i) => {
      const out = (split: string) => join(dir, `data${i}-${split}.jsonl`);
      for (const split of ['train', 'test'] as const) {
        if (i > 0 || split === 'test') {
          // What src/cli/data.ts writes, without a process per file (the CLI itself runs once, below).
          const data: TaskData = task === 'listops' ? { kind: 'listops' } : i === 1 ? mnist : fashion;
          writeFileSync(out(split), runExamples(cfg, data, 70, split).map((e) => JSON.stringify(e)).join('\n') + '\n');
          continue;
        }
        const args = ['--task', task, '--count', '70', '--seed', String(cfg.seed), '--batch', String(cfg.batch), '--split', split, ...extra, '--out', out(split)];
        const r = spawnSync('node', ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/data.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
        expect(r.status, r.stderr).toBe(0);
      }
      const cfgFile = join(dir, `data${i}.json`);
      writeFileSync(cfgFile, JSON.stringify(cfg));
      return [cfgFile, out('train'), out('test')];
    });
    const r = python(['-c', `
import json
from momentum_twin.data import make_stream
def rows(batches, n):
    out = []
    for b in batches:
        for i in range(b.batch):
            L = b.seq if b.lengths is None else int(b.lengths[i])
            out.append({'input': b.inputs[i, :L].tolist(), 'label': int(b.targets[i])})
    return out[:n]
for c, train, test in ${JSON.stringify(files)}:
    cfg = json.load(open(c))
    s = make_stream(cfg)
    for path, mine in ((train, lambda n: rows([s.next(cfg['batch']) for _ in range(n // cfg['batch'] + 1)], n)), (test, lambda n: rows(s.eval_batches(cfg['batch']), n))):
        ts = [{'input': e['input'], 'label': e['label']} for e in map(json.loads, open(path))]
        assert mine(len(ts)) == ts, f"{cfg['task']['kind']} {path} differs"
        print(cfg['task']['kind'], path, len(ts), 'equal')
`]);
    expect(r.status, r.out).toBe(0);
    expect(r.out.match(/equal/g)).toHaveLength(6);
  }, 300_000);

  it('trains ListOps and image-classification groups through compare --twin (confusion.json) as the engine trains them, and refuses authors-code weights', async () => {
    const node = (args: string[]) => spawnSync('node', ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/compare.ts', ...args], { encoding: 'utf8', timeout: 300_000 });
    const small = ['--steps', '2', '--eval-every', '2', '--batch', '6', '--seeds', '1', '--variants', 'linear,adaptive', '--twin', '--jobs', '2'];
    const groups: [string, string[], TaskData][] = [
      ['listops', ['--min-length', '5', '--max-length', '20', '--max-depth', '3', '--max-args', '4', '--train-examples', '40', '--test-examples', '9', '--pooling', 'cls'], { kind: 'listops' }],
      ['images', ['--resolution', '7', '--subset', '30'], mnist],
    ];
    for (const [task, extra, data] of groups) {
      const out = join(dir, `group-${task}`);
      const cli = node(['--task', task, ...extra, ...small, '--out', out]);
      expect(cli.status, cli.stderr).toBe(0);
      const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(s.rows.map((x: { variant: string; metric: string }) => `${x.variant}.${x.metric}`)).toContain('adaptive.accuracy');
      const run = join(out, 'adaptive-seed1');
      const twin = JSON.parse(readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n')[0]!);
      const conf = JSON.parse(readFileSync(join(run, 'confusion.json'), 'utf8'));
      expect(conf.matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(task === 'listops' ? 9 : 200);
      expect(conf.accuracy).toBe(twin.accuracy);
      const t = Trainer.create(gpu(), JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as RunConfig, data);
      try {
        const eng = (await t.run(2)).records.at(-1)!;
        expect(Object.keys(eng).sort()).toEqual(Object.keys(twin).sort());
        for (const k of ['trainLoss', 'testLoss', 'lr'] as const) expect(Math.abs(eng[k]! - twin[k]) / twin[k], k).toBeLessThan(1e-4);
        expect(Math.abs(eng.accuracy! - twin.accuracy)).toBeLessThanOrEqual(1 / conf.matrix.flat().reduce((a: number, b: number) => a + b, 0));
        // The training accuracy: on the first training sequences, as many as the test set (one flip allowed).
        expect(Math.abs(eng.trainAccuracy! - twin.trainAccuracy)).toBeLessThanOrEqual(1 / conf.matrix.flat().reduce((a: number, b: number) => a + b, 0));
        expect(t.lastEvaluation!.confusion!.flat().filter((x, i) => x !== conf.matrix.flat()[i]).length).toBeLessThanOrEqual(2);
      } finally {
        t.dispose();
      }
    }
    const refused = node(['--task', 'listops', '--variants', 'momentum', '--weights', 'authors-code', ...small, '--out', join(dir, 'never')]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/momentum weights 'authors-code', which only the WebGPU engine computes/);
  }, 400_000);

});
