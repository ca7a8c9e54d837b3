// The new-comparison form: task and data, preset, variants and seeds (every variant x seed is a
// run), model size, optimisation, and the initial attention/connection hyper-parameters. Every
// field is checked as typed; Train says why it is disabled. A showcase button starts the MQAR
// comparison that shows the gap between the attention kinds.
import { useState } from 'react';
import { VARIANTS, type Variant } from '../model/config.ts';
import { HYPER_LIMITS, SWEEP_PARAMS, defaultForm, parseValues, formSeeds, formVariants, type FormState, type Hypers, type SweepParam } from '../store/form.ts';
import { openIdxFiles } from '../store/idxOpen.ts';
import { encodeShare } from '../store/share.ts';
import { useApp } from '../store/store.ts';
import { FIELD_LIMITS, formRunCount, rangeText, trainBlocker, validateForm, type NumberKey } from '../store/validate.ts';
import type { TaskName } from '../worker/protocol.ts';
import { SHOWCASE } from '../util/seedGroups.ts';
import { useSession } from './context.ts';
import { Check, HyperField, NumberField, Select, TextField } from './fields.tsx';

export const VARIANT_LABELS: Record<Variant, string> = {
  softmax: 'Softmax',
  linear: 'Linear',
  momentum: 'Momentum',
  'momentum-connection': 'Momentum + momentum connection',
  adaptive: 'Adaptive momentum',
};

const TASK_LABELS: Record<string, string> = {
  copy: 'Copy task',
  mnist: 'MNIST generation',
  mqar: 'Associative recall (MQAR)',
  listops: 'ListOps classification (long-range)',
  images: 'Image classification (pixel sequences)',
};
const FALLBACK_PRESETS = ['tiny', 'quick', 'paper'];


const SWEEP_LABELS: Record<SweepParam, string> = { beta: 'β', gamma: 'γ', betaTilde: 'β̃', gammaTilde: 'γ̃', delta: 'δ', lr: 'learning rate' };

function sweepOptions(current: string | null) {
  const known: { value: string; label: string }[] = [{ value: '', label: 'no sweep' }, ...SWEEP_PARAMS.map((p) => ({ value: p, label: `${SWEEP_LABELS[p]} (${p})` }))];
  if (current && !(SWEEP_PARAMS as readonly string[]).includes(current)) known.push({ value: current, label: `${current} (unknown)` });
  return known;
}

/** What a sweep's values text reads as (a range's values spelled out), or how to write it. */
function valuesNote(text: string, param: SweepParam): string {
  const v = parseValues(text, param);
  if ('error' in v) return 'a list (0, 0.2, 0.4) or start:stop:step (0:0.8:0.2)';
  return `${v.values.length} value${v.values.length === 1 ? '' : 's'}: ${v.values.slice(0, 8).join(', ')}${v.values.length > 8 ? ', …' : ''}`;
}

export function NewRunForm() {
  const session = useSession();
  const form = useApp((s) => s.form);
  const presets = useApp((s) => s.presets);
  const setForm = useApp((s) => s.setForm);
  const setTask = useApp((s) => s.setTask);
  const ready = useApp((s) => s.device.status === 'ready');
  const starting = useApp((s) => s.starting);
  const [shareNote, setShareNote] = useState('');
  const [idxNote, setIdxNote] = useState('');
  const base = presets?.configs[form.task]?.[form.preset];
  const m = base?.model;
  const copyTask = base?.task.kind === 'copy' ? base.task : null;
  const mnistTask = base?.task.kind === 'mnist' || base?.task.kind === 'images' ? base.task : null;
  const listopsTask = base?.task.kind === 'listops' ? base.task : null;
  const classTask = base?.task.kind === 'images' ? base.task : null;
  const datasets = useApp((s) => s.datasets);
  const errors = validateForm(form, presets, datasets);
  const blocker = trainBlocker(form, presets, datasets);
  const images = form.task === 'mnist' || form.task === 'images';
  const h = form.hypers;
  const setH = (k: keyof Hypers, v: number) => setForm({ hypers: { ...h, [k]: v } });
  const toggleVariant = (v: Variant, on: boolean) =>
    setForm({ variants: on ? VARIANTS.filter((x) => x === v || form.variants.includes(x)) : form.variants.filter((x) => x !== v) });
  const tasks = presets ? Object.keys(presets.configs) : ['copy', 'mnist'];
  const taskOptions = [...new Set([...tasks, form.task])].map((t) => ({ value: t, label: tasks.includes(t) ? (TASK_LABELS[t] ?? t) : `${t} (not in this build)` }));
  const presetNames = presets ? Object.keys(presets.configs[form.task] ?? {}) : FALLBACK_PRESETS;
  const presetOptions = [...new Set([...presetNames, form.preset])].map((n) => ({
    value: n,
    label: !presetNames.includes(n) ? `${n} (unknown)` : presets?.descriptions[n] ? `${n}: ${presets.descriptions[n]}` : n,
  }));
  const showcase = presets?.configs[SHOWCASE.task]?.[SHOWCASE.preset];
  const runs = formRunCount(form);
  const seeds = formSeeds(form);

  const num = (k: NumberKey, placeholder: number | string | undefined) => (
    <NumberField
      label={FIELD_LIMITS[k].label}
      value={form[k]}
      placeholder={placeholder}
      integer={FIELD_LIMITS[k].integer}
      range={rangeText(FIELD_LIMITS[k])}
      error={errors[k]}
      onChange={(v) => setForm({ [k]: v } as Partial<FormState>)}
    />
  );

  const openIdx = async (files: File[]) => {
    if (files.length === 0) return;
    const task = form.task === 'images' ? 'images' : 'mnist';
    const classes = form.classes ?? classTask?.classes ?? 10;
    try {
      const opened = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
      const r = await openIdxFiles(opened, task, Number.isInteger(classes) && classes >= 2 ? classes : 10);
      if (!r.ok) {
        setIdxNote(`Refused: ${r.error}`);
        return;
      }
      await session.addDataset(r.name, r.set, r.info);
      const res = form.resolution ?? mnistTask?.resolution ?? 7;
      const fit = r.resolutions.includes(res) ? '' : `; resolution set to ${r.resolutions[0]} (${res} does not divide ${r.set.rows})`;
      if (!r.resolutions.includes(res)) setForm({ resolution: r.resolutions[0]! });
      setIdxNote(`${r.note}${fit}`);
    } catch (e) {
      setIdxNote(`Could not read the IDX files: ${(e as Error).message}`);
    }
  };

  const startShowcase = () => {
    const f: FormState = { ...defaultForm(SHOWCASE.task as TaskName), preset: SHOWCASE.preset, variants: [...VARIANTS], adaptive: false, seeds: SHOWCASE.seeds.join(', ') };
    setForm(f);
    void session.createFromForm(f);
  };

  return (
    <section
      className="panel new-run"
      aria-labelledby="new-run-title"
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        if (e.dataTransfer.files.length === 0) return;
        e.preventDefault();
        if (form.task !== 'images' && form.task !== 'mnist') setTask('mnist');
        void openIdx([...e.dataTransfer.files]);
      }}
    >
      <h2 id="new-run-title">New comparison</h2>
      <div className="row">
        <Select label="Task" value={form.task as string} options={taskOptions} error={errors.task} onChange={(t) => setTask(t as TaskName)} />
        <Select label="Preset" value={form.preset} options={presetOptions} error={errors.preset} onChange={(p) => setForm({ preset: p })} />
      </div>
      {images && (
        <div className="row">
          <Select
            label="Images"
            value={form.source}
            error={errors.source}
            options={[
              { value: 'embedded', label: `Embedded MNIST (10,000 digits${form.task === 'images' ? ' with their labels' : ''})` },
              ...(form.source !== 'embedded' ? [{ value: form.source, label: form.source }] : []),
            ]}
            onChange={(v) => setForm({ source: v })}
          />
          <div className="field">
            <label htmlFor="idx-files">{form.task === 'images' ? 'Open IDX images and labels files (or drop them here)' : 'Open IDX files (images, labels; or drop them here)'}</label>
            <input
              id="idx-files"
              type="file"
              multiple
              onChange={(e) => {
                const files = [...(e.target.files ?? [])];
                e.target.value = ''; // the same files opened again (corrected) are read again
                void openIdx(files);
              }}
            />
          </div>
          {idxNote && (
            <p className="note" role="status" data-testid="idx-note">
              {idxNote}
            </p>
          )}
          <Select
            label="Resolution"
            value={String(form.resolution ?? mnistTask?.resolution ?? 7)}
            options={['28', '14', '7'].map((r) => ({ value: r, label: `${r} x ${r}${form.task === 'images' ? ` (${Number(r) ** 2} tokens)` : ''}` }))}
            onChange={(v) => setForm({ resolution: Number(v) as 28 | 14 | 7 })}
          />
          {num('subset', mnistTask?.subset ?? 'all')}
          {form.task === 'images' && num('classes', classTask?.classes)}
        </div>
      )}
      {form.task === 'listops' && (
        <div className="row">
          {num('minLength', listopsTask?.minLength)}
          {num('maxLength', listopsTask?.maxLength)}
          {num('maxDepth', listopsTask?.maxDepth)}
          {num('minArgs', listopsTask?.minArgs)}
          {num('maxArgs', listopsTask?.maxArgs)}
        </div>
      )}
      {form.task === 'copy' && <div className="row">{num('maxLen', copyTask?.maxLen)}</div>}
      <fieldset>
        <legend>Variants (one run per variant and seed; a seed gives every variant the same data order and initial weights)</legend>
        {VARIANTS.map((v) => (
          <Check key={v} label={VARIANT_LABELS[v]} checked={form.variants.includes(v)} onChange={(on) => toggleVariant(v, on)} />
        ))}
        {errors.variants && <span className="field-error">{errors.variants}</span>}
      </fieldset>
      <div className="row">
        <TextField
          label="Seeds"
          value={form.seeds}
          placeholder="1, 2, 3 or a count: 3"
          error={errors.seeds}
          onChange={(v) => setForm({ seeds: v })}
        />
        <span className="note">{seeds.length > 0 ? `${seeds.length} seed${seeds.length === 1 ? '' : 's'}: ${seeds.slice(0, 8).join(', ')}${seeds.length > 8 ? ', …' : ''}` : 'a list (1, 2, 3), a range (4:6; 7:7 is seed 7 alone) or a count (3: seeds 1..3)'}</span>
      </div>
      <fieldset>
        <legend>Sweep (optional): one variant over one or two parameters, crossed with the seeds</legend>
        <div className="row">
          <Select label="Sweep parameter" value={form.sweep.param ?? ''} options={sweepOptions(form.sweep.param)} error={errors.sweep} onChange={(v) => setForm({ sweep: { ...form.sweep, param: (v || null) as SweepParam | null } })} />
          {form.sweep.param && (
            <TextField label="Sweep values" value={form.sweep.values} placeholder="0, 0.2, 0.4 or start:stop:step 0:0.8:0.2" onChange={(v) => setForm({ sweep: { ...form.sweep, values: v } })} />
          )}
          {form.sweep.param && <span className="note">{valuesNote(form.sweep.values, form.sweep.param)}</span>}
        </div>
        {form.sweep.param && (
          <div className="row">
            <Select label="Second parameter" value={form.sweep.param2 ?? ''} options={sweepOptions(form.sweep.param2)} error={errors.sweep2} onChange={(v) => setForm({ sweep: { ...form.sweep, param2: (v || null) as SweepParam | null } })} />
            {form.sweep.param2 && (
              <TextField label="Second values" value={form.sweep.values2} placeholder="0.3, 0.6, 0.9 or 0.3:0.9:0.3" onChange={(v) => setForm({ sweep: { ...form.sweep, values2: v } })} />
            )}
            {form.sweep.param2 && <span className="note">{valuesNote(form.sweep.values2, form.sweep.param2)}</span>}
          </div>
        )}
      </fieldset>
      <div className="row">
        {num('layers', m?.layers)}
        {num('heads', m?.heads)}
        {num('headDim', m?.headDim)}
        {num('ffn', m?.ffn)}
      </div>
      <div className="row">
        {num('batch', base?.batch)}
        {num('steps', base?.steps)}
        {num('lr', base?.optim.schedule.lr)}
      </div>
      <fieldset>
        <legend>Momentum (the paper's values for this task to start)</legend>
        <HyperField label="β (attention momentum)" {...HYPER_LIMITS.beta} value={h.beta} error={errors.beta} onChange={(v) => setH('beta', v)} />
        <HyperField label="γ (attention step size)" {...HYPER_LIMITS.gamma} value={h.gamma} error={errors.gamma} onChange={(v) => setH('gamma', v)} />
        <HyperField
          label="β̃ (connection momentum)"
          {...HYPER_LIMITS.betaTilde}
          value={h.betaTilde}
          error={errors.betaTilde}
          disabled={form.adaptive}
          onChange={(v) => setH('betaTilde', v)}
        />
        <HyperField label="γ̃ (connection step size)" {...HYPER_LIMITS.gammaTilde} value={h.gammaTilde} error={errors.gammaTilde} onChange={(v) => setH('gammaTilde', v)} />
        <Check label="Adaptive β̃ for the momentum connection (eq. 18)" checked={form.adaptive} onChange={(v) => setForm({ adaptive: v })} />
        <HyperField label="δ (adaptive β̃ ≤ 1 − δ)" {...HYPER_LIMITS.delta} value={h.delta} error={errors.delta} onChange={(v) => setH('delta', v)} />
        <Check
          label="Authors'-code momentum weights (their training path; sampling still follows eq. 12)"
          checked={form.authorsWeights}
          onChange={(v) => setForm({ authorsWeights: v })}
        />
      </fieldset>
      <div className="row actions">
        <button
          type="button"
          className="train"
          disabled={!ready || starting || blocker !== null}
          aria-describedby="train-blocker"
          onClick={() => void session.createFromForm()}
        >
          {starting
            ? 'Starting…'
            : form.sweep.param
              ? `Sweep: ${runs} runs`
              : `Train ${formVariants(form).length} variant${formVariants(form).length === 1 ? '' : 's'}${seeds.length > 1 ? ` x ${seeds.length} seeds (${runs} runs)` : ''}`}
        </button>
        <button
          type="button"
          onClick={() => {
            const url = `${location.origin}${location.pathname}${encodeShare(form)}`;
            history.replaceState(null, '', url);
            setShareNote('Link in the address bar');
            void navigator.clipboard?.writeText(url).then(
              () => setShareNote('Link copied'),
              () => setShareNote('Link in the address bar'),
            );
          }}
        >
          Share configuration as a link
        </button>
        {shareNote && <span className="note">{shareNote}</span>}
      </div>
      <p className="note train-blocker" id="train-blocker" data-testid="train-blocker" role="status">
        {!ready ? 'Waiting for the WebGPU device.' : starting ? 'A comparison is starting.' : blocker ? `Train is disabled: ${blocker}` : ''}
      </p>
      <div className="row">
        <button type="button" disabled={!ready || starting || !showcase} aria-describedby="showcase-note" onClick={startShowcase}>
          Showcase: MQAR, five variants x three seeds
        </button>
        <span className="note" id="showcase-note">
          {showcase
            ? `multi-query associative recall, softmax against linear attention (${showcase.steps} steps a run; README says what it has shown)`
            : 'needs the MQAR task, which this build does not have'}
        </span>
      </div>
    </section>
  );
}
