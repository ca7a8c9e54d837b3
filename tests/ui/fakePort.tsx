// The worker's port for component tests: records what the page sends and delivers the fake
// worker's replies inside React's act(); and the App mounted on a session over such a port.
import { act, render } from '@testing-library/react';
import { MetricsHub } from '../../src/store/metrics.ts';
import { MemoryStorage } from '../../src/store/persist.ts';
import { Session } from '../../src/store/session.ts';
import { useApp } from '../../src/store/store.ts';
import { App } from '../../src/ui/App.tsx';
import { SessionContext } from '../../src/ui/context.ts';
import { WorkerClient, type WorkerPort } from '../../src/worker/client.ts';
import type { FromWorker, ToWorker } from '../../src/worker/protocol.ts';

export class FakePort implements WorkerPort {
  sent: ToWorker[] = [];
  fn: ((ev: MessageEvent<FromWorker>) => void) | null = null;
  postMessage(msg: ToWorker) {
    this.sent.push(msg);
  }
  addEventListener(type: string, fn: (ev: never) => void) {
    if (type === 'message') this.fn = fn as (ev: MessageEvent<FromWorker>) => void;
  }
  reply(m: FromWorker): void | Promise<void> {
    act(() => this.fn?.({ data: m } as MessageEvent<FromWorker>));
  }
}

/** The whole page on a session over `port` (in-memory storage, run ids from `newId`). */
export function mountApp<P extends FakePort>(port: P, newId: () => string = () => 'r1'): { port: P; hub: MetricsHub; session: Session } {
  const hub = new MetricsHub();
  const session = new Session(new WorkerClient(port), new MemoryStorage(), useApp, hub, { newId });
  render(
    <SessionContext.Provider value={session}>
      <App />
    </SessionContext.Provider>,
  );
  return { port, hub, session };
}
