// Live hyper-parameters of the selected run: they apply at its next step and are marked on the
// curves. The sliders' ranges stop at beta < 1 and gamma > 0, so a diverging value cannot be set.
import type { LiveHypers } from '../worker/protocol.ts';
import { HYPER_LIMITS } from '../store/form.ts';
import { useApp, type RunView } from '../store/store.ts';
import { useSession } from './context.ts';
import { Select, Slider } from './fields.tsx';
import { MomentumWeights } from './MomentumWeights.tsx';

/** The run's hyper-parameters as they will be at its next step. */
export function currentHypers(run: RunView): LiveHypers {
  const m = run.config.model;
  const h: LiveHypers = {};
  if (m.attention.kind === 'momentum') Object.assign(h, { beta: m.attention.beta, gamma: m.attention.gamma });
  if (m.connection.kind === 'momentum') Object.assign(h, { betaTilde: m.connection.betaTilde, gammaTilde: m.connection.gammaTilde });
  if (m.connection.kind === 'adaptive') Object.assign(h, { gammaTilde: m.connection.gammaTilde, delta: m.connection.delta });
  return { ...h, ...(run.pendingHypers ?? {}) };
}

export function HyperPanel() {
  const session = useSession();
  // The runs' names and the selected run only: other runs' step counters do not re-render the panel.
  const names = useApp((s) => s.order.map((id) => `${id}\t${s.runs[id]!.name}`).join('\n'));
  const order = names ? names.split('\n').map((l) => l.split('\t') as [string, string]) : [];
  const selectedId = useApp((s) => s.selectedRunId);
  const run = useApp((s) => (s.selectedRunId ? s.runs[s.selectedRunId] : undefined));
  const selectRun = useApp((s) => s.selectRun);
  const formHypers = useApp((s) => s.form.hypers);
  const h = run ? currentHypers(run) : {};
  const set = (patch: LiveHypers) => run && session.setHypers(run.id, patch);
  const active = run && run.state !== 'finished' && run.state !== 'stopped';
  // The form's values as typed may be out of range (marked there); the plot shows only valid ones.
  const ok = (v: number, k: 'beta' | 'gamma') => Number.isFinite(v) && v >= HYPER_LIMITS[k].min && v <= HYPER_LIMITS[k].max;
  const beta = h.beta ?? (ok(formHypers.beta, 'beta') ? formHypers.beta : 0);
  const gamma = h.gamma ?? (ok(formHypers.gamma, 'gamma') ? formHypers.gamma : 1);
  return (
    <section className="panel hypers" aria-labelledby="hypers-title">
      <h2 id="hypers-title">Live hyper-parameters</h2>
      {order.length > 0 && (
        <Select label="Run to steer" value={selectedId ?? ''} options={order.map(([id, name]) => ({ value: id, label: name }))} onChange={(id) => selectRun(id)} />
      )}
      {!run && <p className="note">Start a run to steer it while it trains.</p>}
      {run && Object.keys(h).length === 0 && <p className="note">{run.name} has no momentum to steer (softmax or linear attention with a plain residual).</p>}
      {run && h.beta !== undefined && (
        <Slider label="Live β (attention momentum)" {...HYPER_LIMITS.beta} value={h.beta} disabled={!active} onChange={(v) => set({ beta: v })} />
      )}
      {run && h.gamma !== undefined && (
        <Slider label="Live γ (attention step size)" {...HYPER_LIMITS.gamma} value={h.gamma} disabled={!active} onChange={(v) => set({ gamma: v })} />
      )}
      {run && h.betaTilde !== undefined && (
        <Slider label="Live β̃ (connection momentum)" {...HYPER_LIMITS.betaTilde} value={h.betaTilde} disabled={!active} onChange={(v) => set({ betaTilde: v })} />
      )}
      {run && h.gammaTilde !== undefined && (
        <Slider label="Live γ̃ (connection step size)" {...HYPER_LIMITS.gammaTilde} value={h.gammaTilde} disabled={!active} onChange={(v) => set({ gammaTilde: v })} />
      )}
      {run && h.delta !== undefined && (
        <Slider label="Live δ (adaptive β̃ ≤ 1 − δ)" {...HYPER_LIMITS.delta} value={h.delta} disabled={!active} onChange={(v) => set({ delta: v })} />
      )}
      {run?.pendingHypers && <p className="note">Applies at the next step.</p>}
      <MomentumWeights beta={beta} gamma={gamma} />
    </section>
  );
}
