// The command-line contract, run as a user would: `train` writes metrics.jsonl and
// last.safetensors and resumes from it; `compare` prints its table and writes the curves; `--data`
// trains on a real IDX file (Debian's Fashion-MNIST); bad arguments and files exit non-zero with a
// message naming the problem.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIR } from '../../src/tasks/dataNode.ts';
import { cli, jsonl, tempDir } from './run.ts';

const TINY_COPY = ['--task', 'copy', '--steps', '12', '--eval-every', '6', '--batch', '4', '--seq-len', '12', '--symbols', '4'];

describe('npm run train', () => {
  it('writes metrics.jsonl and last.safetensors, and --resume continues the run', () => {
    const dir = tempDir('train');
    const first = cli('train', [...TINY_COPY, '--variant', 'adaptive', '--out', dir]);
    expect(first.code, first.err).toBe(0);
    const lines = jsonl<Record<string, number>>(join(dir, 'metrics.jsonl'));
    expect(lines.map((l) => l.step)).toEqual([6, 12]);
    for (const l of lines) {
      for (const key of ['step', 'wallSeconds', 'trainLoss', 'testLoss', 'accuracy']) expect(typeof l[key], key).toBe('number');
    }
    expect(existsSync(join(dir, 'last.safetensors'))).toBe(true);

    const resumed = cli('train', ['--resume', join(dir, 'last.safetensors'), '--steps', '18', '--out', dir]);
    expect(resumed.code, resumed.err).toBe(0);
    expect(jsonl<Record<string, number>>(join(dir, 'metrics.jsonl')).map((l) => l.step)).toEqual([6, 12, 18]);
  });

  it('trains MNIST generation on an IDX file given with --data', () => {
    const dir = tempDir('train');
    const file = join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz');
    const r = cli('train', ['--task', 'mnist', '--variant', 'linear', '--data', file, '--resolution', '7', '--subset', '30', '--steps', '4', '--eval-every', '4', '--batch', '2', '--out', dir]);
    expect(r.code, r.err).toBe(0);
    const [line] = jsonl<Record<string, number>>(join(dir, 'metrics.jsonl'));
    expect(line!.bitsPerDim).toBeGreaterThan(0);
    expect(line!.resolution).toBe(7);
    expect(r.err).toMatch(/t10k-images-idx3-ubyte\.gz\) at 7x7/);
  });

  it.each([
    [['--task', 'copy'], /--variant is required/],
    [['--task', 'copy', '--variant', 'quantum'], /--variant must be one of softmax, linear, momentum, momentum-connection, adaptive; got 'quantum'/],
    [['--task', 'text', '--variant', 'linear'], /--task must be copy or mnist/],
    [[...TINY_COPY, '--variant', 'momentum', '--beta', '1'], /beta must be in \[0, 1\)/],
    [[...TINY_COPY, '--variant', 'momentum', '--gamma', '0'], /gamma must be > 0/],
    [[...TINY_COPY, '--variant', 'linear', '--steps', 'ten'], /--steps must be an integer >= 1; got 'ten'/],
    [[...TINY_COPY, '--variant', 'linear', '--bogus'], /Unknown option '--bogus'/],
    [['--task', 'copy', '--variant', 'linear', '--resolution', '7'], /apply to --task mnist/],
    [['--task', 'copy', '--variant', 'linear', '--preset', 'huge'], /unknown preset 'huge'/],
    [['--resume', '/nonexistent/x.safetensors'], /no such file/],
  ])('refuses %j', (args, message) => {
    const r = cli('train', args);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
  });

  it('refuses a malformed IDX file and a damaged checkpoint', () => {
    const dir = tempDir('bad');
    const idx = join(dir, 'images.idx');
    writeFileSync(idx, new Uint8Array([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]));
    const r = cli('train', ['--task', 'mnist', '--variant', 'linear', '--data', idx, '--steps', '2']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--data .*images\.idx is not a usable IDX images file: .*/);

    const ckpt = join(dir, 'broken.safetensors');
    writeFileSync(ckpt, new Uint8Array(64).fill(7));
    const c = cli('train', ['--resume', ckpt]);
    expect(c.code).not.toBe(0);
    expect(c.err).toMatch(/not a playground checkpoint/);
  });
});

describe('npm run sample', () => {
  it('writes generated MNIST digits as PNG and reports images/s', () => {
    const dir = tempDir('sample');
    const t = cli('train', ['--task', 'mnist', '--variant', 'momentum', '--resolution', '7', '--subset', '40', '--steps', '3', '--eval-every', '3', '--batch', '2', '--out', dir]);
    expect(t.code, t.err).toBe(0);
    const out = join(dir, 'png');
    const r = cli('sample', ['--checkpoint', join(dir, 'last.safetensors'), '--count', '3', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/3 images of 7x7 at temperature 1: [\d.]+ images\/s, \d+ pixels\/s/);
    for (const f of ['grid.png', 'sample-000.png', 'sample-002.png']) {
      expect([...readFileSync(join(out, f)).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    }
  });

  it('prints greedy copies with errors marked for a copy-task checkpoint', () => {
    const dir = tempDir('sample');
    const t = cli('train', [...TINY_COPY, '--steps', '2', '--eval-every', '2', '--variant', 'linear', '--out', dir]);
    expect(t.code, t.err).toBe(0);
    const r = cli('sample', ['--checkpoint', join(dir, 'last.safetensors'), '--count', '4']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/greedy generation on 4 held-out sequences: [\d.]+% of tokens, [\d.]+% of sequences exact; \d+ tokens\/s/);
    expect(r.out.match(/^w /gm)).toHaveLength(4);
  });

  it.each([
    [[], /--checkpoint is required/],
    [['--checkpoint', '/nonexistent.safetensors'], /cannot read --checkpoint/],
    [['--checkpoint', 'package.json'], /not a playground checkpoint/],
    [['--checkpoint', 'package.json', '--temperature=-1'], /--temperature must be >= 0/],
  ])('refuses %j', (args, message) => {
    const r = cli('sample', args);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
  });
});

describe('npm run compare', () => {
  it('trains the chosen variants with one seed, prints the table and writes the curves', () => {
    const dir = tempDir('compare');
    const r = cli('compare', [...TINY_COPY, '--variants', 'softmax,momentum', '--out', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\| variant +\| train loss \| test loss \| accuracy \(tok \/ seq\) \| generated \(tok \/ seq\) \| steps to target \| ms\/step \|/);
    expect(r.out).toMatch(/\| softmax /);
    expect(r.out).toMatch(/\| momentum /);
    const csv = readFileSync(join(dir, 'curves.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('variant,step,wallSeconds,trainLoss,testLoss,accuracy,sequenceAccuracy,bitsPerDim,tokensPerSec,lr,gradNorm');
    expect(csv).toHaveLength(1 + 2 * 12);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.rows.map((x: { variant: string }) => x.variant)).toEqual(['softmax', 'momentum']);
  });

  it('refuses an unknown variant in --variants', () => {
    const r = cli('compare', ['--task', 'copy', '--variants', 'softmax,nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown variant 'nope'/);
  });
});

describe("npm run mismatch (authors'-code weights)", () => {
  it('trains with --weights authors-code and reports parallel against recurrent sampling', () => {
    const dir = tempDir('mismatch');
    const t = cli('train', [...TINY_COPY, '--steps', '2', '--eval-every', '2', '--variant', 'momentum', '--beta', '0.6', '--weights', 'authors-code', '--out', dir]);
    expect(t.code, t.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).model.attention.weights).toBe('authors-code');
    const json = join(dir, 'mismatch.json');
    const r = cli('mismatch', ['--checkpoint', join(dir, 'last.safetensors'), '--sequences', '2', '--json', json]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/trained with 'authors-code' weights/);
    expect(r.out).toMatch(/held-out loss, parallel as trained \(authors-code\): [\d.]+, accuracy [\d.]+%/);
    expect(r.out).toMatch(/held-out loss, recurrence \(= recurrent sampling\): [\d.]+/);
    expect(r.out).toMatch(/recurrent sampler on 2 held-out sequences of 12 tokens/);
    const m = JSON.parse(readFileSync(json, 'utf8'));
    expect(m.trained).toBe('authors-code');
    expect(m.maxDiffTrained).toBeGreaterThan(m.maxDiffRecurrence);
    expect(m.maxDiffRecurrence).toBeLessThan(1e-4 * Math.max(1, m.maxOutput));
  });

  it.each([
    ['train', ['--task', 'copy', '--variant', 'momentum', '--weights', 'paper'], /--weights must be recurrence or authors-code; got 'paper'/],
    ['train', ['--task', 'copy', '--variant', 'softmax', '--weights', 'authors-code'], /--weights authors-code applies to momentum attention; --variant softmax has none/],
    ['mismatch', [], /--checkpoint is required/],
    ['mismatch', ['--checkpoint', 'package.json'], /not a playground checkpoint/],
  ])('%s refuses %j', (script, args, message) => {
    const r = cli(script, args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
