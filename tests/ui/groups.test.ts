// Seed groups: the mean and band over member runs at each step (min-max, std, standard error), and
// the results table's means, stds and paired differences against hand-computed values.
import { describe, expect, it } from 'vitest';
import { groupBand, groupsOf } from '../../src/store/groups.ts';
import { MetricsHub } from '../../src/store/metrics.ts';
import { resultsCsv, resultsJson, resultsTable } from '../../src/store/results.ts';
import type { RunView } from '../../src/store/store.ts';
import { packMetrics, type MetricsRecord, type RunConfig } from '../../src/worker/protocol.ts';

function run(id: string, variant: string, seed: number): RunView {
  return {
    id,
    name: `${variant} seed ${seed}`,
    config: { variant, seed, task: { kind: 'copy' }, model: { connection: { kind: 'residual' } } } as unknown as RunConfig,
    data: { kind: 'copy' },
    colorIndex: variant === 'linear' ? 0 : 1,
    createdAt: 0,
    state: 'finished',
    step: 3,
    live: false,
    checkpointStep: null,
    group: { comparison: 'c', key: `c/${variant}`, label: variant },
  };
}

const rec = (step: number, trainLoss: number, testLoss: number | null = null, accuracy?: number): MetricsRecord => ({
  step,
  wallSeconds: step * 2,
  trainLoss,
  testLoss,
  tokensPerSec: 1,
  lr: 1,
  gradNorm: 1,
  ...(accuracy !== undefined ? { accuracy } : {}),
});

function setup() {
  const hub = new MetricsHub();
  // linear seeds 1, 2 and momentum seeds 1, 2: train losses per step, test loss at step 2 and 3.
  hub.append('l1', packMetrics([rec(1, 4), rec(2, 3, 2.0, 0.5), rec(3, 2, 1.0, 0.6)]));
  hub.append('l2', packMetrics([rec(1, 6), rec(2, 5, 3.0, 0.4), rec(3, 4, 2.0, 0.5)]));
  hub.append('m1', packMetrics([rec(1, 4), rec(2, 2, 1.5, 0.6), rec(3, 1, 0.5, 0.9)]));
  hub.append('m2', packMetrics([rec(1, 5), rec(2, 4, 2.5, 0.5), rec(3, 3, 1.5, 0.7)]));
  const runs = Object.fromEntries([run('l1', 'linear', 1), run('l2', 'linear', 2), run('m1', 'momentum', 1), run('m2', 'momentum', 2)].map((r) => [r.id, r]));
  return { hub, runs, order: ['l1', 'l2', 'm1', 'm2'] };
}

describe('seed groups', () => {
  it('groups runs by variant in list order', () => {
    const { runs, order } = setup();
    const g = groupsOf(runs, order);
    expect(g.map((x) => [x.label, x.members.map((m) => m.id)])).toEqual([
      ['linear', ['l1', 'l2']],
      ['momentum', ['m1', 'm2']],
    ]);
  });

  it('draws the mean with a min-max, std or standard-error band at each step', () => {
    const { hub } = setup();
    const members = [{ id: 'l1' }, { id: 'l2' }];
    const mm = groupBand(members, hub, 'trainLoss', { x: 'step', smoothing: 0, band: 'minmax' });
    expect(mm).toEqual({ x: [1, 2, 3], mean: [5, 4, 3], low: [4, 3, 2], high: [6, 5, 4], n: [2, 2, 2] });
    // Two values 4 and 6: std sqrt(2), standard error 1.
    const sd = groupBand(members, hub, 'trainLoss', { x: 'step', smoothing: 0, band: 'std' });
    expect(sd.high[0]).toBeCloseTo(5 + Math.SQRT2, 12);
    const se = groupBand(members, hub, 'trainLoss', { x: 'time', smoothing: 0, band: 'se' });
    expect(se.low[0]).toBeCloseTo(4, 12);
    expect(se.x).toEqual([2, 4, 6]);
    // Test loss only where it was evaluated.
    expect(groupBand(members, hub, 'testLoss', { x: 'step', smoothing: 0, band: 'minmax' }).x).toEqual([2, 3]);
    // A member that has not reached a step yet: the band there is over the others.
    hub.append('l1', packMetrics([rec(4, 1)]));
    const ahead = groupBand(members, hub, 'trainLoss', { x: 'step', smoothing: 0, band: 'minmax' });
    expect(ahead.n).toEqual([2, 2, 2, 1]);
    expect(ahead.low.at(-1)).toBe(1);
  });
});

describe('results table', () => {
  it('gives mean +- std over seeds and the paired difference to the baseline with its t-interval', () => {
    const { hub, runs, order } = setup();
    const t = resultsTable(groupsOf(runs, order), hub, { baseline: 'linear', threshold: 1.5 })!;
    expect(t.metrics).toEqual(['trainLoss', 'testLoss', 'accuracy', 'stepsTo', 'secondsTo']);
    const row = (v: string, m: string) => t.rows.find((r) => r.variant === v && r.metric === m)!;
    expect(row('linear', 'testLoss')).toMatchObject({ n: 2, mean: 1.5, values: [1, 2], seeds: [1, 2] });
    expect(row('linear', 'testLoss').std).toBeCloseTo(Math.SQRT1_2, 12);
    expect(row('linear', 'testLoss').pairedDiff).toBeUndefined();
    // momentum - linear on seeds 1, 2: test loss 0.5 - 1 = -0.5 and 1.5 - 2 = -0.5: mean -0.5, zero spread.
    const d = row('momentum', 'testLoss').pairedDiff!;
    expect(d).toMatchObject({ n: 2, better: 2, mean: -0.5 });
    // Accuracy 0.9 - 0.6 = 0.3, 0.7 - 0.5 = 0.2: mean 0.25, std 0.0707, t(0.975, 1) = 12.706.
    const a = row('momentum', 'accuracy').pairedDiff!;
    expect(a.mean).toBeCloseTo(0.25, 12);
    expect(a.high - a.mean).toBeCloseTo(12.7062047 * (Math.SQRT1_2 * 0.1) / Math.SQRT2, 5);
    expect(a.containsZero).toBe(true);
    expect(a.better).toBe(2);
    // Steps to test loss <= 1.5: linear 3 (seed 1), never (seed 2); momentum 2 and 3.
    expect(row('linear', 'stepsTo')).toMatchObject({ n: 1, values: [3, NaN] });
    expect(row('momentum', 'stepsTo')).toMatchObject({ n: 2, mean: 2.5 });
    expect(row('momentum', 'secondsTo').mean).toBe(5);
    expect(row('momentum', 'stepsTo').pairedDiff!.n).toBe(1); // the pair where linear never got there is left out
    const csv = resultsCsv(t).split('\n');
    expect(csv[0]).toBe('variant,metric,n,mean,std,baseline,diff_mean,diff_low95,diff_high95,better_seeds,paired_n,interval_contains_0,seeds,values');
    expect(csv.find((l) => l.startsWith('momentum,accuracy,'))).toMatch(/,linear,0\.25,.*,2,2,true,"1 2","0\.9 0\.7"$/);
    const json = JSON.parse(resultsJson(t));
    expect(json.baseline).toBe('linear');
    expect(json.rows.find((r: { variant: string; metric: string }) => r.variant === 'linear' && r.metric === 'stepsTo').values).toEqual([3, null]);
  });
});
