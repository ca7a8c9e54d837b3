// Labelled inputs: every control's visible label is also its accessible name. A number field keeps
// what was typed; when it is not allowed the field is marked invalid with the allowed range beside it.
import { useEffect, useId, useState } from 'react';

export function FieldError({ id, text }: { id: string; text: string | null | undefined }) {
  if (!text) return null;
  return (
    <span className="field-error" id={id} role="note">
      {text}
    </span>
  );
}

function sameNumber(a: number | null, text: string): boolean {
  if (text.trim() === '') return a === null;
  const v = Number(text);
  return a !== null && (Object.is(v, a) || (Number.isNaN(v) && Number.isNaN(a)));
}

export function NumberField(props: {
  label: string;
  value: number | null;
  placeholder?: number | string;
  /** Why the value is not allowed (shown beside the field, with the range). */
  error?: string | null;
  /** The allowed range, shown as a hint. */
  range?: string;
  step?: number | 'any';
  integer?: boolean;
  onChange(v: number | null): void;
  disabled?: boolean;
}) {
  const id = useId();
  const [text, setText] = useState(props.value === null || Number.isNaN(props.value) ? '' : String(props.value));
  // A value set from outside (a link, a preset change) replaces the text; our own typing does not.
  useEffect(() => {
    if (!sameNumber(props.value, text)) setText(props.value === null ? '' : Number.isNaN(props.value) ? text : String(props.value));
  }, [props.value]);
  return (
    <div className={`field${props.error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="text"
        inputMode={props.integer ? 'numeric' : 'decimal'}
        value={text}
        placeholder={props.placeholder !== undefined ? String(props.placeholder) : ''}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        title={props.range ? `allowed: ${props.range}` : undefined}
        disabled={props.disabled}
        onChange={(e) => {
          const raw = e.target.value;
          setText(raw);
          props.onChange(raw.trim() === '' ? null : Number(raw));
        }}
      />
      <FieldError id={`${id}-error`} text={props.error} />
    </div>
  );
}

export function TextField(props: { label: string; value: string; error?: string | null; placeholder?: string; onChange(v: string): void }) {
  const id = useId();
  return (
    <div className={`field${props.error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="text"
        value={props.value}
        placeholder={props.placeholder}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <FieldError id={`${id}-error`} text={props.error} />
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

/**
 * A hyper-parameter of the form: a slider over the allowed range and the exact value beside it.
 * A value from a link outside the range stays in the number box, marked, and the slider sits at
 * the nearest end without changing it.
 */
export function HyperField(props: {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  error?: string | null;
  disabled?: boolean;
  onChange(v: number): void;
}) {
  const id = useId();
  const shown = Number.isFinite(props.value) ? Math.min(props.max, Math.max(props.min, props.value)) : props.min;
  return (
    <div className={`field slider hyper${props.error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="range"
        min={props.min}
        max={props.max}
        step={props.step}
        value={shown}
        disabled={props.disabled}
        onChange={(e) => props.onChange(Number(e.target.value))}
      />
      <NumberBox label={`${props.label} value`} value={props.value} error={props.error} disabled={props.disabled} onChange={props.onChange} />
      <FieldError id={`${id}-error`} text={props.error} />
    </div>
  );
}

function NumberBox(props: { label: string; value: number; error?: string | null; disabled?: boolean; onChange(v: number): void }) {
  const [text, setText] = useState(String(props.value));
  useEffect(() => {
    if (!sameNumber(props.value, text)) setText(Number.isNaN(props.value) ? text : String(props.value));
  }, [props.value]);
  return (
    <input
      type="text"
      inputMode="decimal"
      className="hyper-value"
      aria-label={props.label}
      aria-invalid={props.error ? true : undefined}
      value={text}
      disabled={props.disabled}
      onChange={(e) => {
        setText(e.target.value);
        props.onChange(e.target.value.trim() === '' ? NaN : Number(e.target.value));
      }}
    />
  );
}

export function Select<T extends string>(props: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange(v: T): void;
  error?: string | null;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className={`field${props.error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        onChange={(e) => props.onChange(e.target.value as T)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldError id={`${id}-error`} text={props.error} />
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
