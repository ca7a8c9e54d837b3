// The page: the explanation when WebGPU is missing, else the form, runs, sliders, charts, samples.
import { useApp } from '../store/store.ts';
import { validateForm } from '../store/validate.ts';
import { Charts } from './Charts.tsx';
import { Classification } from './Classification.tsx';
import { DevicePanel } from './DevicePanel.tsx';
import { useSession } from './context.ts';
import { HyperPanel } from './HyperPanel.tsx';
import { Inspector } from './Inspector.tsx';
import { NewRunForm } from './NewRunForm.tsx';
import { NoWebGPU } from './NoWebGPU.tsx';
import { Results } from './Results.tsx';
import { RunList } from './RunList.tsx';
import { SweepView } from './SweepView.tsx';
import { Samples } from './Samples.tsx';

function DeviceLine() {
  const session = useSession();
  const device = useApp((s) => s.device);
  if (device.status === 'checking') return <p className="device" role="status">Opening the WebGPU device…</p>;
  if (device.status === 'ready') {
    return (
      <p className="device" role="status">
        Training on {device.description}
        {device.backend === 'swiftshader' ? ' (CPU emulation: use the tiny preset)' : ''} · <a href="./bench.html">benchmarks</a>
      </p>
    );
  }
  if (device.status === 'lost') {
    return (
      <div className="device lost" role="alert">
        <p>The GPU device was lost: {device.message}. The runs are paused at their last checkpoint.</p>
        <button type="button" onClick={() => void session.resumeAll()}>
          Reopen the device and restore the runs
        </button>
      </div>
    );
  }
  return null;
}

/** Every notice until dismissed, newest last; none is dropped. */
function Notices() {
  const notices = useApp((s) => s.notices);
  const dismiss = useApp((s) => s.dismiss);
  const dismissAll = useApp((s) => s.dismissAll);
  if (notices.length === 0) return null;
  return (
    <section className="notices" aria-label="Notices">
      <ul role="list">
        {notices.map((n) => (
          <li key={n.id} className="notice" role="alert">
            <span className="notice-text">{n.text}</span>{' '}
            <button type="button" onClick={() => dismiss(n.id)} aria-label={`Dismiss: ${n.text}`}>
              Dismiss
            </button>
          </li>
        ))}
      </ul>
      {notices.length > 1 && (
        <button type="button" onClick={dismissAll}>
          Dismiss all {notices.length} notices
        </button>
      )}
    </section>
  );
}

/** What a shared link got wrong: its damaged parts, then each field it set out of range (live). */
function LinkReport() {
  const link = useApp((s) => s.link);
  const setLink = useApp((s) => s.setLink);
  const form = useApp((s) => s.form);
  const presets = useApp((s) => s.presets);
  const datasets = useApp((s) => s.datasets);
  if (!link) return null;
  const fields = presets ? Object.values(validateForm(form, presets, datasets)) : [];
  const all = [...link.problems, ...fields];
  if (all.length === 0) return null;
  return (
    <section className="link-report" role="alert" aria-label="Shared link problems">
      <p>The shared link's configuration has {all.length} problem{all.length === 1 ? '' : 's'} (the fields keep its values, marked):</p>
      <ul>
        {all.map((p, i) => (
          <li key={i}>{p}</li>
        ))}
      </ul>
      <button type="button" onClick={() => setLink(null)}>
        Dismiss
      </button>
    </section>
  );
}

/** The page's question before a slow start (a step of many seconds). */
function QuestionDialog() {
  const session = useSession();
  const q = useApp((s) => s.question);
  if (!q) return null;
  return (
    <div className="question" role="dialog" aria-modal="false" aria-labelledby="question-text">
      <p id="question-text">{q.text}</p>
      <button type="button" onClick={() => session.answer(q.id, true)}>
        {q.confirm}
      </button>
      <button type="button" onClick={() => session.answer(q.id, false)}>
        Cancel
      </button>
    </div>
  );
}

export function App() {
  const device = useApp((s) => s.device);
  if (device.status === 'unsupported') return <NoWebGPU reason={device.message} />;
  return (
    <div className="app">
      <header>
        <h1>Momentum attention playground</h1>
        <DeviceLine />
      </header>
      <Notices />
      <LinkReport />
      <QuestionDialog />
      <div className="layout">
        <div className="side">
          <NewRunForm />
          <HyperPanel />
          <DevicePanel />
        </div>
        <div className="main">
          <RunList />
          <Charts />
          <Results />
          <SweepView />
          <Classification />
          <Samples />
          <Inspector />
        </div>
      </div>
    </div>
  );
}
