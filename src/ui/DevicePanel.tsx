// The device panel: the adapter the worker opened, the features that decide which kernels can run
// (shader-f16, subgroups, timestamp-query), the limits that bound a model, and each run's speed
// on it (ms per step over the whole run, tokens/s of its latest step), with a link to the
// benchmark page (/bench.html) for this device. The facts come from the worker's `ready` message;
// the speeds update once a second.
import type { MetricsHub } from '../store/metrics.ts';
import { useApp } from '../store/store.ts';
import { FEATURES_SHOWN, LIMITS_SHOWN } from '../util/adapter.ts';
import { useSession } from './context.ts';
import { useHubTick } from './useHubTick.ts';

/** Milliseconds between updates of the speeds table. */
export const SPEED_TICK_MS = 1000;

/** Bytes as MiB or GiB; other limits as plain counts. */
function limitText(name: string, v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (/Size$/.test(name) && v >= 2 ** 20) return v >= 2 ** 30 ? `${(v / 2 ** 30).toFixed(1)} GiB` : `${(v / 2 ** 20).toFixed(0)} MiB`;
  if (/Size$/.test(name) && v >= 1024) return `${(v / 1024).toFixed(0)} KiB`;
  return String(v);
}

/** A run's mean milliseconds per step (training time over steps) and its latest tokens/s. */
export function runSpeed(hub: MetricsHub, runId: string): { msPerStep: number | null; tokensPerSec: number | null } {
  if (!hub.has(runId)) return { msPerStep: null, tokensPerSec: null };
  const s = hub.get(runId);
  const n = s.length;
  if (n === 0) return { msPerStep: null, tokensPerSec: null };
  const step = s.col('step')[n - 1]!;
  const wall = s.col('wallSeconds')[n - 1]!;
  const tps = s.col('tokensPerSec')[n - 1]!;
  return {
    msPerStep: step > 0 && Number.isFinite(wall) ? (1000 * wall) / step : null,
    tokensPerSec: Number.isFinite(tps) ? tps : null,
  };
}

export function DevicePanel() {
  const hub = useSession().hub;
  const device = useApp((s) => s.device);
  // The runs' names only (not their step counters), and the speeds once a second: the panel is not
  // re-rendered for every metrics batch of every run.
  const names = useApp((s) => s.order.map((id) => `${id}\t${s.runs[id]?.name ?? id}`).join('\n'));
  const order = names ? names.split('\n').map((l) => l.split('\t') as [string, string]) : [];
  useHubTick(hub, SPEED_TICK_MS);
  if (device.status !== 'ready') return null;
  const facts = device.adapter;
  return (
    <section className="device-panel" aria-label="Device">
      <h2>Device</h2>
      <p>
        {device.description} ({device.backend === 'swiftshader' ? 'SwiftShader, CPU emulation' : 'GPU'}) ·{' '}
        <a href="./bench.html">benchmark this device</a>
      </p>
      {facts ? (
        <>
          <ul className="features" aria-label="Features">
            {FEATURES_SHOWN.map((f) => (
              <li key={f} data-feature={f}>
                {f}: {facts.features.includes(f) ? 'yes' : 'no'}
              </li>
            ))}
          </ul>
          <table className="limits" aria-label="Limits">
            <tbody>
              {LIMITS_SHOWN.map((name) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{limitText(name, facts.limits[name] ?? NaN)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p>The worker did not report the adapter's features and limits.</p>
      )}
      {order.length > 0 && (
        <table className="speeds" aria-label="Speed of each run">
          <thead>
            <tr>
              <th scope="col">run</th>
              <th scope="col">ms per step</th>
              <th scope="col">tokens/s</th>
            </tr>
          </thead>
          <tbody>
            {order.map(([id, name]) => {
              const sp = runSpeed(hub, id);
              return (
                <tr key={id} data-run={id}>
                  <th scope="row">{name}</th>
                  <td>{sp.msPerStep === null ? '-' : sp.msPerStep.toFixed(1)}</td>
                  <td>{sp.tokensPerSec === null ? '-' : sp.tokensPerSec.toFixed(0)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
