// Runs kept in IndexedDB so nothing is lost to a reload or a crashed tab: each run's record
// (config, state, colour), its metrics as appended chunks, its latest checkpoint, and the user's
// IDX images it trains on. `MemoryStorage` is the same interface without a browser (tests).
import type { DataSpec, ImageData8, MetricsBatch, RunConfig, RunSpec, RunState } from '../worker/protocol.ts';

export interface RunRecord {
  id: string;
  name: string;
  config: RunConfig;
  spec?: RunSpec;
  data: DataSpec;
  colorIndex: number;
  createdAt: number;
  state: RunState;
  step: number;
  message?: string;
  parameters?: number;
  /** The seed group a run belongs to: one per variant of a comparison (its runs differ by seed). */
  group?: RunGroup;
}

export interface RunGroup {
  /** The comparison (one Train click). */
  comparison: string;
  /** Unique per comparison and variant. */
  key: string;
  /** The variant as shown (and the baseline choice of the results table). */
  label: string;
  /** A sweep's point: the swept parameters' values for this group's runs. */
  sweep?: Record<string, number>;
}

export interface StoredCheckpoint {
  runId: string;
  step: number;
  bytes: Uint8Array;
}

export interface RunStorage {
  listRuns(): Promise<RunRecord[]>;
  putRun(r: RunRecord): Promise<void>;
  deleteRun(id: string): Promise<void>;
  addMetrics(runId: string, batch: MetricsBatch): Promise<void>;
  /** Chunks in the order they were added. */
  loadMetrics(runId: string): Promise<MetricsBatch[]>;
  putCheckpoint(c: StoredCheckpoint): Promise<void>;
  getCheckpoint(runId: string): Promise<StoredCheckpoint | null>;
  putDataset(name: string, images: ImageData8): Promise<void>;
  getDataset(name: string): Promise<ImageData8 | null>;
}

const DB_VERSION = 1;

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

export class IdbStorage implements RunStorage {
  private constructor(private db: IDBDatabase) {}

  static async open(name = 'momentum-playground'): Promise<IdbStorage> {
    const open = indexedDB.open(name, DB_VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      db.createObjectStore('runs', { keyPath: 'id' });
      const m = db.createObjectStore('metrics', { autoIncrement: true });
      m.createIndex('runId', 'runId');
      db.createObjectStore('checkpoints', { keyPath: 'runId' });
      db.createObjectStore('datasets');
    };
    return new IdbStorage(await req(open));
  }

  private async tx<T>(stores: string[], mode: IDBTransactionMode, fn: (tx: IDBTransaction) => Promise<T> | T): Promise<T> {
    const tx = this.db.transaction(stores, mode);
    const out = await fn(tx);
    await done(tx);
    return out;
  }

  async listRuns(): Promise<RunRecord[]> {
    const runs = await this.tx(['runs'], 'readonly', (tx) => req(tx.objectStore('runs').getAll() as IDBRequest<RunRecord[]>));
    return runs.sort((a, b) => a.createdAt - b.createdAt);
  }

  putRun(r: RunRecord): Promise<void> {
    return this.tx(['runs'], 'readwrite', (tx) => void tx.objectStore('runs').put(r));
  }

  deleteRun(id: string): Promise<void> {
    return this.tx(['runs', 'metrics', 'checkpoints'], 'readwrite', async (tx) => {
      tx.objectStore('runs').delete(id);
      tx.objectStore('checkpoints').delete(id);
      const keys = await req(tx.objectStore('metrics').index('runId').getAllKeys(id));
      for (const k of keys) tx.objectStore('metrics').delete(k);
    });
  }

  addMetrics(runId: string, batch: MetricsBatch): Promise<void> {
    return this.tx(['metrics'], 'readwrite', (tx) => void tx.objectStore('metrics').add({ runId, batch }));
  }

  async loadMetrics(runId: string): Promise<MetricsBatch[]> {
    const rows = await this.tx(['metrics'], 'readonly', (tx) =>
      req(tx.objectStore('metrics').index('runId').getAll(runId) as IDBRequest<{ runId: string; batch: MetricsBatch }[]>),
    );
    return rows.map((r) => r.batch);
  }

  putCheckpoint(c: StoredCheckpoint): Promise<void> {
    return this.tx(['checkpoints'], 'readwrite', (tx) => void tx.objectStore('checkpoints').put(c));
  }

  async getCheckpoint(runId: string): Promise<StoredCheckpoint | null> {
    const c = await this.tx(['checkpoints'], 'readonly', (tx) => req(tx.objectStore('checkpoints').get(runId) as IDBRequest<StoredCheckpoint | undefined>));
    return c ?? null;
  }

  putDataset(name: string, images: ImageData8): Promise<void> {
    return this.tx(['datasets'], 'readwrite', (tx) => void tx.objectStore('datasets').put(images, name));
  }

  async getDataset(name: string): Promise<ImageData8 | null> {
    const d = await this.tx(['datasets'], 'readonly', (tx) => req(tx.objectStore('datasets').get(name) as IDBRequest<ImageData8 | undefined>));
    return d ?? null;
  }
}

/** The same storage in memory: tests, and browsers that refuse IndexedDB (private modes). */
export class MemoryStorage implements RunStorage {
  runs = new Map<string, RunRecord>();
  metrics = new Map<string, MetricsBatch[]>();
  checkpoints = new Map<string, StoredCheckpoint>();
  datasets = new Map<string, ImageData8>();

  async listRuns(): Promise<RunRecord[]> {
    return [...this.runs.values()].map((r) => structuredClone(r)).sort((a, b) => a.createdAt - b.createdAt);
  }
  async putRun(r: RunRecord): Promise<void> {
    this.runs.set(r.id, structuredClone(r));
  }
  async deleteRun(id: string): Promise<void> {
    this.runs.delete(id);
    this.metrics.delete(id);
    this.checkpoints.delete(id);
  }
  async addMetrics(runId: string, batch: MetricsBatch): Promise<void> {
    const list = this.metrics.get(runId) ?? [];
    list.push(batch);
    this.metrics.set(runId, list);
  }
  async loadMetrics(runId: string): Promise<MetricsBatch[]> {
    return this.metrics.get(runId) ?? [];
  }
  async putCheckpoint(c: StoredCheckpoint): Promise<void> {
    this.checkpoints.set(c.runId, c);
  }
  async getCheckpoint(runId: string): Promise<StoredCheckpoint | null> {
    return this.checkpoints.get(runId) ?? null;
  }
  async putDataset(name: string, images: ImageData8): Promise<void> {
    this.datasets.set(name, images);
  }
  async getDataset(name: string): Promise<ImageData8 | null> {
    return this.datasets.get(name) ?? null;
  }
}
