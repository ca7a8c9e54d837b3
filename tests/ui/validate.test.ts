// The form's checks: values kept as typed and each wrong field named with its range; links read
// field by field (damaged, null, non-object, unknown preset or task); seeds; image shapes; names.
import { describe, expect, it } from 'vitest';
import { defaultForm, formToSpecs, parseSeeds } from '../../src/store/form.ts';
import { uniqueName } from '../../src/store/names.ts';
import { decodeShare, encodeShare } from '../../src/store/share.ts';
import { MAX_RUNS, checkNumber, imageShapeCheck, trainBlocker, validateForm } from '../../src/store/validate.ts';
import type { PresetTable, RunConfig } from '../../src/worker/protocol.ts';

const presets: PresetTable = {
  names: ['tiny', 'quick'],
  descriptions: {},
  configs: { copy: { tiny: {} as RunConfig, quick: {} as RunConfig }, mnist: { tiny: {} as RunConfig } },
};
const link = (v: unknown) => `#config=${Buffer.from(JSON.stringify(v)).toString('base64url')}`;

describe('field checks', () => {
  it('names the field, the value and the allowed range, and changes nothing', () => {
    const f = { ...defaultForm(), layers: 1e12, batch: -3, steps: 0, lr: 0, maxLen: 100000, hypers: { ...defaultForm().hypers, beta: 1.5, gamma: -2 } };
    const e = validateForm(f, presets);
    expect(e.layers).toBe('Layers 1000000000000 is over the allowed range 1..48, whole numbers');
    expect(e.batch).toBe('Batch -3 is below the allowed range 1..4096, whole numbers');
    expect(e.steps).toMatch(/^Steps 0 is below/);
    expect(e.lr).toBe('Learning rate 0 is below the allowed range (0, 1]');
    expect(e.maxLen).toMatch(/^Sequence length 100000 is over the allowed range 4\.\.4096/);
    expect(e.beta).toBe('β 1.5 is over the allowed range [0, 0.99]');
    expect(e.gamma).toMatch(/^γ -2 is below/);
    expect(f.layers).toBe(1e12); // kept as typed
    expect(trainBlocker(f, presets)).toMatch(/Layers .*Batch .*Learning rate/);
    expect(trainBlocker(defaultForm(), presets)).toBeNull();
    expect(checkNumber(2.5, { label: 'Heads', min: 1, max: 64, integer: true })).toBe('Heads 2.5 is not a whole number (allowed: 1..64, whole numbers)');
    expect(checkNumber(NaN, { label: 'Heads', min: 1, max: 64, integer: true })).toMatch(/not a number/);
  });

  it('knows the presets and tasks this build has', () => {
    expect(validateForm({ ...defaultForm(), preset: 'nonexistent' }, presets).preset).toBe("unknown preset 'nonexistent' for the copy task; choose tiny, quick");
    expect(validateForm({ ...defaultForm(), task: 'mqar' as 'copy' }, presets).task).toBe("task 'mqar' is not in this build; choose copy or mnist");
    expect(validateForm({ ...defaultForm(), variants: [] }, presets).variants).toMatch(/at least one variant/);
  });

  it('reads seeds as the command line does, a list or a count, and names what is wrong', () => {
    expect(parseSeeds('1, 2, 3')).toEqual({ seeds: [1, 2, 3] });
    expect(parseSeeds('4, 5, 6')).toEqual({ seeds: [4, 5, 6] });
    expect(parseSeeds('3')).toEqual({ seeds: [1, 2, 3] });
    expect(parseSeeds('')).toEqual({ error: 'the seed list is empty' });
    expect(parseSeeds('1, 2, 1')).toEqual({ error: "seed 1 appears twice in '1, 2, 1'" });
    expect(parseSeeds('1, x')).toEqual({ error: "seed 'x' is not an integer in 0..2^32-1" });
    expect(parseSeeds('1 2')).toEqual({ error: "seed '1 2' is not an integer in 0..2^32-1" });
    expect(parseSeeds('4-6')).toEqual({ error: "seed '4-6' is not an integer in 0..2^32-1" });
    expect(parseSeeds('65')).toEqual({ error: 'a seed count of 65 exceeds the maximum of 64 runs' });
    // A range: the way to write one seed other than 1 alone, since '7' is a count.
    expect(parseSeeds('7:7')).toEqual({ seeds: [7] });
    expect(parseSeeds(' 4 : 6 ')).toEqual({ seeds: [4, 5, 6] });
    expect(parseSeeds('6:4')).toEqual({ error: "the seed range '6:4' is reversed (first 6 > last 4)" });
    expect(parseSeeds('1:2:3')).toEqual({ error: "a seed range is 'first:last' (e.g. 4:6, or 7:7 for seed 7 alone); got '1:2:3'" });
    expect(parseSeeds('1:')).toEqual({ error: "seed '' is not an integer in 0..2^32-1" });
    expect(parseSeeds('0:64')).toEqual({ error: "the seed range '0:64' has 65 seeds, over the maximum of 64 runs" });
    expect(parseSeeds('0:4294967295')).toEqual({ error: "the seed range '0:4294967295' has 4294967296 seeds, over the maximum of 64 runs" });
    expect(validateForm({ ...defaultForm(), seeds: '1,,2' }, presets).seeds).toBe("Seeds: the seed list '1,,2' has an empty entry");
    const many = { ...defaultForm(), variants: ['softmax', 'linear', 'momentum'] as const, seeds: '30' };
    expect(validateForm({ ...many, variants: [...many.variants] }, presets).seeds).toBe(`3 variants x 30 seeds = 90 runs, over the maximum of ${MAX_RUNS}`);
  });

  it('makes every variant x seed a run, variants outermost, seeds shared', () => {
    const specs = formToSpecs({ ...defaultForm(), variants: ['linear', 'momentum'], seeds: '1, 2' });
    expect(specs.map((s) => `${s.variant}:${s.overrides.seed}`)).toEqual(['linear:1', 'linear:2', 'momentum:1', 'momentum:2']);
    expect(new Set(specs.map((s) => s.overrides.name)).size).toBe(4);
  });

  it('checks image shapes when the files are opened', () => {
    expect(imageShapeCheck(10, 3, 5)).toEqual({ error: 'MNIST generation needs square images; these are 3x5' });
    expect(imageShapeCheck(10, 5, 5)).toMatchObject({ error: expect.stringMatching(/cannot be downsampled/) });
    expect(imageShapeCheck(1, 28, 28)).toMatchObject({ error: expect.stringMatching(/at least 2 images/) });
    expect(imageShapeCheck(10, 28, 28)).toEqual({ resolutions: [28, 14, 7] });
    expect(imageShapeCheck(10, 21, 21)).toEqual({ resolutions: [7] });
  });

  it('gives repeats and uploads a suffix', () => {
    expect(uniqueName('a', [])).toBe('a');
    expect(uniqueName('a', ['a', 'a (2)'])).toBe('a (3)');
  });
});

describe('share links', () => {
  it('reports a damaged, null or non-object configuration and keeps the defaults', () => {
    expect(decodeShare('#config=%%%')).toEqual({ form: defaultForm(), problems: [expect.stringMatching(/damaged/)] });
    expect(decodeShare(link(null)).problems).toEqual(['the configuration in the link is null, not an object: the form keeps its defaults']);
    expect(decodeShare(link([1])).problems[0]).toMatch(/is an array, not an object/);
    expect(decodeShare(link(7)).problems[0]).toMatch(/is a number, not an object/);
  });

  it('keeps out-of-range values as given and names every field it cannot use', () => {
    const { form, problems } = decodeShare(link({ preset: 'nonexistent', layers: 1e12, lr: 1e308, batch: 'big', variants: ['linear', 'quantum'], hypers: { beta: 1.5, gamma: -2, delta: 5 }, colour: 'red' }));
    expect(form).toMatchObject({ preset: 'nonexistent', layers: 1e12, lr: 1e308, variants: ['linear'] });
    expect(Number.isNaN(form.batch)).toBe(true);
    expect(form.hypers).toMatchObject({ beta: 1.5, gamma: -2, delta: 5 });
    expect(problems).toEqual([
      "unknown field 'colour' is ignored",
      "variant 'quantum' is unknown (softmax, linear, momentum, momentum-connection, adaptive) and left out",
      "Batch 'big' is not a number",
    ]);
    // The out-of-range values themselves are named by validation, field by field.
    const e = validateForm(form, presets);
    expect(Object.keys(e).sort()).toEqual(['batch', 'beta', 'delta', 'gamma', 'layers', 'lr', 'preset']);
    // An old link's single seed: seed 1 reads as a count of one; another is named, not read as a count.
    expect(decodeShare(link({ seed: 1 })).form.seeds).toBe('1');
    const older = decodeShare(link({ seed: 7 }));
    expect(older.form.seeds).toBe('1');
    expect(older.problems).toEqual(["seed 7 (an older link's single seed) cannot be given alone: Seeds takes a list like 1, 2, 3 or a count (7 would be seeds 1..7); seed 1 is used"]);
    expect(decodeShare(encodeShare(defaultForm('mnist')))).toEqual({ form: defaultForm('mnist'), problems: [] });
  });
});
