// The new-run form: task and data, preset, variants, model size, optimisation, and the initial
// attention/connection hyper-parameters. One click starts one run per chosen variant.
import { useState } from 'react';
import { VARIANTS, type Variant } from '../model/config.ts';
import { loadIdxDataset, loadIdxImages } from '../tasks/idx.ts';
import { HYPER_LIMITS, encodeShare, formVariants, type FormState } from '../store/form.ts';
import { useApp } from '../store/store.ts';
import { useSession } from './context.ts';
import { Check, NumberField, Select, Slider } from './fields.tsx';

export const VARIANT_LABELS: Record<Variant, string> = {
  softmax: 'Softmax',
  linear: 'Linear',
  momentum: 'Momentum',
  'momentum-connection': 'Momentum + momentum connection',
  adaptive: 'Adaptive momentum',
};

const FALLBACK_PRESETS = ['tiny', 'quick', 'paper'];

export function NewRunForm() {
  const session = useSession();
  const form = useApp((s) => s.form);
  const presets = useApp((s) => s.presets);
  const setForm = useApp((s) => s.setForm);
  const setTask = useApp((s) => s.setTask);
  const ready = useApp((s) => s.device.status === 'ready');
  const [shareNote, setShareNote] = useState('');
  const [idxNote, setIdxNote] = useState('');
  const base = presets?.configs[form.task]?.[form.preset];
  const m = base?.model;
  const copyTask = base?.task.kind === 'copy' ? base.task : null;
  const mnistTask = base?.task.kind === 'mnist' ? base.task : null;
  const h = form.hypers;
  const setH = (k: keyof FormState['hypers'], v: number) => setForm({ hypers: { ...h, [k]: v } });
  const toggleVariant = (v: Variant, on: boolean) =>
    setForm({ variants: on ? VARIANTS.filter((x) => x === v || form.variants.includes(x)) : form.variants.filter((x) => x !== v) });
  const names = presets?.names ?? FALLBACK_PRESETS;

  const openIdx = async (files: FileList | null) => {
    if (!files || files.length === 0) return;
    try {
      const list = [...files];
      const read = async (f: File) => new Uint8Array(await f.arrayBuffer());
      const imgFile = list.find((f) => !/label/i.test(f.name)) ?? list[0]!;
      const lblFile = list.find((f) => f !== imgFile && /label/i.test(f.name));
      const set = lblFile ? await loadIdxDataset(await read(imgFile), await read(lblFile)) : await loadIdxImages(await read(imgFile));
      await session.addDataset(imgFile.name, set);
      setIdxNote(`${imgFile.name}: ${set.count} images of ${set.rows}x${set.cols}`);
    } catch (e) {
      setIdxNote(`Could not read the IDX file: ${(e as Error).message}`);
    }
  };

  return (
    <section className="panel new-run" aria-labelledby="new-run-title" onDragOver={(e) => e.preventDefault()} onDrop={(e) => {
      if (e.dataTransfer.files.length === 0) return;
      e.preventDefault();
      setForm({ task: 'mnist' });
      void openIdx(e.dataTransfer.files);
    }}>
      <h2 id="new-run-title">New comparison</h2>
      <div className="row">
        <Select
          label="Task"
          value={form.task}
          options={[
            { value: 'copy', label: 'Copy task' },
            { value: 'mnist', label: 'MNIST generation' },
          ]}
          onChange={(t) => setTask(t)}
        />
        <Select
          label="Preset"
          value={form.preset}
          options={names.map((n) => ({ value: n, label: presets?.descriptions[n] ? `${n}: ${presets.descriptions[n]}` : n }))}
          onChange={(p) => setForm({ preset: p })}
        />
      </div>
      {form.task === 'mnist' && (
        <div className="row">
          <Select
            label="Images"
            value={form.source}
            options={[
              { value: 'embedded', label: 'Embedded MNIST (10,000 digits)' },
              ...(form.source !== 'embedded' ? [{ value: form.source, label: form.source }] : []),
            ]}
            onChange={(v) => setForm({ source: v })}
          />
          <div className="field">
            <label htmlFor="idx-files">Open IDX files (images, labels; or drop them here)</label>
            <input id="idx-files" type="file" multiple onChange={(e) => void openIdx(e.target.files)} />
          </div>
          {idxNote && <p className="note">{idxNote}</p>}
          <Select
            label="Resolution"
            value={String(form.resolution ?? mnistTask?.resolution ?? 7)}
            options={['28', '14', '7'].map((r) => ({ value: r, label: `${r} x ${r}` }))}
            onChange={(v) => setForm({ resolution: Number(v) as 28 | 14 | 7 })}
          />
          <NumberField label="Training subset (images)" value={form.subset} placeholder={mnistTask?.subset ?? 'all'} min={1} integer onChange={(v) => setForm({ subset: v })} />
        </div>
      )}
      {form.task === 'copy' && (
        <div className="row">
          <NumberField label="Sequence length" value={form.maxLen} placeholder={copyTask?.maxLen} min={4} max={4096} integer onChange={(v) => setForm({ maxLen: v })} />
        </div>
      )}
      <fieldset>
        <legend>Variants (one run each, same seed and data order)</legend>
        {VARIANTS.map((v) => (
          <Check key={v} label={VARIANT_LABELS[v]} checked={form.variants.includes(v)} onChange={(on) => toggleVariant(v, on)} />
        ))}
      </fieldset>
      <div className="row">
        <NumberField label="Layers" value={form.layers} placeholder={m?.layers} min={1} max={48} integer onChange={(v) => setForm({ layers: v })} />
        <NumberField label="Heads" value={form.heads} placeholder={m?.heads} min={1} max={64} integer onChange={(v) => setForm({ heads: v })} />
        <NumberField label="Head dim" value={form.headDim} placeholder={m?.headDim} min={2} max={256} integer onChange={(v) => setForm({ headDim: v })} />
        <NumberField label="Feed-forward width" value={form.ffn} placeholder={m?.ffn} min={1} max={16384} integer onChange={(v) => setForm({ ffn: v })} />
      </div>
      <div className="row">
        <NumberField label="Batch" value={form.batch} placeholder={base?.batch} min={1} max={4096} integer onChange={(v) => setForm({ batch: v })} />
        <NumberField label="Steps" value={form.steps} placeholder={base?.steps} min={1} integer onChange={(v) => setForm({ steps: v })} />
        <NumberField label="Learning rate" value={form.lr} placeholder={base?.optim.schedule.lr} min={0} step="any" onChange={(v) => setForm({ lr: v === 0 ? null : v })} />
        <NumberField label="Seed" value={form.seed} min={0} max={4294967295} integer onChange={(v) => setForm({ seed: v ?? 0 })} />
      </div>
      <fieldset>
        <legend>Momentum (the paper's values for this task to start)</legend>
        <Slider label="β (attention momentum)" {...HYPER_LIMITS.beta} value={h.beta} onChange={(v) => setH('beta', v)} />
        <Slider label="γ (attention step size)" {...HYPER_LIMITS.gamma} value={h.gamma} onChange={(v) => setH('gamma', v)} />
        <Slider label="β̃ (connection momentum)" {...HYPER_LIMITS.betaTilde} value={h.betaTilde} disabled={form.adaptive} onChange={(v) => setH('betaTilde', v)} />
        <Slider label="γ̃ (connection step size)" {...HYPER_LIMITS.gammaTilde} value={h.gammaTilde} onChange={(v) => setH('gammaTilde', v)} />
        <Check label="Adaptive β̃ for the momentum connection (eq. 18)" checked={form.adaptive} onChange={(v) => setForm({ adaptive: v })} />
        <Slider label="δ (adaptive β̃ ≤ 1 − δ)" {...HYPER_LIMITS.delta} value={h.delta} onChange={(v) => setH('delta', v)} />
      </fieldset>
      <div className="row actions">
        <button type="button" disabled={!ready || formVariants(form).length === 0} onClick={() => session.createFromForm()}>
          Train {formVariants(form).length} variant{formVariants(form).length === 1 ? '' : 's'}
        </button>
        <button
          type="button"
          onClick={() => {
            const url = `${location.origin}${location.pathname}${encodeShare(form)}`;
            history.replaceState(null, '', url);
            void navigator.clipboard?.writeText(url).then(
              () => setShareNote('Link copied'),
              () => setShareNote('Link in the address bar'),
            );
            setShareNote('Link in the address bar');
          }}
        >
          Share configuration as a link
        </button>
        {shareNote && <span className="note">{shareNote}</span>}
      </div>
    </section>
  );
}
