// Entry point: without WebGPU the page explains why at once; otherwise the session (worker, store,
// IndexedDB) boots and the playground renders.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { metricsCsv } from './store/export.ts';
import { decodeShare } from './store/share.ts';
import { IdbStorage, MemoryStorage, type RunStorage } from './store/persist.ts';
import { metrics } from './store/metrics.ts';
import { Session } from './store/session.ts';
import { useApp } from './store/store.ts';
import { App } from './ui/App.tsx';
import { SessionContext } from './ui/context.ts';
import { NoWebGPU } from './ui/NoWebGPU.tsx';
import { WorkerClient, spawnTrainingWorker } from './worker/client.ts';
import './ui/styles.css';

const root = createRoot(document.getElementById('root')!);

async function main(): Promise<void> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    root.render(<NoWebGPU reason="This browser does not expose WebGPU (navigator.gpu is missing)." />);
    return;
  }
  if (location.hash.includes('config=')) {
    try {
      const { form, problems } = decodeShare(location.hash);
      useApp.getState().setForm(form);
      // Problems of the link's values themselves (out of range, unknown preset) are marked on the
      // fields and listed with these once the presets are known (App's LinkReport).
      useApp.getState().setLink({ problems });
    } catch (e) {
      useApp.getState().notify(`Shared link: ${(e as Error).message}`);
    }
  }
  let storage: RunStorage;
  try {
    storage = await IdbStorage.open();
  } catch (e) {
    storage = new MemoryStorage();
    useApp.getState().notify(`IndexedDB is unavailable (${(e as Error).message}): runs will not survive a reload.`);
  }
  const session = new Session(new WorkerClient(spawnTrainingWorker()), storage, useApp, undefined, {
    mnistUrl: new URL(`${import.meta.env.BASE_URL}mnist-10k.bin`, location.href).href,
  });
  addEventListener('pagehide', () => void session.flush());
  // For the e2e test and the console: the session, the store, the metrics and the CSV export.
  const csv = () => metricsCsv(useApp.getState().order.map((id) => useApp.getState().runs[id]!), metrics);
  (globalThis as { __playground?: unknown }).__playground = { session, store: useApp, metrics, csv };
  root.render(
    <StrictMode>
      <SessionContext.Provider value={session}>
        <App />
      </SessionContext.Provider>
    </StrictMode>,
  );
  await session.boot();
}

void main();
