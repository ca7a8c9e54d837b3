// The device panel: the adapter the worker opened, the features that decide which kernels can run
// (shader-f16, subgroups, timestamp-query), the limits that bound a model, and each run's speed
// on it (ms per step over the whole run, tokens/s of its latest step), with a link to the
// benchmark page (/bench.html) for this device. The facts come from the worker's `ready` message.
import { useEffect, useState } from 'react';
import type { MetricsHub } from '../store/metrics.ts';
import { useApp } from '../store/store.ts';
import { FEATURES_SHOWN, LIMITS_SHOWN } from '../util/adapter.ts';
import { useSession } from './context.ts';

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

function useMetricsTick(hub: MetricsHub): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let queued = false;
    return hub.subscribe(() => {
      if (queued) return;
      queued = true;
      // At most one re-render per animation frame, however many batches arrive.
      const later = typeof requestAnimationFrame === 'function' ? requestAnimationFrame : (f: () => void) => setTimeout(f, 16);
      later(() => {
        queued = false;
        setTick((t) => t + 1);
      });
    });
  }, [hub]);
  return tick;
}

export function DevicePanel() {
  const hub = useSession().hub;
  const device = useApp((s) => s.device);
  const runs = useApp((s) => s.runs);
  const order = useApp((s) => s.order);
  useMetricsTick(hub);
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
            {order.map((id) => {
              const sp = runSpeed(hub, id);
              return (
                <tr key={id} data-run={id}>
                  <th scope="row">{runs[id]?.name ?? id}</th>
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
