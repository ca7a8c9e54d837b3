// The form's classification tasks: ListOps' length, depth and argument fields and the image
// task's classes checked as typed (kept, never clamped), against each other and the generator;
// images opened without labels refused for classification; links read field by field; and the
// run specs the worker turns into the same configs as `npm run train -- --task listops|images`.
import { describe, expect, it } from 'vitest';
import { defaultForm, formToSpecs, type FormState } from '../../src/store/form.ts';
import { decodeShare, encodeShare } from '../../src/store/share.ts';
import { resetApp, useApp } from '../../src/store/store.ts';
import { trainBlocker, validateForm } from '../../src/store/validate.ts';
import { makeRunConfig } from '../../src/train/presets.ts';
import type { PresetTable } from '../../src/worker/protocol.ts';

const presets: PresetTable = {
  names: ['tiny', 'quick', 'paper'],
  descriptions: {},
  configs: Object.fromEntries(
    (['copy', 'mnist', 'listops', 'images'] as const).map((task) => [task, Object.fromEntries(['tiny', 'quick', 'paper'].map((p) => [p, makeRunConfig({ task, variant: 'momentum', preset: p })]))]),
  ),
};
const link = (v: unknown) => `#config=${Buffer.from(JSON.stringify(v)).toString('base64url')}`;
const listops = (patch: Partial<FormState> = {}): FormState => ({ ...defaultForm('listops'), ...patch });

describe('ListOps fields', () => {
  it('defaults to the tiny preset and trains as the command line would', () => {
    const f = listops({ maxLength: 24, maxDepth: 2, variants: ['softmax'] });
    expect(trainBlocker(f, presets)).toBeNull();
    const [spec] = formToSpecs(f);
    expect(spec!.preset).toBe('tiny');
    expect(spec!.overrides.task).toEqual({ maxLength: 24, maxDepth: 2 });
    const cfg = makeRunConfig(spec!);
    const cli = makeRunConfig({ task: 'listops', variant: 'softmax', preset: 'tiny', overrides: { task: { maxLength: 24, maxDepth: 2 } } });
    expect(cfg.task).toEqual(cli.task);
    expect(cfg.model).toEqual(cli.model);
  });

  it('names each value out of range, keeps it, and checks the bounds against each other', () => {
    const e = validateForm(listops({ minLength: 0, maxDepth: 2.5, maxArgs: 99 }), presets);
    expect(e.minLength).toBe('Shortest expression (tokens) 0 is below the allowed range 1..4096, whole numbers');
    expect(e.maxDepth).toBe('Nesting depth 2.5 is not a whole number (allowed: 1..20, whole numbers)');
    expect(e.maxArgs).toBe('Most arguments 99 is over the allowed range 1..20, whole numbers');
    expect(validateForm(listops({ minArgs: 6 }), presets).minArgs).toBe('Fewest arguments 6 is more than the most arguments 5'); // tiny: maxArgs 5
    expect(validateForm(listops({ minLength: 50 }), presets).minLength).toBe('Shortest expression 50 is longer than the longest 40');
    // A length the depth and arguments cannot reach: the generator's own message.
    expect(validateForm(listops({ minLength: 30, maxDepth: 2 }), presets).minLength).toBe(
      'ListOps: no expression can reach minLength 30: with maxDepth 2 and maxArgs 5 the longest has 7 tokens',
    );
    expect(trainBlocker(listops({ maxDepth: 0 }), presets)).toMatch(/^Nesting depth 0 is below/);
    // Fields of other tasks are not checked here.
    expect(validateForm(listops({ maxLen: -1, classes: 1 }), presets)).toEqual({});
  });

  it('reads a link field by field, keeping out-of-range values for validation to mark', () => {
    const f = listops({ minLength: 6, maxLength: 30, maxDepth: 3, minArgs: 2, maxArgs: 4 });
    expect(decodeShare(encodeShare(f))).toEqual({ form: f, problems: [] });
    const { form, problems } = decodeShare(link({ task: 'listops', maxDepth: 'deep', maxArgs: 50, minLength: 3 }));
    expect(problems).toEqual(["Nesting depth 'deep' is not a number"]);
    expect(form.maxArgs).toBe(50);
    expect(Number.isNaN(form.maxDepth)).toBe(true);
    expect(Object.keys(validateForm(form, presets)).sort()).toEqual(['maxArgs', 'maxDepth']);
  });
});

describe('image classification fields', () => {
  it("takes the embedded digits and their labels by default (with the paper's γ̃ 0.001), at any resolution", () => {
    const f: FormState = { ...defaultForm('images'), variants: ['linear'], resolution: 14 };
    expect(trainBlocker(f, presets)).toBeNull();
    const cfg = makeRunConfig(formToSpecs(f)[0]!);
    expect(cfg.task).toMatchObject({ kind: 'images', resolution: 14, source: 'embedded', labels: null, classes: 10 });
    expect(cfg.model.maxSeq).toBe(196);
  });

  it('checks the classes and refuses images opened without labels', () => {
    const f: FormState = { ...defaultForm('images'), classes: 1 };
    expect(validateForm(f, presets).classes).toBe('Classes 1 is below the allowed range 2..256, whole numbers');
    expect(validateForm({ ...defaultForm('images'), classes: 5 }, presets).classes).toBe('the labels of the embedded digits go up to 9, outside 5 classes (0..4)');
    const unlabelled = { ...defaultForm('images'), source: 'digits.idx' };
    expect(validateForm(unlabelled, presets, { 'digits.idx': { count: 9, rows: 28, cols: 28, classes: null } }).source).toMatch(/opened without labels/);
    const labelled = { ...unlabelled, classes: 5 };
    expect(validateForm(labelled, presets, { 'digits.idx': { count: 9, rows: 28, cols: 28, classes: 10 } }).classes).toBe(
      "the labels of 'digits.idx' go up to 9, outside 5 classes (0..4)",
    );
    expect(validateForm({ ...labelled, classes: 10 }, presets, { 'digits.idx': { count: 9, rows: 28, cols: 28, classes: 10 } })).toEqual({});
    const [spec] = formToSpecs({ ...labelled, classes: 10 });
    expect(spec!.overrides.task).toEqual({ classes: 10, source: 'digits.idx' });
  });

  it('sets the task fields back to the preset when the task changes', () => {
    resetApp();
    const s = useApp.getState();
    s.setForm({ task: 'listops', maxDepth: 4, classes: 3, resolution: 28 });
    s.setTask('images');
    expect(useApp.getState().form).toMatchObject({ task: 'images', maxDepth: null, classes: null, resolution: null });
  });
});
