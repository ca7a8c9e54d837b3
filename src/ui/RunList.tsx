// Every run, live or stored, grouped by variant (a comparison's seeds) and collapsible: its state
// and step, and start / pause / resume / stop / step-once, checkpoint download and removal. A run
// whose step is in flight says so, and that Stop and Remove act after it. Metrics export and
// checkpoint upload for all runs. Step counters change twice a second for every training run: only
// the small RunProgress parts follow them, the rest of a row re-renders when something else changes.
import { memo } from 'react';
import { metricsCsv, metricsJson } from '../store/export.ts';
import { groupsOf, type RunGroupView } from '../store/groups.ts';
import { metrics, recentTokensPerSec } from '../store/metrics.ts';
import { taskTokens } from '../train/types.ts';
import { runColor, useApp, type RunView } from '../store/store.ts';
import { useSession } from './context.ts';
import { download, fileSafe } from './download.ts';

const STATE_TEXT: Record<RunView['state'], string> = {
  created: 'created',
  running: 'running',
  paused: 'paused',
  finished: 'finished',
  stopped: 'stopped',
  diverged: 'diverged',
  error: 'failed',
  'device-lost': 'device lost',
};

/** Training tokens/s over the last steps and the tokens a sequence has (softmax's cost grows with them). */
function Throughput({ run }: { run: RunView }) {
  const hub = useSession().hub;
  const tps = hub.has(run.id) ? recentTokensPerSec(hub.get(run.id)) : null;
  const tokens = taskTokens(run.config.task);
  return (
    <span className="run-throughput" data-testid="run-tps" title="training throughput over the last 16 steps (padding and a CLS token included)">
      {' · '}
      {tps === null ? '– tokens/s' : `${tps >= 100 ? Math.round(tps).toLocaleString('en-US') : tps.toPrecision(2)} tokens/s`} · {run.config.task.kind === 'listops' ? 'up to ' : ''}
      {tokens} tokens a sequence
    </span>
  );
}

/** The parts of a row that follow the run's step: its state and step, throughput and busy line. */
function RunProgress({ id }: { id: string }) {
  const run = useApp((s) => s.runs[id]);
  if (!run) return null;
  const busy = run.busy && run.live;
  return (
    <>
      <span className="run-status" data-testid="run-status">
        {STATE_TEXT[run.state]} · step <span data-testid="run-step">{run.step}</span> / {run.config.steps}
        {!run.live && run.checkpointStep !== null ? ` · resumes from step ${run.checkpointStep}` : ''}
        <Throughput run={run} />
      </span>
      {busy && (
        <span className="run-busy" data-testid="run-busy" role="status">
          {run.busy!.compiling ? 'compiling kernels for step' : 'computing step'} {run.busy!.step + 1}…
        </span>
      )}
    </>
  );
}

/** Whether a row must re-render: any field but the step (RunProgress follows that alone) changed. */
function sameRow(a: { run: RunView; selected: boolean }, b: { run: RunView; selected: boolean }): boolean {
  if (a.selected !== b.selected) return false;
  if (a.run === b.run) return true;
  const keys = new Set([...Object.keys(a.run), ...Object.keys(b.run)]);
  for (const k of keys) {
    if (k === 'step') continue;
    if (a.run[k as keyof RunView] !== b.run[k as keyof RunView]) return false;
  }
  // The Start / Resume label depends on whether the run has taken a step.
  return a.run.step > 0 === b.run.step > 0;
}

const RunRow = memo(function RunRow({ run, selected }: { run: RunView; selected: boolean }) {
  const session = useSession();
  const selectRun = useApp((s) => s.selectRun);
  const ended = run.state === 'finished' || run.state === 'stopped' || run.state === 'diverged' || run.state === 'error';
  const running = run.live && run.state === 'running';
  const label = run.name;
  const busy = run.busy && run.live;
  const after = busy ? ' (after this step)' : '';
  return (
    <li className={`run ${selected ? 'selected' : ''}`} data-run-id={run.id} data-state={run.state} aria-label={label}>
      <button type="button" className="swatch-button" aria-pressed={selected} onClick={() => selectRun(run.id)}>
        <span className="swatch" style={{ background: runColor(run.colorIndex) }} aria-hidden="true" />
        <span className="run-name">{run.name}</span>
      </button>
      <RunProgress id={run.id} />
      {run.message && <span className="run-message">{run.message}</span>}
      <span className="run-buttons">
        {!running && !ended && (
          <button type="button" onClick={() => session.start(run.id)} aria-label={`${run.live ? (run.step > 0 ? 'Resume' : 'Start') : 'Resume'} ${label}`}>
            {run.live ? (run.step > 0 ? 'Resume' : 'Start') : 'Resume'}
          </button>
        )}
        {running && (
          <button type="button" onClick={() => session.pause(run.id)} aria-label={`Pause ${label}`}>
            Pause
          </button>
        )}
        {!running && !ended && (
          <button type="button" onClick={() => session.step(run.id)} aria-label={`Step once ${label}`}>
            Step once
          </button>
        )}
        {!ended && (
          <button type="button" onClick={() => session.stop(run.id)} aria-label={`Stop ${label}`}>
            Stop{after}
          </button>
        )}
        <button
          type="button"
          aria-label={`Download checkpoint of ${label}`}
          onClick={async () => {
            const ck = await session.checkpointBytes(run.id);
            if (ck) download(`${fileSafe(run.name)}-step${ck.step}.safetensors`, ck.bytes as Uint8Array<ArrayBuffer>, 'application/octet-stream');
            else useApp.getState().notify(`${run.name}: no checkpoint yet`);
          }}
        >
          Checkpoint
        </button>
        <button type="button" onClick={() => void session.remove(run.id)} aria-label={`Remove ${label}`}>
          Remove{after}
        </button>
      </span>
    </li>
  );
}, sameRow);

function GroupRows({ group, selected }: { group: RunGroupView; selected: string | null }) {
  const collapsed = useApp((s) => !!s.collapsed[group.key]);
  const toggle = useApp((s) => s.toggleGroup);
  const states = new Map<string, number>();
  for (const r of group.members) states.set(STATE_TEXT[r.state], (states.get(STATE_TEXT[r.state]) ?? 0) + 1);
  const summary = [...states].map(([s, n]) => `${n} ${s}`).join(', ');
  const steps = group.members.map((r) => r.step);
  return (
    <li className="run-group" data-group={group.key} aria-label={`${group.label} group`}>
      <button type="button" className="group-toggle" aria-expanded={!collapsed} onClick={() => toggle(group.key)}>
        <span className="swatch" style={{ background: runColor(group.colorIndex) }} aria-hidden="true" />
        {collapsed ? '▸' : '▾'} {group.label} · {group.members.length} seed{group.members.length === 1 ? '' : 's'} · {summary} · steps{' '}
        {Math.min(...steps)}–{Math.max(...steps)} / {group.members[0]!.config.steps}
      </button>
      {!collapsed && (
        <ul className="run-list members">
          {group.members.map((r) => (
            <RunRow key={r.id} run={r} selected={selected === r.id} />
          ))}
        </ul>
      )}
    </li>
  );
}

export function RunList() {
  const session = useSession();
  const order = useApp((s) => s.order);
  const runs = useApp((s) => s.runs);
  const selected = useApp((s) => s.selectedRunId);
  const all = () => order.map((id) => runs[id]!);
  return (
    <section className="panel runs" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      {order.length === 0 ? (
        <p className="note">No runs yet: choose variants and press Train.</p>
      ) : (
        <ul className="run-list">
          {groupsOf(runs, order).map((g) =>
            g.members.length === 1 && !g.comparison ? (
              <RunRow key={g.key} run={g.members[0]!} selected={selected === g.members[0]!.id} />
            ) : (
              <GroupRows key={g.key} group={g} selected={selected} />
            ),
          )}
        </ul>
      )}
      <div className="row actions">
        <button type="button" disabled={order.length === 0} onClick={() => download('metrics.csv', metricsCsv(all(), metrics), 'text/csv')}>
          Export metrics (CSV)
        </button>
        <button type="button" disabled={order.length === 0} onClick={() => download('metrics.json', metricsJson(all(), metrics), 'application/json')}>
          Export metrics (JSON)
        </button>
        <div className="field">
          <label htmlFor="upload-checkpoint">Open a checkpoint (.safetensors)</label>
          <input
            id="upload-checkpoint"
            type="file"
            accept=".safetensors"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              if (f) await session.uploadCheckpoint(new Uint8Array(await f.arrayBuffer()), f.name);
              e.target.value = '';
            }}
          />
        </div>
      </div>
    </section>
  );
}
