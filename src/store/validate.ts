// What the form accepts, field by field: every value is checked as typed (and as a link brings
// it), and an invalid one stays in its field, marked with the allowed range, while Train says why
// it is disabled. The worker checks the complete config again before anything is created.
import { MAX_RUNS } from '../util/seedGroups.ts';
import type { PresetTable } from '../worker/protocol.ts';
import { HYPER_LABELS, HYPER_LIMITS, SWEEP_PARAMS, formSeeds, formVariants, parseSeeds, parseValues, sweepPoints, type FormState, type Hypers, type SweepParam } from './form.ts';

export interface Limit {
  label: string;
  min: number;
  max: number;
  /** min itself is not allowed (a learning rate of 0). */
  minExclusive?: boolean;
  integer?: boolean;
}

export type NumberKey = 'layers' | 'heads' | 'headDim' | 'ffn' | 'batch' | 'steps' | 'lr' | 'maxLen' | 'subset';

/** The number fields' allowed ranges (the model's own checks are the worker's). */
export const FIELD_LIMITS: Record<NumberKey, Limit> = {
  layers: { label: 'Layers', min: 1, max: 48, integer: true },
  heads: { label: 'Heads', min: 1, max: 64, integer: true },
  headDim: { label: 'Head dim', min: 2, max: 256, integer: true },
  ffn: { label: 'Feed-forward width', min: 1, max: 16384, integer: true },
  batch: { label: 'Batch', min: 1, max: 4096, integer: true },
  steps: { label: 'Steps', min: 1, max: 1_000_000, integer: true },
  lr: { label: 'Learning rate', min: 0, max: 1, minExclusive: true },
  maxLen: { label: 'Sequence length', min: 4, max: 4096, integer: true },
  subset: { label: 'Training subset', min: 1, max: 60_000, integer: true },
};

/** At most this many runs in one comparison (variants x seeds). */
export { MAX_RUNS };

/** "1..48", "(0, 1]": the range as the field shows it. */
export function rangeText(l: Pick<Limit, 'min' | 'max' | 'minExclusive' | 'integer'>): string {
  if (l.minExclusive) return `(${l.min}, ${l.max}]`;
  return l.integer ? `${l.min}..${l.max}` : `[${l.min}, ${l.max}]`;
}

/** Why a value is not allowed (null when it is). */
export function checkNumber(v: number | null, l: Limit): string | null {
  if (v === null) return null;
  const range = `${rangeText(l)}${l.integer ? ', whole numbers' : ''}`;
  if (!Number.isFinite(v)) return `${l.label} is not a number (allowed: ${range})`;
  if (l.integer && !Number.isInteger(v)) return `${l.label} ${v} is not a whole number (allowed: ${range})`;
  if (v < l.min || (l.minExclusive && v === l.min)) return `${l.label} ${v} is below the allowed range ${range}`;
  if (v > l.max) return `${l.label} ${v} is over the allowed range ${range}`;
  return null;
}

export function hyperLimit(k: keyof Hypers): Limit {
  return { label: HYPER_LABELS[k], ...HYPER_LIMITS[k] };
}

export type FieldKey = NumberKey | 'task' | 'preset' | 'variants' | 'seeds' | keyof Hypers | 'sweep' | 'sweep2';

/** The variants a swept parameter acts on (the learning rate: all). */
const SWEEP_APPLIES: Record<SweepParam, string[] | null> = {
  beta: ['momentum', 'momentum-connection', 'adaptive'],
  gamma: ['momentum', 'momentum-connection', 'adaptive'],
  betaTilde: ['momentum-connection'],
  gammaTilde: ['momentum-connection', 'adaptive'],
  delta: ['adaptive'],
  lr: null,
};

export function sweepLimit(p: SweepParam): Limit {
  return p === 'lr' ? FIELD_LIMITS.lr : hyperLimit(p);
}

/** Why a sweep's parameter or values are wrong (null: they are right). */
function checkSweep(param: string | null, values: string, f: FormState, which: string): string | null {
  if (param === null) return null;
  if (!(SWEEP_PARAMS as readonly string[]).includes(param)) return `${which}: unknown parameter '${param}'; sweep one of ${SWEEP_PARAMS.join(', ')}`;
  const p = param as SweepParam;
  const v = parseValues(values, p);
  if ('error' in v) return `${which} (${p}): ${v.error}`;
  const lim = sweepLimit(p);
  for (const x of v.values) {
    const e = checkNumber(x, { ...lim, label: `${which} value ${p} =` });
    if (e) return e;
  }
  const variants = formVariants(f);
  const applies = SWEEP_APPLIES[p];
  if (variants.length === 1 && applies && !applies.includes(variants[0]!)) return `${which}: ${p} does not act on the ${variants[0]} variant (it does on ${applies.join(', ')})`;
  return null;
}

/** Every field that is wrong, with the reason (an empty object: the form can train). */
export function validateForm(f: FormState, presets: PresetTable | null): Partial<Record<FieldKey, string>> {
  const errors: Partial<Record<FieldKey, string>> = {};
  const tasks = presets ? Object.keys(presets.configs) : ['copy', 'mnist'];
  if (!tasks.includes(f.task)) errors.task = `task '${f.task}' is not in this build; choose ${tasks.join(' or ')}`;
  else if (presets && !presets.configs[f.task]?.[f.preset]) {
    const names = Object.keys(presets.configs[f.task] ?? {});
    errors.preset = `unknown preset '${f.preset}' for the ${f.task} task; choose ${names.join(', ')}`;
  }
  for (const k of Object.keys(FIELD_LIMITS) as NumberKey[]) {
    if (k === 'maxLen' && f.task !== 'copy') continue;
    if (k === 'subset' && f.task !== 'mnist') continue;
    const e = checkNumber(f[k], FIELD_LIMITS[k]);
    if (e) errors[k] = e;
  }
  for (const k of Object.keys(HYPER_LIMITS) as (keyof Hypers)[]) {
    const e = checkNumber(f.hypers[k], hyperLimit(k));
    if (e) errors[k] = e;
  }
  const sweep = f.sweep;
  if (sweep.param !== null) {
    const e = checkSweep(sweep.param, sweep.values, f, 'Sweep');
    if (e) errors.sweep = e;
    else if (formVariants(f).length !== 1) errors.sweep = `a sweep runs one variant; ${formVariants(f).length} are chosen`;
    const e2 = sweep.param2 === sweep.param ? `the second sweep parameter repeats the first (${sweep.param})` : checkSweep(sweep.param2, sweep.values2, f, 'Second sweep');
    if (e2) errors.sweep2 = e2;
  } else if (sweep.param2 !== null) errors.sweep2 = 'a second sweep parameter needs a first';
  const seeds = parseSeeds(f.seeds);
  if ('error' in seeds) errors.seeds = `Seeds: ${seeds.error}`;
  const variants = formVariants(f);
  if (variants.length === 0) errors.variants = 'choose at least one variant';
  else if ('seeds' in seeds && !errors.sweep && !errors.sweep2) {
    const points = sweepPoints(f).length;
    const runs = variants.length * points * seeds.seeds.length;
    if (runs > MAX_RUNS) {
      errors.seeds = `${variants.length} variant${variants.length === 1 ? '' : 's'}${f.sweep.param ? ` x ${points} sweep points` : ''} x ${seeds.seeds.length} seeds = ${runs} runs, over the maximum of ${MAX_RUNS}`;
    }
  }
  return errors;
}

/** Why Train is disabled, in one line (null: it is not). */
export function trainBlocker(f: FormState, presets: PresetTable | null): string | null {
  const errors = Object.values(validateForm(f, presets));
  return errors.length === 0 ? null : errors.join('; ');
}

/** Runs a form would start. */
export function formRunCount(f: FormState): number {
  return formVariants(f).length * sweepPoints(f).length * formSeeds(f).length;
}

/** The resolutions images of this shape can train at, or why they cannot (checked when the files are opened). */
export function imageShapeCheck(count: number, rows: number, cols: number): { resolutions: (28 | 14 | 7)[] } | { error: string } {
  if (rows !== cols) return { error: `MNIST generation needs square images; these are ${rows}x${cols}` };
  const resolutions = ([28, 14, 7] as const).filter((r) => r <= rows && rows % r === 0);
  if (resolutions.length === 0) return { error: `${rows}x${cols} images cannot be downsampled to 28, 14 or 7 pixels a side (the side must be a multiple of one)` };
  if (count < 2) return { error: `need at least 2 images (training and test); the file has ${count}` };
  return { resolutions: [...resolutions] };
}
