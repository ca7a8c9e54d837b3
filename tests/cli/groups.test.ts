// Seed groups, sweeps and data files from the command line, run as a user runs them: the files
// they write (summary.json/csv, sweep.json, run folders, JSONL examples) and the refusals of bad
// input (exit code 2, naming the problem, before anything trains).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExamples } from '../../src/train/examples.ts';
import { makeRunConfig } from '../../src/train/presets.ts';
import { cli, tempDir } from './run.ts';

// Four runs of a few steps: startup (shader compilation) dominates on a loaded machine.
const TINY_COPY = ['--task', 'copy', '--steps', '4', '--eval-every', '2', '--batch', '3', '--seq-len', '10', '--symbols', '3'];

describe('npm run compare with seeds', () => {
  it('trains every variant x seed into its folder and writes the paired summary', () => {
    const dir = tempDir('group');
    const r = cli('compare', [...TINY_COPY, '--variants', 'linear,momentum', '--seeds', '2,1', '--baseline', 'linear', '--out', dir]);
    expect(r.code, r.err).toBe(0);
    for (const run of ['linear-seed2', 'linear-seed1', 'momentum-seed2', 'momentum-seed1']) {
      const lines = readFileSync(join(dir, run, 'metrics.jsonl'), 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).step), run).toEqual([2, 4]);
      expect(existsSync(join(dir, run, 'last.safetensors')), run).toBe(true);
    }
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(Object.keys(s)).toEqual(['task', 'baseline', 'rows']);
    expect(s.task).toBe('copy');
    expect(s.baseline).toBe('linear');
    const metrics = ['testLoss', 'trainLoss', 'accuracy', 'stepsToThreshold', 'secondsToThreshold'];
    expect(s.rows.map((x: { variant: string; metric: string }) => `${x.variant}.${x.metric}`)).toEqual([
      ...metrics.map((m) => `linear.${m}`),
      ...metrics.map((m) => `momentum.${m}`),
    ]);
    for (const row of s.rows) {
      expect(Object.keys(row)).toEqual(['variant', 'metric', 'n', 'mean', 'std', 'values', 'seeds', 'pairedDiff']);
      expect(row.seeds).toEqual([2, 1]);
      expect(row.values).toHaveLength(2);
      expect(Object.keys(row.pairedDiff)).toEqual(['mean', 'low', 'high']);
    }
    // the test loss of a row is each run's last evaluation, in seed order
    const last = (run: string) => JSON.parse(readFileSync(join(dir, run, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!);
    const mom = s.rows.find((x: { variant: string; metric: string }) => x.variant === 'momentum' && x.metric === 'testLoss');
    expect(mom.values).toEqual([last('momentum-seed2').testLoss, last('momentum-seed1').testLoss]);
    expect(mom.n).toBe(2);
    expect(mom.pairedDiff.mean).toBeCloseTo((mom.values[0] - last('linear-seed2').testLoss + mom.values[1] - last('linear-seed1').testLoss) / 2, 12);
    expect(r.out).toMatch(/\| variant +\| metric +\| mean \+- std \(n\) +\| diff to linear \[95% CI\] +\| better +\|/);
    expect(r.out).toMatch(/\| momentum +\| testLoss +\| [\d.]+ \+- [\d.]+ \(2\) \| [-+][\d.]+ \[[-+][\d.]+, [-+][\d.]+\]( \(CI holds 0\))? +\| better on \d of 2 seeds \|/);
    const csv = readFileSync(join(dir, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('variant,metric,n,mean,std,diffMean,diffLow,diffHigh,better,pairs,ciContainsZero,seed2,seed1');
    expect(csv).toHaveLength(11);
  }, 600_000);

  it.each([
    [['--seeds', ''], /the seed list is empty/],
    [['--seeds', '1,2,1'], /seed 1 appears twice/],
    [['--seeds', '1,2', '--seed', '3'], /--seed is for one seed/],
    [['--seeds', '1,2', '--baseline', 'adaptive', '--variants', 'softmax,linear'], /--baseline 'adaptive' is not one of the variants compared/],
    [['--seeds', '13'], /65 runs \(5 variants x 13 seeds\) exceed the maximum of 64/],
    [['--variants', 'linear,linear', '--seeds', '2'], /'linear' appears twice/],
  ])('refuses %j with exit code 2', (args, message) => {
    const r = cli('compare', [...TINY_COPY, ...args]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('refuses a group over the memory budget with the count and the estimate, before training', () => {
    const r = cli('compare', ['--task', 'mqar', '--preset', 'paper', '--batch', '4096', '--seeds', '1,2', '--variants', 'softmax,linear']);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/compare: 4 runs, the largest needs about [\d.]+ MiB of GPU memory, over the budget of 4096\.0 MiB; nothing was started/);
  });
});

describe('npm run sweep', () => {
  it('writes every value x seed and sweep.json with each point over seeds', () => {
    const dir = tempDir('sweep');
    const r = cli('sweep', [...TINY_COPY, '--variant', 'momentum', '--param', 'beta', '--values', '0:0.5:0.5', '--seeds', '1', '--out', dir]);
    expect(r.code, r.err).toBe(0);
    for (const run of ['beta0-seed1', 'beta0.5-seed1']) expect(existsSync(join(dir, run, 'metrics.jsonl')), run).toBe(true);
    const s = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    expect(Object.keys(s)).toEqual(['variant', 'params', 'rows']);
    expect(s).toMatchObject({ variant: 'momentum', params: ['beta'] });
    const acc = s.rows.filter((x: { metric: string }) => x.metric === 'accuracy');
    expect(acc.map((x: { values: Record<string, number> }) => x.values)).toEqual([{ beta: 0 }, { beta: 0.5 }]);
    for (const row of acc) {
      expect(Object.keys(row)).toEqual(['values', 'metric', 'n', 'mean', 'std', 'diverged']);
      expect(row).toMatchObject({ n: 1, diverged: 0 });
    }
    // the runs really differ in beta
    expect(JSON.parse(readFileSync(join(dir, 'beta0.5-seed1', 'config.json'), 'utf8')).model.attention.beta).toBe(0.5);
    expect(r.out).toMatch(/\| beta \| accuracy +\| testLoss +\| stepsToThreshold \| diverged \|/);
  }, 600_000);

  it.each([
    [['--param', 'beta', '--values', '0.5,1'], /beta = 1: beta must be in \[0, 1\)/],
    [['--param', 'gamma', '--values', '0.6,0'], /gamma = 0: gamma must be > 0/],
    [['--param', 'alpha', '--values', '1'], /unknown sweep parameter 'alpha'/],
    [['--param', 'beta', '--values', '0.1', '--seeds', '1,1'], /seed 1 appears twice/],
    [['--param', 'beta', '--values', '0.1', '--param2', 'beta', '--values2', '0.2'], /parameter beta is swept twice/],
    [['--param', 'beta-tilde', '--values', '0.5'], /the momentum variant has no beta-tilde to sweep/],
    [['--param', 'beta', '--values', '0.1', '--beta', '0.3'], /--beta is swept; do not also fix it/],
  ])('refuses %j with exit code 2', (args, message) => {
    const r = cli('sweep', [...TINY_COPY, '--variant', 'momentum', ...args]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
  });
});

describe('npm run data', () => {
  it.each(['copy', 'mqar'] as const)('%s: writes the sequences training uses, one JSON object a line', (task) => {
    const dir = tempDir('data');
    const file = join(dir, 'ex.jsonl');
    const r = cli('data', ['--task', task, '--count', '5', '--seed', '3', '--out', file]);
    expect(r.code, r.err).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(Object.keys(l)).toEqual(['input', 'target', 'mask']);
    const cfg = makeRunConfig({ task, variant: 'softmax', overrides: { seed: 3 } });
    expect(lines).toEqual(runExamples(cfg, { kind: task }, 5));
    expect(existsSync(`${file}.partial`)).toBe(false);
  });

  it.each([
    [['--task', 'mqar', '--out', '/tmp/x.jsonl'], /--count is required/],
    [['--task', 'mqar', '--count', '2'], /--out FILE.jsonl is required/],
    [['--task', 'text', '--count', '2', '--out', '/tmp/x.jsonl'], /--task must be copy or mnist or mqar or listops or images; got 'text'/],
    [['--task', 'mqar', '--count', '2', '--pairs', '20', '--key-vocab', '16', '--out', '/tmp/x.jsonl'], /MQAR: 20 pairs need distinct keys, but there are only 16 keys/],
  ])('refuses %j with exit code 2', (args, message) => {
    const r = cli('data', args);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
  });
});
