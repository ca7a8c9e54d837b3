// Sweeps: values as a list or a range, each checked against its parameter's range; one variant's
// runs per point x seed; the summary per point with diverged runs counted and left out of the mean.
import { describe, expect, it } from 'vitest';
import { defaultForm, formRuns, parseValues, type FormState } from '../../src/store/form.ts';
import { groupsOf } from '../../src/store/groups.ts';
import { MetricsHub } from '../../src/store/metrics.ts';
import { decodeShare } from '../../src/store/share.ts';
import type { RunView } from '../../src/store/store.ts';
import { sweepSummary } from '../../src/store/sweep.ts';
import { validateForm } from '../../src/store/validate.ts';
import { packMetrics, type RunConfig } from '../../src/worker/protocol.ts';

const sweepForm = (sweep: Partial<FormState['sweep']>, variants: FormState['variants'] = ['momentum']): FormState => ({
  ...defaultForm(),
  variants,
  seeds: '1, 2',
  sweep: { param: 'beta', values: '0, 0.5', param2: null, values2: '', ...sweep },
});

describe('sweeps', () => {
  it('reads values as the command line does, a list or a start:stop:step range, and names what is wrong', () => {
    expect(parseValues('0, 0.2, 0.4', 'beta')).toEqual({ values: [0, 0.2, 0.4] });
    expect(parseValues('0:0.8:0.2', 'beta')).toEqual({ values: [0, 0.2, 0.4, 0.6, 0.8] });
    expect(parseValues('', 'beta')).toEqual({ error: 'no values given for beta' });
    expect(parseValues('0.1, 0.1', 'beta')).toEqual({ error: 'beta value 0.1 appears twice' });
    expect(parseValues('0.1, x', 'beta')).toEqual({ error: "value 'x' for beta is not a number" });
    expect(parseValues('0.1 0.2', 'beta')).toEqual({ error: "value '0.1 0.2' for beta is not a number" });
    expect(parseValues('0:0.2', 'beta')).toEqual({ error: "range '0:0.2' for beta must be start:stop:step with three numbers" });
    // The form's parameter names, the command line's in its messages; ranges are the form's check.
    expect(parseValues('0.5, 1', 'betaTilde')).toEqual({ values: [0.5, 1] });
    expect(parseValues('a', 'betaTilde')).toEqual({ error: "value 'a' for beta-tilde is not a number" });
  });

  it('checks each value against its parameter, the parameter name and the variant', () => {
    expect(validateForm(sweepForm({}), null)).toEqual({});
    expect(validateForm(sweepForm({ values: '0, 0.5, 1' }), null).sweep).toBe('Sweep value beta = 1 is over the allowed range [0, 0.99]');
    expect(validateForm(sweepForm({ param: 'gamma', values: '0, 1' }), null).sweep).toMatch(/^Sweep value gamma = 0 is below/);
    expect(validateForm(sweepForm({ param: 'omega' as 'beta' }), null).sweep).toMatch(/unknown parameter 'omega'/);
    expect(validateForm(sweepForm({}, ['linear', 'momentum']), null).sweep).toBe('a sweep runs one variant; 2 are chosen');
    expect(validateForm(sweepForm({}, ['linear']), null).sweep).toMatch(/beta does not act on the linear variant/);
    expect(validateForm(sweepForm({ param2: 'beta', values2: '0.1' }), null).sweep2).toMatch(/repeats the first/);
    expect(validateForm(sweepForm({ values: '0:0.9:0.02' }), null).seeds).toMatch(/46 sweep points x 2 seeds = 92 runs, over the maximum of 64/);
    expect(validateForm(sweepForm({ values: '0:0.9:0.01' }), null).sweep).toBe("Sweep (beta): range '0:0.9:0.01' for beta has 91 values, over the maximum of 64 runs");
    expect(validateForm(sweepForm({ values: '0.8:0:0.2' }), null).sweep).toBe("Sweep (beta): range '0.8:0:0.2' for beta: stop is below start");
    // From a link: an unknown parameter is named on arrival too.
    const link = `#config=${Buffer.from(JSON.stringify({ sweep: { param: 'omega', values: '1' } })).toString('base64url')}`;
    expect(decodeShare(link).problems).toEqual(["sweep param: unknown parameter 'omega' (beta, gamma, betaTilde, gammaTilde, delta, lr)"]);
  });

  it('makes a run per point x seed, grouped by point, a grid for two parameters', () => {
    const runs = formRuns(sweepForm({ param2: 'lr', values2: '0.001, 0.01' }));
    expect(runs).toHaveLength(8);
    expect(runs.map((r) => r.group)).toEqual([
      'momentum beta=0, lr=0.001',
      'momentum beta=0, lr=0.001',
      'momentum beta=0, lr=0.01',
      'momentum beta=0, lr=0.01',
      'momentum beta=0.5, lr=0.001',
      'momentum beta=0.5, lr=0.001',
      'momentum beta=0.5, lr=0.01',
      'momentum beta=0.5, lr=0.01',
    ]);
    expect(runs[2]!.spec.overrides).toMatchObject({ seed: 1, lr: 0.01, hypers: { beta: 0 } });
    expect(runs[5]!.spec.overrides).toMatchObject({ seed: 2, lr: 0.001, hypers: { beta: 0.5 } });
  });

  it('summarises each point over seeds, diverged runs counted and left out of the mean', () => {
    const hub = new MetricsHub();
    const mk = (id: string, beta: number, seed: number, testLoss: number, state: RunView['state'] = 'finished'): RunView => {
      hub.append(id, packMetrics([{ step: 1, wallSeconds: 1, trainLoss: 1, testLoss, tokensPerSec: 1, lr: 1, gradNorm: 1 }]));
      return {
        id,
        name: id,
        config: { seed, variant: 'momentum' } as RunConfig,
        data: { kind: 'copy' },
        colorIndex: 0,
        createdAt: 0,
        state,
        step: 1,
        live: false,
        checkpointStep: null,
        group: { comparison: 'c', key: `c/${beta}`, label: `beta=${beta}`, sweep: { beta } },
      };
    };
    const list = [mk('a', 0, 1, 1), mk('b', 0, 2, 2), mk('c', 0.9, 1, 5, 'diverged'), mk('d', 0.9, 2, 3)];
    const sum = sweepSummary(groupsOf(Object.fromEntries(list.map((r) => [r.id, r])), list.map((r) => r.id)), hub, 'testLoss')!;
    expect(sum.params).toEqual(['beta']);
    expect(sum.points.map((p) => [p.values.beta, p.n, p.mean, p.min, p.max, p.diverged])).toEqual([
      [0, 2, 1.5, 1, 2, 0],
      [0.9, 1, 3, 3, 3, 1],
    ]);
    expect(sum.points[1]!.runs.find((r) => r.id === 'c')).toEqual({ id: 'c', value: 5, diverged: true });
  });
});
