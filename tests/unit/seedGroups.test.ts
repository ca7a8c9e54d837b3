// Seed groups and sweeps as data: parsing (seed lists, values and ranges, parameter names),
// planning (variant x seed, grids, the run limit) and the summaries against hand-computed values.
import { describe, expect, it } from 'vitest';
import {
  MAX_RUNS,
  finalMetrics,
  formatGroupTable,
  groupCsv,
  parseSeeds,
  parseValues,
  planGroup,
  planSweep,
  summariseGroup,
  summariseSweep,
  sweepParam,
} from '../../src/util/seedGroups.ts';

describe('parsing', () => {
  it('seed lists and counts', () => {
    expect(parseSeeds('1,2,3')).toEqual([1, 2, 3]);
    expect(parseSeeds(' 7, 3 ')).toEqual([7, 3]);
    expect(parseSeeds('4')).toEqual([1, 2, 3, 4]);
    expect(() => parseSeeds('')).toThrow(/seed list is empty/);
    expect(() => parseSeeds('1,2,1')).toThrow(/seed 1 appears twice/);
    expect(() => parseSeeds('1,,2')).toThrow(/empty entry/);
    expect(() => parseSeeds('1,x')).toThrow(/seed 'x' is not an integer/);
    expect(() => parseSeeds('0')).toThrow(/seed count must be an integer >= 1/);
    expect(() => parseSeeds('65')).toThrow(/exceeds the maximum of 64/);
  });

  it('sweep parameters by flag or key, unknown names named', () => {
    expect(sweepParam('beta-tilde').key).toBe('betaTilde');
    expect(sweepParam('gammaTilde').flag).toBe('gamma-tilde');
    expect(() => sweepParam('alpha')).toThrow(/unknown sweep parameter 'alpha'; expected one of beta, gamma, beta-tilde, gamma-tilde, delta, lr/);
  });

  it('values: lists and ranges, checked against the parameter range', () => {
    const beta = sweepParam('beta');
    expect(parseValues('0,0.2,0.95', beta)).toEqual([0, 0.2, 0.95]);
    expect(parseValues('0:0.9:0.1', beta)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(parseValues('0.5:0.5:0.1', beta)).toEqual([0.5]);
    expect(() => parseValues('0.5,1', beta)).toThrow(/beta = 1: beta must be in \[0, 1\)/);
    expect(() => parseValues('0:1:0.5', beta)).toThrow(/beta = 1: /);
    expect(() => parseValues('0.6,0,-1', sweepParam('gamma'))).toThrow(/gamma = 0, -1: gamma must be > 0/);
    expect(() => parseValues('0.1,0.1', beta)).toThrow(/appears twice/);
    expect(() => parseValues('0:1', beta)).toThrow(/start:stop:step/);
    expect(() => parseValues('0:0.5:0', beta)).toThrow(/step must be > 0/);
    expect(() => parseValues('a', beta)).toThrow(/value 'a' for beta is not a number/);
  });
});

describe('planning', () => {
  it('variant x seed, one folder each; over the limit refused with the count', () => {
    const runs = planGroup(['softmax', 'linear'], [3, 1]);
    expect(runs.map((r) => r.dir)).toEqual(['softmax-seed3', 'softmax-seed1', 'linear-seed3', 'linear-seed1']);
    const seeds = Array.from({ length: 13 }, (_, i) => i + 1);
    expect(() => planGroup(['a', 'b', 'c', 'd', 'e'], seeds)).toThrow(`65 runs (5 variants x 13 seeds) exceed the maximum of ${MAX_RUNS}`);
    expect(() => planGroup(['a', 'a'], [1])).toThrow(/variant 'a' appears twice/);
    expect(() => planGroup(['a'], [])).toThrow(/seed list is empty/);
  });

  it('a grid of two parameters, the first slowest', () => {
    const p = planSweep(
      [
        { param: sweepParam('beta'), values: [0, 0.5] },
        { param: sweepParam('lr'), values: [0.01, 0.001] },
      ],
      [1, 2],
    );
    expect(p.points).toEqual([
      { beta: 0, lr: 0.01 },
      { beta: 0, lr: 0.001 },
      { beta: 0.5, lr: 0.01 },
      { beta: 0.5, lr: 0.001 },
    ]);
    expect(p.runs).toHaveLength(8);
    expect(p.runs[1]!.dir).toBe('beta0-lr0.01-seed2');
    expect(() => planSweep([{ param: sweepParam('beta'), values: Array.from({ length: 33 }, (_, i) => i / 40) }], [1, 2])).toThrow(/66 runs \(33 points x 2 seeds\)/);
  });
});

describe('summaries', () => {
  const evals = [
    { step: 10, wallSeconds: 1, trainLoss: 2, testLoss: 1.5, accuracy: 0.2 },
    { step: 20, wallSeconds: 2, trainLoss: 1, testLoss: 0.4, accuracy: 0.7 },
    { step: 30, wallSeconds: 3, trainLoss: 0.5, testLoss: 0.3, accuracy: 0.9 },
  ];

  it('final metrics from the last evaluation; threshold steps and seconds, NaN when never reached', () => {
    const m = finalMetrics(evals, 0.5);
    expect(m).toMatchObject({ testLoss: 0.3, trainLoss: 0.5, accuracy: 0.9, stepsToThreshold: 20, secondsToThreshold: 2 });
    expect(finalMetrics(evals, 0.1).stepsToThreshold).toBeNaN();
  });

  it('rows per variant and metric: mean, std, values in seed order, the paired difference by hand', () => {
    const metrics = [{ name: 'testLoss', lowerIsBetter: true }];
    const results = {
      base: [{ testLoss: 1 }, { testLoss: 2 }, { testLoss: 3 }],
      other: [{ testLoss: 0.5 }, { testLoss: 1.5 }, { testLoss: 3.5 }],
    };
    const { summary, notes } = summariseGroup('copy', 'base', ['base', 'other'], [4, 5, 6], results, metrics);
    expect(Object.keys(summary)).toEqual(['task', 'baseline', 'rows']);
    const row = summary.rows[1]!;
    expect(Object.keys(row)).toEqual(['variant', 'metric', 'n', 'mean', 'std', 'values', 'seeds', 'pairedDiff']);
    expect(row).toMatchObject({ variant: 'other', metric: 'testLoss', n: 3, values: [0.5, 1.5, 3.5], seeds: [4, 5, 6] });
    expect(row.mean).toBeCloseTo(5.5 / 3, 12);
    // values 0.5, 1.5, 3.5: mean 11/6, deviations -4/3, -1/3, 5/3; squares sum 42/9, / 2 = 7/3
    expect(row.std).toBeCloseTo(Math.sqrt(7 / 3), 12);
    // differences -0.5, -0.5, +0.5: mean -1/6, std sqrt(1/3), se 1/3, t(0.975, 2) = 4.30265
    expect(row.pairedDiff.mean).toBeCloseTo(-1 / 6, 12);
    expect(row.pairedDiff.high - row.pairedDiff.mean).toBeCloseTo(4.30265 / 3, 4);
    expect(notes[1]).toEqual({ better: 2, of: 3, containsZero: true });
    expect(summary.rows[0]!.pairedDiff).toEqual({ mean: 0, low: 0, high: 0 });
    const table = formatGroupTable(summary, notes);
    expect(table).toMatch(/\| other +\| testLoss +\| 1\.8333 \+- 1\.5275 \(3\) \| -0\.1667 \[-1\.6009, \+1\.2676\] \(CI holds 0\) \| better on 2 of 3 seeds \|/);
    const csv = groupCsv(summary, notes).trim().split('\n');
    expect(csv[0]).toBe('variant,metric,n,mean,std,diffMean,diffLow,diffHigh,better,pairs,ciContainsZero,seed4,seed5,seed6');
    expect(csv[2]!.startsWith('other,testLoss,3,')).toBe(true);
    expect(csv[2]!.endsWith(',2,3,true,0.5,1.5,3.5')).toBe(true);
  });

  it('a run with no value counts out of n and out of the pairs, shown as null', () => {
    const metrics = [{ name: 'stepsToThreshold', lowerIsBetter: true }];
    const { summary, notes } = summariseGroup('copy', 'a', ['a', 'b'], [1, 2], { a: [{ stepsToThreshold: 100 }, { stepsToThreshold: 200 }], b: [{ stepsToThreshold: NaN }, { stepsToThreshold: 150 }] }, metrics);
    expect(summary.rows[1]).toMatchObject({ n: 1, mean: 150, values: [null, 150] });
    expect(notes[1]).toMatchObject({ better: 1, of: 1 });
    // One pair has no interval: the table says so instead of "CI holds 0".
    expect(formatGroupTable(summary, notes)).toMatch(/\| b +\| stepsToThreshold +\| 150 \(1\) +\| [-+][\d.]+ \[-, -\] \(one seed: no interval\) \|/);
    expect(() => summariseGroup('copy', 'z', ['a'], [1], { a: [{}] }, metrics)).toThrow(/baseline 'z' is not one of the variants/);
  });

  it('sweep rows: diverged runs counted, their values left out', () => {
    const rows = summariseSweep(
      [{ beta: 0 }, { beta: 0.95 }],
      [
        [
          { metrics: { accuracy: 0.8 }, diverged: false },
          { metrics: { accuracy: 0.6 }, diverged: false },
        ],
        [
          { metrics: { accuracy: 0.1 }, diverged: true },
          { metrics: { accuracy: 0.3 }, diverged: false },
        ],
      ],
      [{ name: 'accuracy', lowerIsBetter: false }],
    );
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0]!)).toEqual(['values', 'metric', 'n', 'mean', 'std', 'diverged']);
    expect(rows[0]).toMatchObject({ values: { beta: 0 }, metric: 'accuracy', n: 2, diverged: 0 });
    expect(rows[0]!.mean).toBeCloseTo(0.7, 12);
    expect(rows[0]!.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(rows[1]).toMatchObject({ values: { beta: 0.95 }, n: 1, mean: 0.3, diverged: 1 });
    expect(rows[1]!.std).toBeNaN();
  });
});
