// The page's state: one zustand store built from small slices, each with the actions that change
// it. Fast-changing metrics are not here (see metrics.ts); runs change a few times a second at most.
import { create, type StateCreator } from 'zustand';
import type { AdapterFacts, ClassReport, LiveHypers, PresetTable, RunState, SamplesCopy, SamplesMnist } from '../worker/protocol.ts';
import { defaultForm, paperHypers, type FormState } from './form.ts';
import type { RunRecord } from './persist.ts';
import type { DatasetInfo } from './validate.ts';

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
  /** A step has been in flight for over a second: commands act after it. */
  busy?: { step: number; since: number; compiling?: boolean };
}

export interface RunsSlice {
  runs: Record<string, RunView>;
  order: string[];
  selectedRunId: string | null;
  upsertRun(r: RunView): void;
  patchRun(id: string, patch: Partial<RunView>): void;
  /** Several runs at once (one update of the page). */
  patchRuns(patches: Record<string, Partial<RunView>>): void;
  setRunState(id: string, state: RunState, step: number, message?: string): void;
  removeRun(id: string): void;
  selectRun(id: string | null): void;
}

export interface FormSlice {
  form: FormState;
  presets: PresetTable | null;
  /** IDX images opened in this page, by name (validation: can they be classified?). */
  datasets: Record<string, DatasetInfo>;
  setDatasetInfo(name: string, info: DatasetInfo): void;
  setForm(patch: Partial<FormState>): void;
  setTask(task: FormState['task']): void;
  setPresets(t: PresetTable): void;
}

export type BandKind = 'minmax' | 'std' | 'se';

export interface ChartOptions {
  x: 'step' | 'time';
  logY: boolean;
  /** Exponential moving average weight, 0 = raw. */
  smoothing: number;
  /** A seed group's band around its mean: min-max, +-1 std or +-1 standard error. */
  band: BandKind;
  /** Draw each group's member runs too (thin), not only the mean and band. */
  members: boolean;
}

export interface ChartSlice {
  chart: ChartOptions;
  setChart(patch: Partial<ChartOptions>): void;
}

export interface SamplesSlice {
  samples: Record<string, SamplesMnist | SamplesCopy>;
  setSamples(runId: string, s: SamplesMnist | SamplesCopy): void;
  /** Classifiers: the latest evaluation's confusion matrix and examples, per run (not stored: a reload waits for the next evaluation). */
  classReports: Record<string, ClassReport>;
  setClassReport(runId: string, r: ClassReport): void;
}

export interface Notice {
  id: number;
  text: string;
}

export interface NoticeSlice {
  /** Every notice until dismissed (none is dropped). */
  notices: Notice[];
  notify(text: string): void;
  dismiss(id: number): void;
  dismissAll(): void;
}

export interface Question {
  id: number;
  text: string;
  confirm: string;
}

export interface StartSlice {
  /** A comparison is being checked and created: Train waits for it. */
  starting: boolean;
  setStarting(v: boolean): void;
  /** A question the page asks before starting (a step of many seconds); answered through the session. */
  question: Question | null;
  setQuestion(q: Question | null): void;
  /** A shared link the page was opened with, and what it got wrong (kept until dismissed). */
  link: { problems: string[] } | null;
  setLink(l: { problems: string[] } | null): void;
}

export interface ResultsOptions {
  /** Test-loss threshold for "steps and seconds to" (null: none). */
  threshold: number | null;
  /** Variant label the others are compared with (null: the first). */
  baseline: string | null;
  /** The comparison shown (null: the latest). */
  comparison: string | null;
}

export interface GroupSlice {
  /** Collapsed run-list groups by key. */
  collapsed: Record<string, boolean>;
  toggleGroup(key: string): void;
  results: ResultsOptions;
  setResults(patch: Partial<ResultsOptions>): void;
}

export type AppState = DeviceSlice & RunsSlice & FormSlice & ChartSlice & SamplesSlice & NoticeSlice & StartSlice & GroupSlice;
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
  patchRuns: (patches) =>
    set((s) => {
      const runs = { ...s.runs };
      for (const [id, p] of Object.entries(patches)) if (runs[id]) runs[id] = { ...runs[id]!, ...p };
      return { runs };
    }),
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
      const { [id]: _report, ...classReports } = s.classReports;
      const order = s.order.filter((x) => x !== id);
      return { runs, classReports, order, selectedRunId: s.selectedRunId === id ? (order[0] ?? null) : s.selectedRunId };
    }),
  selectRun: (selectedRunId) => set({ selectedRunId }),
});

/** The task-specific fields, back to the preset's values when the task changes. */
const TASK_FIELDS_UNSET = { maxLen: null, resolution: null, subset: null, classes: null, minLength: null, maxLength: null, maxDepth: null, minArgs: null, maxArgs: null } as const;

const formSlice: Slice<FormSlice> = (set) => ({
  form: defaultForm(),
  presets: null,
  datasets: {},
  setDatasetInfo: (name, info) => set((s) => ({ datasets: { ...s.datasets, [name]: info } })),
  setForm: (patch) => set((s) => ({ form: { ...s.form, ...patch } })),
  setTask: (task) =>
    set((s) => ({ form: { ...s.form, task, hypers: paperHypers(task), ...TASK_FIELDS_UNSET } })),
  setPresets: (presets) => set({ presets }),
});

const chartSlice: Slice<ChartSlice> = (set) => ({
  chart: { x: 'step', logY: false, smoothing: 0, band: 'minmax', members: false },
  setChart: (patch) => set((s) => ({ chart: { ...s.chart, ...patch } })),
});

const samplesSlice: Slice<SamplesSlice> = (set) => ({
  samples: {},
  setSamples: (runId, smp) => set((s) => ({ samples: { ...s.samples, [runId]: smp } })),
  classReports: {},
  setClassReport: (runId, r) => set((s) => ({ classReports: { ...s.classReports, [runId]: r } })),
});

let noticeId = 0;
const noticeSlice: Slice<NoticeSlice> = (set) => ({
  notices: [],
  notify: (text) => set((s) => ({ notices: [...s.notices, { id: ++noticeId, text }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  dismissAll: () => set({ notices: [] }),
});

const startSlice: Slice<StartSlice> = (set) => ({
  starting: false,
  setStarting: (starting) => set({ starting }),
  question: null,
  setQuestion: (question) => set({ question }),
  link: null,
  setLink: (link) => set({ link }),
});

const groupSlice: Slice<GroupSlice> = (set) => ({
  collapsed: {},
  toggleGroup: (key) => set((s) => ({ collapsed: { ...s.collapsed, [key]: !s.collapsed[key] } })),
  results: { threshold: null, baseline: null, comparison: null },
  setResults: (patch) => set((s) => ({ results: { ...s.results, ...patch } })),
});

export const useApp = create<AppState>()((...a) => ({
  ...deviceSlice(...a),
  ...runsSlice(...a),
  ...formSlice(...a),
  ...chartSlice(...a),
  ...samplesSlice(...a),
  ...noticeSlice(...a),
  ...startSlice(...a),
  ...groupSlice(...a),
}));

const initial = useApp.getState();

/** Back to the initial state (tests). */
export function resetApp(): void {
  useApp.setState(initial, true);
}

/** Stable colours (Tableau 10), one per variant group (or per run outside a group), kept across reloads. */
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
