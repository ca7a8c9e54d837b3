// The page: the explanation when WebGPU is missing, else the form, runs, sliders, charts, samples.
import { useApp } from '../store/store.ts';
import { Charts } from './Charts.tsx';
import { DevicePanel } from './DevicePanel.tsx';
import { useSession } from './context.ts';
import { HyperPanel } from './HyperPanel.tsx';
import { NewRunForm } from './NewRunForm.tsx';
import { NoWebGPU } from './NoWebGPU.tsx';
import { RunList } from './RunList.tsx';
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

function Notices() {
  const notices = useApp((s) => s.notices);
  const dismiss = useApp((s) => s.dismiss);
  if (notices.length === 0) return null;
  return (
    <div className="notices" role="alert">
      {notices.map((n) => (
        <p key={n.id}>
          {n.text}{' '}
          <button type="button" onClick={() => dismiss(n.id)} aria-label={`Dismiss: ${n.text}`}>
            Dismiss
          </button>
        </p>
      ))}
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
      <div className="layout">
        <div className="side">
          <NewRunForm />
          <HyperPanel />
          <DevicePanel />
        </div>
        <div className="main">
          <RunList />
          <Charts />
          <Samples />
        </div>
      </div>
    </div>
  );
}
