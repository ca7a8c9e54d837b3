// Persistence of live runs: new metrics are written to storage in one chunk per run every
// `flushMs`, checkpoints after the metrics they follow (so a crash never leaves a gap), and run
// records whenever their state changes.
import type { MetricsBatch } from '../worker/protocol.ts';
import { concatBatches } from './metrics.ts';
import type { RunRecord, RunStorage } from './persist.ts';
import type { RunView } from './store.ts';

export class Recorder {
  private unflushed = new Map<string, MetricsBatch[]>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly storage: RunStorage,
    private readonly exists: (runId: string) => boolean,
    private readonly flushMs: number,
  ) {}

  metrics(runId: string, batch: MetricsBatch): void {
    const list = this.unflushed.get(runId) ?? [];
    list.push(batch);
    this.unflushed.set(runId, list);
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes the metrics received since the last write, one chunk per run. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const all = [...this.unflushed];
    this.unflushed.clear();
    for (const [runId, batches] of all) {
      if (!this.exists(runId)) continue;
      await this.storage.addMetrics(runId, concatBatches(batches));
    }
  }

  async checkpoint(runId: string, step: number, bytes: Uint8Array): Promise<boolean> {
    if (!this.exists(runId)) return false;
    await this.flush();
    await this.storage.putCheckpoint({ runId, step, bytes });
    return true;
  }

  run(r: RunView): void {
    void this.storage.putRun(toRecord(r));
  }

  forget(runId: string): void {
    this.unflushed.delete(runId);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/** The stored part of a run (what the page keeps only while it is open is left out). */
export function toRecord(r: RunView): RunRecord {
  const { live: _l, checkpointStep: _c, pendingHypers: _p, busy: _b, ...rec } = r;
  return rec;
}
