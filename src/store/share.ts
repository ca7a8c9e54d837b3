// A configuration shared as a link: `#config=` and the form as base64url JSON. Reading one never
// guesses: each field the link gets wrong is named, and its value is kept as given where the form
// can show it (validation then marks it) or left at the default with a note where it cannot.
import { VARIANTS, type Variant } from '../model/config.ts';
import type { TaskName } from '../worker/protocol.ts';
import { SWEEP_PARAMS, defaultForm, type FormState, type Hypers, type SweepParam } from './form.ts';
import { FIELD_LIMITS, type NumberKey } from './validate.ts';

const SHARE_KEY = 'config';

function toBase64Url(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): string {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** `#config=...`: the form as base64url JSON. */
export function encodeShare(f: FormState): string {
  return `#${SHARE_KEY}=${toBase64Url(JSON.stringify(f))}`;
}

export interface SharedForm {
  form: FormState;
  /** What the link got wrong, one line per field (empty: nothing). */
  problems: string[];
}

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

const KNOWN_KEYS = new Set<string>([...Object.keys(defaultForm()), 'seed']);

/** The form a share hash describes and what it got wrong; throws only when it carries none. */
export function decodeShare(hash: string): SharedForm {
  const m = new RegExp(`[#&]${SHARE_KEY}=([^&]*)`).exec(hash);
  if (!m) throw new Error('the link carries no configuration');
  let raw: unknown;
  try {
    raw = JSON.parse(fromBase64Url(decodeURIComponent(m[1]!)));
  } catch {
    return { form: defaultForm(), problems: ['the configuration in the link is damaged (not base64url JSON): the form keeps its defaults'] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    const what = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`;
    return { form: defaultForm(), problems: [`the configuration in the link is ${what}, not an object: the form keeps its defaults`] };
  }
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  let task: TaskName = 'copy';
  if (r.task !== undefined) {
    if (typeof r.task === 'string' && r.task !== '') task = r.task as TaskName; // an unknown one is marked by validation
    else problems.push(`task ${show(r.task)} is not a task name: the copy task is shown`);
  }
  const f = defaultForm(task);
  for (const k of Object.keys(r)) if (!KNOWN_KEYS.has(k)) problems.push(`unknown field '${k}' is ignored`);
  if (r.preset !== undefined) {
    if (typeof r.preset === 'string') f.preset = r.preset;
    else problems.push(`preset ${show(r.preset)} is not a name: '${f.preset}' is shown`);
  }
  if (r.variants !== undefined) {
    if (Array.isArray(r.variants)) {
      const unknown = r.variants.filter((v) => !(VARIANTS as readonly unknown[]).includes(v));
      for (const v of unknown) problems.push(`variant ${show(v)} is unknown (${VARIANTS.join(', ')}) and left out`);
      f.variants = VARIANTS.filter((v) => (r.variants as unknown[]).includes(v)) as Variant[];
    } else problems.push(`variants ${show(r.variants)} is not a list: the default variants are shown`);
  }
  for (const k of Object.keys(FIELD_LIMITS) as NumberKey[]) {
    const v = r[k];
    if (v === undefined || v === null) continue;
    if (typeof v === 'number') f[k] = v;
    else {
      f[k] = NaN;
      problems.push(`${FIELD_LIMITS[k].label} ${show(v)} is not a number`);
    }
  }
  if (r.seeds !== undefined) {
    if (typeof r.seeds === 'string') f.seeds = r.seeds;
    else problems.push(`seeds ${show(r.seeds)} is not text like '1, 2, 3': seed 1 is used`);
  } else if (r.seed !== undefined) {
    // An older link's single seed: the Seeds field reads a lone number as a count (3: seeds 1..3).
    if (r.seed === 1) f.seeds = '1';
    else if (typeof r.seed === 'number') problems.push(`seed ${show(r.seed)} (an older link's single seed) cannot be given alone: Seeds takes a list like 1, 2, 3 or a count (${show(r.seed)} would be seeds 1..${show(r.seed)}); seed 1 is used`);
    else problems.push(`seed ${show(r.seed)} is not a number: seed 1 is used`);
  }
  if (r.resolution !== undefined && r.resolution !== null) {
    if (r.resolution === 28 || r.resolution === 14 || r.resolution === 7) f.resolution = r.resolution;
    else problems.push(`resolution ${show(r.resolution)} is not 28, 14 or 7: the preset's is used`);
  }
  if (r.source !== undefined) {
    if (typeof r.source === 'string') f.source = r.source;
    else problems.push(`images ${show(r.source)} is not a name: the embedded digits are used`);
  }
  if (r.adaptive !== undefined) {
    if (typeof r.adaptive === 'boolean') f.adaptive = r.adaptive;
    else problems.push(`adaptive ${show(r.adaptive)} is not true or false: off`);
  }
  if (r.authorsWeights !== undefined) {
    if (typeof r.authorsWeights === 'boolean') f.authorsWeights = r.authorsWeights;
    else problems.push(`authorsWeights ${show(r.authorsWeights)} is not true or false: off (the recurrence's weights)`);
  }
  if (r.sweep !== undefined) {
    const w = r.sweep as Record<string, unknown> | null;
    if (w && typeof w === 'object' && !Array.isArray(w)) {
      const name = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'string' ? (v as SweepParam) : null);
      f.sweep = {
        param: name(w.param),
        values: typeof w.values === 'string' ? w.values : '',
        param2: name(w.param2),
        values2: typeof w.values2 === 'string' ? w.values2 : '',
      };
      for (const k of ['param', 'param2'] as const) {
        if (w[k] !== undefined && w[k] !== null && typeof w[k] !== 'string') problems.push(`sweep ${k} ${show(w[k])} is not a parameter name: no sweep`);
        else if (typeof w[k] === 'string' && !(SWEEP_PARAMS as readonly string[]).includes(w[k] as string)) problems.push(`sweep ${k}: unknown parameter ${show(w[k])} (${SWEEP_PARAMS.join(', ')})`);
      }
    } else problems.push(`sweep ${show(r.sweep)} is not an object: no sweep`);
  }
  if (r.hypers !== undefined) {
    if (r.hypers !== null && typeof r.hypers === 'object' && !Array.isArray(r.hypers)) {
      const h = r.hypers as Record<string, unknown>;
      for (const k of Object.keys(f.hypers) as (keyof Hypers)[]) {
        const v = h[k];
        if (v === undefined) continue;
        if (typeof v === 'number') f.hypers[k] = v;
        else {
          f.hypers[k] = NaN;
          problems.push(`${k} ${show(v)} is not a number`);
        }
      }
    } else problems.push(`hypers ${show(r.hypers)} is not an object: the paper's values are shown`);
  }
  return { form: f, problems };
}
