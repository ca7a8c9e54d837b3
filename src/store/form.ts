// The new-comparison form as plain data: what the page shows, what a share URL carries, and the run
// specs (preset + overrides per variant and seed) it turns into. Values stay as typed: validation
// (validate.ts) marks what is out of range; nothing here clamps or replaces a value.
import { ADAPTIVE_DELTA, PAPER_HYPERS, VARIANTS, variantUsesMomentum, type Variant } from '../model/config.ts';
import { SWEEP_PARAMS as SHARED_SWEEP_PARAMS, parseSeeds as sharedParseSeeds, parseValues as sharedParseValues } from '../util/seedGroups.ts';
import type { RunSpec, TaskName } from '../worker/protocol.ts';

export interface Hypers {
  beta: number;
  gamma: number;
  betaTilde: number;
  gammaTilde: number;
  delta: number;
}

export interface FormState {
  task: TaskName;
  preset: string;
  variants: Variant[];
  /** null: the preset's value; NaN: something typed that is not a number (marked invalid). */
  layers: number | null;
  heads: number | null;
  headDim: number | null;
  ffn: number | null;
  batch: number | null;
  steps: number | null;
  lr: number | null;
  /** Seeds as typed, in the command line's syntax: a list (1, 2, 3) or a count (3: seeds 1..3). */
  seeds: string;
  /** Copy task: sequence length L. */
  maxLen: number | null;
  /** MNIST generation and image classification: image side after downsampling, and how many training images. */
  resolution: 28 | 14 | 7 | null;
  subset: number | null;
  /** 'embedded' or the name of IDX images the user opened (with their labels, for classification). */
  source: string;
  /** Image classification: the classes (every label in 0..classes-1). */
  classes: number | null;
  /** ListOps: token-count bounds of an expression, the depth bound and the argument counts. */
  minLength: number | null;
  maxLength: number | null;
  maxDepth: number | null;
  minArgs: number | null;
  maxArgs: number | null;
  hypers: Hypers;
  /** Run the momentum-connection variant with adaptive beta~ (eq. 18) instead of a fixed one. */
  adaptive: boolean;
  /**
   * Momentum attention with the authors'-code weighting instead of the recurrence (12)-(13)
   * (MATH.md, "A known discrepancy"); softmax and linear runs are unchanged.
   */
  authorsWeights: boolean;
  /** A sweep of one variant over one or two parameters (null: no sweep), values as typed. */
  sweep: SweepForm;
}

export const SWEEP_PARAMS = ['beta', 'gamma', 'betaTilde', 'gammaTilde', 'delta', 'lr'] as const;
export type SweepParam = (typeof SWEEP_PARAMS)[number];

export interface SweepForm {
  param: SweepParam | null;
  /** A list (0, 0.2, 0.4) or a range start:stop:step (0:0.8:0.2), the command line's syntax. */
  values: string;
  param2: SweepParam | null;
  values2: string;
}

/**
 * The values a sweep text names, or why it names none: the command line's syntax and parser
 * (src/util/seedGroups.ts), a list "0, 0.2, 0.4" or a range "start:stop:step" ("0:0.8:0.2"). Only
 * the syntax is checked here; each value's range is the form's (validate.ts), which lies inside the
 * command line's.
 */
export function parseValues(text: string, param: SweepParam): { values: number[] } | { error: string } {
  const known = SHARED_SWEEP_PARAMS.find((q) => q.key === param);
  const syntaxOnly = { flag: known?.flag ?? param, key: param, range: '', check: () => null };
  try {
    return { values: sharedParseValues(text, syntaxOnly) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** A sweep's value combinations (one entry without a sweep; [] when its values are invalid). */
export function sweepPoints(f: FormState): Record<string, number>[] {
  const s = f.sweep;
  if (!s.param) return [{}];
  const a = parseValues(s.values, s.param);
  if ('error' in a) return [];
  if (!s.param2) return a.values.map((v) => ({ [s.param!]: v }));
  const b = parseValues(s.values2, s.param2);
  if ('error' in b) return [];
  return a.values.flatMap((v) => b.values.map((w) => ({ [s.param!]: v, [s.param2!]: w })));
}

/** The sliders' ranges, also the allowed ranges: every value on the convergent side (beta < 1, gamma > 0). */
export const HYPER_LIMITS = {
  beta: { min: 0, max: 0.99, step: 0.01 },
  gamma: { min: 0.05, max: 3, step: 0.05 },
  betaTilde: { min: 0, max: 0.99, step: 0.01 },
  // Down to 0.001: the paper's image-task value (Table 1).
  gammaTilde: { min: 0.001, max: 2, step: 0.001 },
  delta: { min: 0.0001, max: 0.1, step: 0.0001 },
} as const satisfies Record<keyof Hypers, { min: number; max: number; step: number }>;

export const HYPER_LABELS: Record<keyof Hypers, string> = {
  beta: 'β',
  gamma: 'γ',
  betaTilde: 'β̃',
  gammaTilde: 'γ̃',
  delta: 'δ',
};

/** The paper's values for a task (the copy task's for a task the paper did not run). */
export function paperHypers(task: TaskName): Hypers {
  const p = (PAPER_HYPERS as Record<string, Omit<Hypers, 'delta'>>)[task] ?? PAPER_HYPERS.copy;
  return { ...p, delta: ADAPTIVE_DELTA };
}

export function defaultForm(task: TaskName = 'copy'): FormState {
  return {
    task,
    preset: 'tiny',
    variants: ['softmax', 'linear', 'momentum'],
    layers: null,
    heads: null,
    headDim: null,
    ffn: null,
    batch: null,
    steps: null,
    lr: null,
    seeds: '1',
    maxLen: null,
    resolution: null,
    subset: null,
    source: 'embedded',
    classes: null,
    minLength: null,
    maxLength: null,
    maxDepth: null,
    minArgs: null,
    maxArgs: null,
    hypers: paperHypers(task),
    adaptive: false,
    authorsWeights: false,
    sweep: { param: null, values: '', param2: null, values2: '' },
  };
}

/** The variants a form launches, the adaptive toggle applied, without duplicates. */
export function formVariants(f: FormState): Variant[] {
  const out = f.variants.map((v) => (f.adaptive && v === 'momentum-connection' ? 'adaptive' : v));
  return VARIANTS.filter((v) => out.includes(v));
}

/**
 * The seeds a text names, or the reason it names none: the command line's syntax and parser
 * (src/util/seedGroups.ts), a list "1, 2, 3" or a count "3" (seeds 1..3), at most MAX_RUNS.
 */
export function parseSeeds(text: string): { seeds: number[] } | { error: string } {
  try {
    return { seeds: sharedParseSeeds(text) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The seeds of a form ([] when its text is invalid). */
export function formSeeds(f: FormState): number[] {
  const p = parseSeeds(f.seeds);
  return 'seeds' in p ? p.seeds : [];
}

/** A run the form starts: its spec and the group (variant, or sweep point) it belongs to. */
export interface FormRun {
  spec: RunSpec;
  /** The group within the comparison: the variant, or the sweep point ('beta=0.2'). */
  group: string;
  sweep?: Record<string, number>;
}

const pointText = (p: Record<string, number>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** The form's fields set for a task (null: the preset's), as makeRunConfig's task overrides. */
const LISTOPS_FIELDS = ['minLength', 'maxLength', 'maxDepth', 'minArgs', 'maxArgs'] as const;

export function taskOverrides(f: FormState): Record<string, number | string> {
  const set = (keys: readonly (keyof FormState)[]) => Object.fromEntries(keys.filter((k) => f[k] !== null).map((k) => [k, f[k] as number]));
  switch (f.task) {
    case 'copy':
      return set(['maxLen']);
    case 'mnist':
      return { ...set(['resolution', 'subset']), source: f.source };
    case 'images':
      return { ...set(['resolution', 'subset', 'classes']), source: f.source };
    case 'listops':
      return set(LISTOPS_FIELDS);
    default:
      return {};
  }
}

/**
 * One run per variant x seed (variants outermost), or for a sweep per point x seed; a given seed
 * means the same data order and initial weights.
 */
export function formRuns(f: FormState): FormRun[] {
  const model: Record<string, number> = {};
  if (f.layers !== null) model.layers = f.layers;
  if (f.heads !== null) model.heads = f.heads;
  if (f.headDim !== null) model.headDim = f.headDim;
  if (f.ffn !== null) model.ffn = f.ffn;
  const task = taskOverrides(f);
  const out: FormRun[] = [];
  const points = sweepPoints(f);
  for (const variant of formVariants(f)) {
    for (const point of points) {
      const swept = Object.keys(point).length > 0;
      const { lr, ...hyperPoint } = point as Record<string, number>;
      const rate = lr ?? f.lr;
      const authors = f.authorsWeights && variantUsesMomentum(variant);
      for (const seed of formSeeds(f)) {
        const spec: RunSpec = {
          task: f.task,
          variant,
          preset: f.preset,
          overrides: {
            name: `${variant}${authors ? ' [authors-code]' : ''}${swept ? ` · ${pointText(point)}` : ''} · ${f.task} ${f.preset} · seed ${seed}`,
            seed,
            ...(f.batch !== null ? { batch: f.batch } : {}),
            ...(f.steps !== null ? { steps: f.steps } : {}),
            ...(rate !== null && rate !== undefined ? { lr: rate } : {}),
            ...(Object.keys(model).length ? { model } : {}),
            ...(Object.keys(task).length ? { task } : {}),
            hypers: { ...f.hypers, ...hyperPoint },
            ...(authors ? { weights: 'authors-code' as const } : {}),
          },
        };
        out.push({ spec, group: swept ? `${variant} ${pointText(point)}` : variant, ...(swept ? { sweep: point } : {}) });
      }
    }
  }
  return out;
}

/** The specs of formRuns. */
export function formToSpecs(f: FormState): RunSpec[] {
  return formRuns(f).map((r) => r.spec);
}
