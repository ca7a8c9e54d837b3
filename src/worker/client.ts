// The page's side of the worker: typed sends, request/reply by requestId, and listeners. It
// imports only the protocol, never the engine.
import type { FromWorker, ToWorker } from './protocol.ts';

/** What the client needs of a Worker (a fake in tests). */
export interface WorkerPort {
  postMessage(msg: ToWorker, transfer: Transferable[]): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<FromWorker>) => void): void;
  addEventListener(type: 'error', fn: (ev: ErrorEvent) => void): void;
  terminate?(): void;
}

type Reply = Extract<FromWorker, { type: 'checkpoint' | 'samples' | 'inspection' | 'plan' | 'error' }>;

export class WorkerClient {
  private listeners = new Set<(m: FromWorker) => void>();
  private waiting = new Map<number, { resolve(m: Reply): void; reject(e: Error): void }>();
  private nextRequest = 1;

  constructor(private port: WorkerPort) {
    port.addEventListener('message', (ev) => this.receive(ev.data));
    port.addEventListener('error', (ev) => {
      // A worker that fails to load (a script error) would otherwise leave the page waiting forever.
      this.receive({ type: 'unsupported', message: `The training worker failed: ${ev.message || 'unknown error'}` });
    });
  }

  send(msg: ToWorker, transfer: Transferable[] = []): void {
    this.port.postMessage(msg, transfer);
  }

  /** Sends a message that carries a requestId and resolves with its reply (an 'error' rejects). */
  request<T extends Reply['type']>(make: (requestId: number) => ToWorker): Promise<Extract<FromWorker, { type: T }>> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.waiting.set(requestId, {
        resolve: (m) => resolve(m as Extract<FromWorker, { type: T }>),
        reject,
      });
      this.send(make(requestId));
    });
  }

  onMessage(fn: (m: FromWorker) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private receive(m: FromWorker): void {
    if ((m.type === 'checkpoint' || m.type === 'samples' || m.type === 'inspection' || m.type === 'plan' || m.type === 'error') && m.requestId !== undefined && m.requestId > 0) {
      const w = this.waiting.get(m.requestId);
      if (w) {
        this.waiting.delete(m.requestId);
        if (m.type === 'error') w.reject(new Error(m.message));
        else w.resolve(m);
        return;
      }
    }
    for (const fn of this.listeners) fn(m);
  }

  terminate(): void {
    this.port.terminate?.();
  }
}

/** The real worker (Vite bundles it as a module worker). */
export function spawnTrainingWorker(): WorkerPort {
  return new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' }) as unknown as WorkerPort;
}
