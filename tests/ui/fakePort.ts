// The worker's port for component tests: records what the page sends and delivers the fake
// worker's replies inside React's act().
import { act } from '@testing-library/react';
import type { WorkerPort } from '../../src/worker/client.ts';
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
  reply(m: FromWorker) {
    act(() => this.fn?.({ data: m } as MessageEvent<FromWorker>));
  }
}
