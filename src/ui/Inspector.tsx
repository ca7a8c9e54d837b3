// Look inside a model: for a run (and optionally a second one beside it) and a held-out example,
// every layer's and head's effective attention, refreshed every few steps while the run trains,
// and beta~ per token for adaptive runs. It asks the worker (an 'inspect' request); it never
// touches the engine.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApp } from '../store/store.ts';
import type { Inspection } from '../worker/inspection.ts';
import { AttentionGrid, BetaTildeMap, EnlargedMap } from './AttentionGrid.tsx';
import { useSession } from './context.ts';
import { REFRESH_STEPS } from './inspectView.ts';
import './inspector.css';

function attentionText(x: Inspection): string {
  const a = x.attention;
  if (a.kind !== 'momentum') return `${a.kind} attention`;
  return `momentum attention (β ${a.beta}, γ ${a.gamma}${a.weights === 'authors-code' ? ", authors'-code weights" : ''})`;
}

function Pane({ runId, example, auto, onResult }: { runId: string; example: number; auto: boolean; onResult(id: string, x: Inspection | null): void }) {
  const session = useSession();
  const run = useApp((s) => s.runs[runId]);
  const [x, setX] = useState<Inspection | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cell, setCell] = useState<[number, number]>([0, 0]);
  const busy = useRef(false);
  const latest = useRef(0);

  const request = useCallback(async () => {
    const ticket = ++latest.current;
    busy.current = true;
    try {
      const reply = await session.client.request<'inspection'>((requestId) => ({ type: 'inspect', runId, requestId, example }));
      if (ticket !== latest.current) return;
      setX(reply.inspection);
      setError(null);
      onResult(runId, reply.inspection);
    } catch (e) {
      if (ticket !== latest.current) return;
      setX(null);
      setError((e as Error).message);
      onResult(runId, null);
    } finally {
      if (ticket === latest.current) busy.current = false;
    }
  }, [session, runId, example, onResult]);

  const live = run?.live ?? false;
  useEffect(() => {
    if (live) void request();
  }, [live, request]);

  // While the run trains, fetch again once it is a few steps past the matrices shown.
  const step = run?.step ?? 0;
  const running = run?.state === 'running';
  useEffect(() => {
    if (auto && running && live && !busy.current && x && step >= x.step + REFRESH_STEPS) void request();
  }, [auto, running, live, step, x, request]);

  if (!run) return null;
  const [l, h] = cell[0] < (x?.layers ?? 0) && cell[1] < (x?.heads ?? 0) ? cell : [0, 0];
  return (
    <section className="inspector-pane" aria-label={`Attention of ${run.name}`}>
      <h3>{run.name}</h3>
      {!live ? (
        <p className="error" role="alert">
          Run {run.name} has no parameters in the worker yet (it is listed from storage): resume it from its checkpoint to inspect it.
        </p>
      ) : error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : !x ? (
        <p className="note">Computing the attention matrices…</p>
      ) : (
        <>
          <p className="note">
            {attentionText(x)}, {x.layers} layers x {x.heads} heads, {x.seq} {x.imageSide > 0 ? 'pixels' : 'tokens'}; step {x.step}, held-out
            example {x.example} of {x.examples}.
          </p>
          <AttentionGrid x={x} selected={[l, h]} onSelect={setCell} />
          <EnlargedMap x={x} layer={l} head={h} />
          <BetaTildeMap x={x} />
        </>
      )}
    </section>
  );
}

function sameInput(a: Inspection, b: Inspection): boolean {
  return a.seq === b.seq && a.tokens.every((t, i) => t === b.tokens[i]);
}

export function Inspector() {
  const order = useApp((s) => s.order);
  // Names only (a string, so the step counters' updates do not re-render the inspector).
  const namesText = useApp((s) => s.order.map((id) => `${id}\t${s.runs[id]?.name ?? id}`).join('\n'));
  const names = new Map(namesText ? namesText.split('\n').map((l) => l.split('\t') as [string, string]) : []);
  const selected = useApp((s) => s.selectedRunId);
  const [first, setFirst] = useState<string | null>(null);
  const [second, setSecond] = useState<string>('');
  const [example, setExample] = useState(0);
  const [draft, setDraft] = useState('0');
  const [auto, setAuto] = useState(true);
  const [open, setOpen] = useState(false);
  const [results, setResults] = useState<Record<string, Inspection | null>>({});
  const onResult = useCallback((id: string, x: Inspection | null) => setResults((r) => ({ ...r, [id]: x })), []);

  const a = first && names.has(first) ? first : selected && names.has(selected) ? selected : (order[0] ?? null);
  const b = second && names.has(second) && second !== a ? second : null;
  const xa = a ? results[a] : null;
  const xb = b ? results[b] : null;
  const count = xa?.examples;

  const apply = () => {
    const v = Number(draft);
    setExample(v);
  };

  return (
    <section className="panel inspector" aria-labelledby="inspector-title">
      <h2 id="inspector-title">Look inside</h2>
      {order.length === 0 ? (
        <p className="note">Create a run to see what its attention looks at.</p>
      ) : !open ? (
        <button type="button" onClick={() => setOpen(true)}>
          Open the attention inspector
        </button>
      ) : (
        <>
          <div className="inspector-controls">
            <label>
              Run{' '}
              <select aria-label="Run to inspect" value={a ?? ''} onChange={(e) => setFirst(e.target.value)}>
                {order.map((id) => (
                  <option key={id} value={id}>
                    {names.get(id)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Beside it{' '}
              <select aria-label="Beside it" value={b ?? ''} onChange={(e) => setSecond(e.target.value)}>
                <option value="">none</option>
                {order
                  .filter((id) => id !== a)
                  .map((id) => (
                    <option key={id} value={id}>
                      {names.get(id)}
                    </option>
                  ))}
              </select>
            </label>
            <label>
              Held-out example{' '}
              <input
                aria-label="Held-out example"
                type="number"
                min={0}
                max={count !== undefined ? count - 1 : undefined}
                step={1}
                value={draft}
                onChange={(e) => setDraft(e.target.value)}
                onKeyDown={(e) => e.key === 'Enter' && apply()}
              />
            </label>
            <button type="button" onClick={apply}>
              Show
            </button>
            <label>
              <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} /> Refresh every {REFRESH_STEPS} steps while training
            </label>
          </div>
          {xa && xb && !sameInput(xa, xb) && (
            <p className="note" role="note">
              The two runs see different inputs for this example (their tasks differ).
            </p>
          )}
          <div className="inspector-panes">
            {a && <Pane key={`${a}:${example}`} runId={a} example={example} auto={auto} onResult={onResult} />}
            {b && <Pane key={`${b}:${example}`} runId={b} example={example} auto={auto} onResult={onResult} />}
          </div>
        </>
      )}
    </section>
  );
}
