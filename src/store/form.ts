// The new-comparison form as plain data: what the page shows, what a share URL carries, and the run
// specs (preset + overrides per variant and seed) it turns into. Values stay as typed: validation
// (validate.ts) marks what is out of range; nothing here clamps or replaces a value.
import { ADAPTIVE_DELTA, PAPER_HYPERS, VARIANTS, type Variant } from '../model/config.ts';
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
  /** Seeds as typed: a list (1, 2, 3), a range (1-5) or a count (n=3: seeds 1..3). */
  seeds: string;
  /** Copy task: sequence length L. */
  maxLen: number | null;
  /** MNIST: image side after downsampling, and how many training images. */
  resolution: 28 | 14 | 7 | null;
  subset: number | null;
  /** 'embedded' or the name of IDX images the user opened. */
  source: string;
  hypers: Hypers;
  /** Run the momentum-connection variant with adaptive beta~ (eq. 18) instead of a fixed one. */
  adaptive: boolean;
}

/** The sliders' ranges, also the allowed ranges: every value on the convergent side (beta < 1, gamma > 0). */
export const HYPER_LIMITS = {
  beta: { min: 0, max: 0.99, step: 0.01 },
  gamma: { min: 0.05, max: 3, step: 0.05 },
  betaTilde: { min: 0, max: 0.99, step: 0.01 },
  gammaTilde: { min: 0.05, max: 2, step: 0.01 },
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
    hypers: paperHypers(task),
    adaptive: false,
  };
}

/** The variants a form launches, the adaptive toggle applied, without duplicates. */
export function formVariants(f: FormState): Variant[] {
  const out = f.variants.map((v) => (f.adaptive && v === 'momentum-connection' ? 'adaptive' : v));
  return VARIANTS.filter((v) => out.includes(v));
}

export const MAX_SEED = 0xffffffff;

/** The seeds a text names, or the reason it names none (an empty list, a duplicate, a bad number). */
export function parseSeeds(text: string): { seeds: number[] } | { error: string } {
  const t = text.trim();
  if (t === '') return { error: 'give at least one seed (a list like 1, 2, 3, a range 1-5 or a count n=3)' };
  const count = /^n\s*=\s*(\S+)$/i.exec(t);
  if (count) {
    const n = Number(count[1]);
    if (!Number.isInteger(n) || n < 1) return { error: `a seed count must be a whole number >= 1; got ${count[1]}` };
    return { seeds: Array.from({ length: Math.min(n, 100_000) }, (_, i) => i + 1) };
  }
  const seeds: number[] = [];
  for (const part of t.split(/[\s,]+/).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) return { error: `the range ${part} runs backwards` };
      if (b - a >= 100_000) return { error: `the range ${part} is too long` };
      for (let s = a; s <= b; s++) seeds.push(s);
      continue;
    }
    const v = Number(part);
    if (!/^\d+$/.test(part) || !Number.isInteger(v)) return { error: `'${part}' is not a whole number >= 0` };
    seeds.push(v);
  }
  const over = seeds.find((s) => s > MAX_SEED);
  if (over !== undefined) return { error: `seed ${over} is over 2^32 - 1` };
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) return { error: `seed ${dup} is listed twice` };
  return { seeds };
}

/** The seeds of a form ([] when its text is invalid). */
export function formSeeds(f: FormState): number[] {
  const p = parseSeeds(f.seeds);
  return 'seeds' in p ? p.seeds : [];
}

/** One spec per variant x seed, variants outermost; a given seed means the same data order and initial weights. */
export function formToSpecs(f: FormState): RunSpec[] {
  const model: Record<string, number> = {};
  if (f.layers !== null) model.layers = f.layers;
  if (f.heads !== null) model.heads = f.heads;
  if (f.headDim !== null) model.headDim = f.headDim;
  if (f.ffn !== null) model.ffn = f.ffn;
  const task =
    f.task === 'copy'
      ? f.maxLen !== null
        ? { maxLen: f.maxLen }
        : {}
      : f.task === 'mnist'
        ? {
            ...(f.resolution !== null ? { resolution: f.resolution } : {}),
            ...(f.subset !== null ? { subset: f.subset } : {}),
            source: f.source,
          }
        : {};
  const specs: RunSpec[] = [];
  for (const variant of formVariants(f)) {
    for (const seed of formSeeds(f)) {
      specs.push({
        task: f.task,
        variant,
        preset: f.preset,
        overrides: {
          name: `${variant} · ${f.task} ${f.preset} · seed ${seed}`,
          seed,
          ...(f.batch !== null ? { batch: f.batch } : {}),
          ...(f.steps !== null ? { steps: f.steps } : {}),
          ...(f.lr !== null ? { lr: f.lr } : {}),
          ...(Object.keys(model).length ? { model } : {}),
          ...(Object.keys(task).length ? { task } : {}),
          hypers: { ...f.hypers },
        },
      });
    }
  }
  return specs;
}
