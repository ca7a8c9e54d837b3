// The new-run form as plain data: what the page shows, what a share URL carries, and the run specs
// (preset + overrides per variant) it turns into. The worker builds and checks the full configs.
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
  /** null: the preset's value. */
  layers: number | null;
  heads: number | null;
  headDim: number | null;
  ffn: number | null;
  batch: number | null;
  steps: number | null;
  lr: number | null;
  seed: number;
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

/** Limits that keep every value on the convergent side (beta < 1, gamma > 0). */
export const HYPER_LIMITS = {
  beta: { min: 0, max: 0.99, step: 0.01 },
  gamma: { min: 0.05, max: 3, step: 0.05 },
  betaTilde: { min: 0, max: 0.99, step: 0.01 },
  gammaTilde: { min: 0.05, max: 2, step: 0.01 },
  delta: { min: 0.0001, max: 0.1, step: 0.0001 },
} as const satisfies Record<keyof Hypers, { min: number; max: number; step: number }>;

export function paperHypers(task: TaskName): Hypers {
  return { ...PAPER_HYPERS[task], delta: ADAPTIVE_DELTA };
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
    seed: 1,
    maxLen: null,
    resolution: null,
    subset: null,
    source: 'embedded',
    hypers: paperHypers(task),
    adaptive: false,
  };
}

/** Clamps a hyper-parameter into its convergent range (NaN -> the lower bound). */
export function clampHyper(name: keyof Hypers, v: number): number {
  const { min, max } = HYPER_LIMITS[name];
  if (!Number.isFinite(v)) return min;
  return Math.min(max, Math.max(min, v));
}

/** The variants a form launches, the adaptive toggle applied, without duplicates. */
export function formVariants(f: FormState): Variant[] {
  const out = f.variants.map((v) => (f.adaptive && v === 'momentum-connection' ? 'adaptive' : v));
  return VARIANTS.filter((v) => out.includes(v));
}

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
      : {
          ...(f.resolution !== null ? { resolution: f.resolution } : {}),
          ...(f.subset !== null ? { subset: f.subset } : {}),
          source: f.source,
        };
  return formVariants(f).map((variant) => ({
    task: f.task,
    variant,
    preset: f.preset,
    overrides: {
      name: `${variant} · ${f.task} ${f.preset} · seed ${f.seed}`,
      seed: f.seed,
      ...(f.batch !== null ? { batch: f.batch } : {}),
      ...(f.steps !== null ? { steps: f.steps } : {}),
      ...(f.lr !== null ? { lr: f.lr } : {}),
      ...(Object.keys(model).length ? { model } : {}),
      ...(Object.keys(task).length ? { task } : {}),
      hypers: { ...f.hypers },
    },
  }));
}

const SHARE_KEY = 'config';

function toBase64Url(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): string {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** `#config=...`: the form as base64url JSON. */
export function encodeShare(f: FormState): string {
  return `#${SHARE_KEY}=${toBase64Url(JSON.stringify(f))}`;
}

/** The form a share hash describes, every field checked; throws saying what is wrong. */
export function decodeShare(hash: string): FormState {
  const m = new RegExp(`[#&]${SHARE_KEY}=([A-Za-z0-9_-]+)`).exec(hash);
  if (!m) throw new Error('the link carries no configuration');
  let raw: Partial<FormState>;
  try {
    raw = JSON.parse(fromBase64Url(m[1]!)) as Partial<FormState>;
  } catch {
    throw new Error('the configuration in the link is damaged');
  }
  const task: TaskName = raw.task === 'mnist' ? 'mnist' : 'copy';
  const base = defaultForm(task);
  const num = (v: unknown, fallback: number | null): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
  const hypers = { ...base.hypers };
  for (const k of Object.keys(hypers) as (keyof Hypers)[]) {
    const v = raw.hypers?.[k];
    if (typeof v === 'number') hypers[k] = clampHyper(k, v);
  }
  const res = raw.resolution;
  return {
    ...base,
    preset: typeof raw.preset === 'string' ? raw.preset : base.preset,
    variants: Array.isArray(raw.variants) ? VARIANTS.filter((v) => raw.variants!.includes(v)) : base.variants,
    layers: num(raw.layers, null),
    heads: num(raw.heads, null),
    headDim: num(raw.headDim, null),
    ffn: num(raw.ffn, null),
    batch: num(raw.batch, null),
    steps: num(raw.steps, null),
    lr: num(raw.lr, null),
    seed: typeof raw.seed === 'number' && Number.isInteger(raw.seed) && raw.seed >= 0 ? raw.seed : base.seed,
    maxLen: num(raw.maxLen, null),
    resolution: res === 28 || res === 14 || res === 7 ? res : null,
    subset: num(raw.subset, null),
    source: typeof raw.source === 'string' ? raw.source : 'embedded',
    hypers,
    adaptive: raw.adaptive === true,
  };
}
