// Labelled inputs: every control's visible label is also its accessible name.
import { useId } from 'react';

export function NumberField(props: {
  label: string;
  value: number | null;
  placeholder?: number | string;
  min?: number;
  max?: number;
  step?: number | 'any';
  integer?: boolean;
  onChange(v: number | null): void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        value={props.value ?? ''}
        placeholder={props.placeholder !== undefined ? String(props.placeholder) : ''}
        min={props.min}
        max={props.max}
        step={props.step ?? (props.integer ? 1 : 'any')}
        disabled={props.disabled}
        onChange={(e) => {
          const raw = e.target.value;
          if (raw === '') return props.onChange(null);
          let v = Number(raw);
          if (!Number.isFinite(v)) return;
          if (props.integer) v = Math.round(v);
          if (props.min !== undefined && v < props.min) v = props.min;
          if (props.max !== undefined && v > props.max) v = props.max;
          props.onChange(v);
        }}
      />
    </div>
  );
}

/** A range slider with its value shown; min/max bound what can be entered at all. */
export function Slider(props: {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  onChange(v: number): void;
  disabled?: boolean;
  hint?: string;
}) {
  const id = useId();
  const digits = props.step < 0.001 ? 4 : props.step < 0.01 ? 3 : 2;
  return (
    <div className="field slider">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="range"
        min={props.min}
        max={props.max}
        step={props.step}
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange(Number(e.target.value))}
        title={props.hint}
      />
      <output htmlFor={id}>{props.value.toFixed(digits)}</output>
    </div>
  );
}

export function Select<T extends string>(props: { label: string; value: T; options: { value: T; label: string }[]; onChange(v: T): void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange(e.target.value as T)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Check(props: { label: string; checked: boolean; onChange(v: boolean): void; disabled?: boolean }) {
  return (
    <label className="check">
      <input type="checkbox" checked={props.checked} disabled={props.disabled} onChange={(e) => props.onChange(e.target.checked)} />
      {props.label}
    </label>
  );
}
