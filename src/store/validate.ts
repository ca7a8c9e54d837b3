// What the form accepts, field by field: every value is checked as typed (and as a link brings
// it), and an invalid one stays in its field, marked with the allowed range, while Train says why
// it is disabled. The worker checks the complete config again before anything is created.
import { checkListOpsConfig } from '../tasks/listops.ts';
import { MNIST_CLASSES, PIXEL_VOCAB } from '../tasks/mnist.ts';
import { EMBEDDED_MNIST } from '../train/types.ts';
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

export type NumberKey =
  | 'layers'
  | 'heads'
  | 'headDim'
  | 'ffn'
  | 'batch'
  | 'steps'
  | 'lr'
  | 'maxLen'
  | 'subset'
  | 'classes'
  | 'minLength'
  | 'maxLength'
  | 'maxDepth'
  | 'minArgs'
  | 'maxArgs';

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
  classes: { label: 'Classes', min: 2, max: PIXEL_VOCAB, integer: true },
  minLength: { label: 'Shortest expression (tokens)', min: 1, max: 4096, integer: true },
  maxLength: { label: 'Longest expression (tokens)', min: 1, max: 4096, integer: true },
  maxDepth: { label: 'Nesting depth', min: 1, max: 20, integer: true },
  minArgs: { label: 'Fewest arguments', min: 1, max: 20, integer: true },
  maxArgs: { label: 'Most arguments', min: 1, max: 20, integer: true },
};

/** The tasks each task-specific number field belongs to (the others apply to every task). */
const FIELD_TASKS: Partial<Record<NumberKey, readonly string[]>> = {
  maxLen: ['copy'],
  subset: ['mnist', 'images'],
  classes: ['images'],
  minLength: ['listops'],
  maxLength: ['listops'],
  maxDepth: ['listops'],
  minArgs: ['listops'],
  maxArgs: ['listops'],
};

export function fieldApplies(k: NumberKey, task: string): boolean {
  return FIELD_TASKS[k]?.includes(task) ?? true;
}

/** The embedded digits (public/mnist-10k.bin): 10,000 of 28 x 28, labels 0..9. */
const EMBEDDED_INFO: DatasetInfo = { count: 10_000, rows: 28, cols: 28, classes: MNIST_CLASSES };

/** What the page knows of IDX images opened in it: labelled ones can be classified. */
export interface DatasetInfo {
  count: number;
  rows: number;
  cols: number;
  /** One more than the largest label (null: no labels). */
  classes: number | null;
}

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

export type FieldKey = NumberKey | 'task' | 'preset' | 'source' | 'variants' | 'seeds' | keyof Hypers | 'sweep' | 'sweep2';

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
export function validateForm(f: FormState, presets: PresetTable | null, datasets: Record<string, DatasetInfo> = {}): Partial<Record<FieldKey, string>> {
  const errors: Partial<Record<FieldKey, string>> = {};
  const tasks = presets ? Object.keys(presets.configs) : ['copy', 'mnist'];
  if (!tasks.includes(f.task)) errors.task = `task '${f.task}' is not in this build; choose ${tasks.join(' or ')}`;
  else if (presets && !presets.configs[f.task]?.[f.preset]) {
    const names = Object.keys(presets.configs[f.task] ?? {});
    errors.preset = `unknown preset '${f.preset}' for the ${f.task} task; choose ${names.join(', ')}`;
  }
  for (const k of Object.keys(FIELD_LIMITS) as NumberKey[]) {
    if (!fieldApplies(k, f.task)) continue;
    const e = checkNumber(f[k], FIELD_LIMITS[k]);
    if (e) errors[k] = e;
  }
  if (f.task === 'listops') {
    const e = checkListOpsFields(f, presets);
    if (e) errors[e.key] = e.text;
  }
  if (f.task === 'images') {
    const d = f.source === EMBEDDED_MNIST ? EMBEDDED_INFO : datasets[f.source];
    const classes = f.classes ?? (presets?.configs.images?.[f.preset]?.task as { classes?: number } | undefined)?.classes ?? null;
    if (d && d.classes === null) errors.source = `the images '${f.source}' were opened without labels; open them with their IDX labels file to classify them`;
    else if (d && classes !== null && d.classes !== null && d.classes > classes && !errors.classes) {
      const name = f.source === EMBEDDED_MNIST ? 'the embedded digits' : `'${f.source}'`;
      errors.classes = `the labels of ${name} go up to ${d.classes - 1}, outside ${classes} classes (0..${classes - 1})`;
    }
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

/**
 * The ListOps fields against each other and the generator (src/tasks/listops.ts checkListOpsConfig,
 * the check the worker makes): bounds the wrong way round, or a length no expression can reach. A
 * field left empty takes the preset's value. Null when they are right or a field is already wrong.
 */
function checkListOpsFields(f: FormState, presets: PresetTable | null): { key: NumberKey; text: string } | null {
  const keys = ['minLength', 'maxLength', 'maxDepth', 'minArgs', 'maxArgs'] as const;
  if (keys.some((k) => checkNumber(f[k], FIELD_LIMITS[k]) !== null)) return null;
  const base = presets?.configs.listops?.[f.preset]?.task;
  if (!base || base.kind !== 'listops') return null;
  const v = Object.fromEntries(keys.map((k) => [k, f[k] ?? base[k]])) as Record<(typeof keys)[number], number>;
  if (v.minArgs > v.maxArgs) return { key: 'minArgs', text: `Fewest arguments ${v.minArgs} is more than the most arguments ${v.maxArgs}` };
  if (v.minLength > v.maxLength) return { key: 'minLength', text: `Shortest expression ${v.minLength} is longer than the longest ${v.maxLength}` };
  try {
    checkListOpsConfig(v);
  } catch (e) {
    return { key: f.minLength !== null ? 'minLength' : 'maxLength', text: (e as Error).message };
  }
  return null;
}

/** Why Train is disabled, in one line (null: it is not). */
export function trainBlocker(f: FormState, presets: PresetTable | null, datasets: Record<string, DatasetInfo> = {}): string | null {
  const errors = Object.values(validateForm(f, presets, datasets));
  return errors.length === 0 ? null : errors.join('; ');
}

/** Runs a form would start. */
export function formRunCount(f: FormState): number {
  return formVariants(f).length * sweepPoints(f).length * formSeeds(f).length;
}

/** The resolutions images of this shape can train at, or why they cannot (checked when the files are opened). */
export function imageShapeCheck(count: number, rows: number, cols: number, task = 'MNIST generation'): { resolutions: (28 | 14 | 7)[] } | { error: string } {
  if (rows !== cols) return { error: `${task} needs square images; these are ${rows}x${cols}` };
  const resolutions = ([28, 14, 7] as const).filter((r) => r <= rows && rows % r === 0);
  if (resolutions.length === 0) return { error: `${rows}x${cols} images cannot be downsampled to 28, 14 or 7 pixels a side (the side must be a multiple of one)` };
  if (count < 2) return { error: `need at least 2 images (training and test); the file has ${count}` };
  return { resolutions: [...resolutions] };
}
