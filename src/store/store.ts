// The page's state: one zustand store built from small slices, each with the actions that change
// it. Fast-changing metrics are not here (see metrics.ts); runs change a few times a second at most.
import { create, type StateCreator } from 'zustand';
import type { AdapterFacts, LiveHypers, PresetTable, RunState, SamplesCopy, SamplesMnist } from '../worker/protocol.ts';
import { defaultForm, paperHypers, type FormState } from './form.ts';
import type { RunRecord } from './persist.ts';

export type DeviceStatus =
  | { status: 'checking' }
  | { status: 'ready'; backend: 'swiftshader' | 'gpu'; description: string; adapter?: AdapterFacts }
  | { status: 'unsupported'; message: string }
  | { status: 'lost'; message: string };

export interface DeviceSlice {
  device: DeviceStatus;
  setDevice(d: DeviceStatus): void;
}

export interface RunView extends RunRecord {
  /** The worker holds a trainer for it (false after a reload or a lost device until resumed). */
  live: boolean;
  /** Step of the latest checkpoint kept in IndexedDB. */
  checkpointStep: number | null;
  /** Live hyper-parameters sent and not yet reported applied. */
  pendingHypers?: LiveHypers;
}

export interface RunsSlice {
  runs: Record<string, RunView>;
  order: string[];
  selectedRunId: string | null;
  upsertRun(r: RunView): void;
  patchRun(id: string, patch: Partial<RunView>): void;
  setRunState(id: string, state: RunState, step: number, message?: string): void;
  removeRun(id: string): void;
  selectRun(id: string | null): void;
}

export interface FormSlice {
  form: FormState;
  presets: PresetTable | null;
  setForm(patch: Partial<FormState>): void;
  setTask(task: FormState['task']): void;
  setPresets(t: PresetTable): void;
}

export interface ChartOptions {
  x: 'step' | 'time';
  logY: boolean;
  /** Exponential moving average weight, 0 = raw. */
  smoothing: number;
}

export interface ChartSlice {
  chart: ChartOptions;
  setChart(patch: Partial<ChartOptions>): void;
}

export interface SamplesSlice {
  samples: Record<string, SamplesMnist | SamplesCopy>;
  setSamples(runId: string, s: SamplesMnist | SamplesCopy): void;
}

export interface NoticeSlice {
  notices: { id: number; text: string }[];
  notify(text: string): void;
  dismiss(id: number): void;
}

export type AppState = DeviceSlice & RunsSlice & FormSlice & ChartSlice & SamplesSlice & NoticeSlice;
type Slice<T> = StateCreator<AppState, [], [], T>;

const deviceSlice: Slice<DeviceSlice> = (set) => ({
  device: { status: 'checking' },
  setDevice: (device) => set({ device }),
});

const runsSlice: Slice<RunsSlice> = (set) => ({
  runs: {},
  order: [],
  selectedRunId: null,
  upsertRun: (r) =>
    set((s) => ({
      runs: { ...s.runs, [r.id]: r },
      order: s.order.includes(r.id) ? s.order : [...s.order, r.id],
      selectedRunId: s.selectedRunId ?? r.id,
    })),
  patchRun: (id, patch) =>
    set((s) => (s.runs[id] ? { runs: { ...s.runs, [id]: { ...s.runs[id]!, ...patch } } } : {})),
  setRunState: (id, state, step, message) =>
    set((s) => {
      const r = s.runs[id];
      if (!r) return {};
      const next: RunView = { ...r, state, step };
      if (message !== undefined) next.message = message;
      else delete next.message;
      return { runs: { ...s.runs, [id]: next } };
    }),
  removeRun: (id) =>
    set((s) => {
      const { [id]: _gone, ...runs } = s.runs;
      const order = s.order.filter((x) => x !== id);
      return { runs, order, selectedRunId: s.selectedRunId === id ? (order[0] ?? null) : s.selectedRunId };
    }),
  selectRun: (selectedRunId) => set({ selectedRunId }),
});

const formSlice: Slice<FormSlice> = (set) => ({
  form: defaultForm(),
  presets: null,
  setForm: (patch) => set((s) => ({ form: { ...s.form, ...patch } })),
  setTask: (task) =>
    set((s) => ({ form: { ...s.form, task, hypers: paperHypers(task), maxLen: null, resolution: null, subset: null } })),
  setPresets: (presets) => set({ presets }),
});

const chartSlice: Slice<ChartSlice> = (set) => ({
  chart: { x: 'step', logY: false, smoothing: 0 },
  setChart: (patch) => set((s) => ({ chart: { ...s.chart, ...patch } })),
});

const samplesSlice: Slice<SamplesSlice> = (set) => ({
  samples: {},
  setSamples: (runId, smp) => set((s) => ({ samples: { ...s.samples, [runId]: smp } })),
});

let noticeId = 0;
const noticeSlice: Slice<NoticeSlice> = (set) => ({
  notices: [],
  notify: (text) => set((s) => ({ notices: [...s.notices.slice(-4), { id: ++noticeId, text }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
});

export const useApp = create<AppState>()((...a) => ({
  ...deviceSlice(...a),
  ...runsSlice(...a),
  ...formSlice(...a),
  ...chartSlice(...a),
  ...samplesSlice(...a),
  ...noticeSlice(...a),
}));

const initial = useApp.getState();

/** Back to the initial state (tests). */
export function resetApp(): void {
  useApp.setState(initial, true);
}

/** Stable run colours (Tableau 10): a run keeps its colour across reloads. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function runColor(colorIndex: number): string {
  return PALETTE[((colorIndex % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
}

/** The lowest colour index no current run uses. */
export function nextColorIndex(runs: Record<string, { colorIndex: number }>): number {
  const used = new Set(Object.values(runs).map((r) => r.colorIndex));
  let i = 0;
  while (used.has(i)) i++;
  return i;
}
