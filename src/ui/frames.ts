// One animation-frame scheduler for every chart: a chart with new data asks for an update, and each
// frame runs the stalest waiting updates within a few milliseconds, each chart at most every
// MIN_INTERVAL_MS, so many runs training never make a frame long (Plotly redraws are the cost).

export const MIN_INTERVAL_MS = 250;
const FRAME_BUDGET_MS = 8;

export interface FrameJob {
  run(): void;
  /** performance.now() of its last update. */
  last: number;
  waiting: boolean;
}

const jobs = new Set<FrameJob>();
let frame = 0;

export function newJob(run: () => void): FrameJob {
  return { run, last: -Infinity, waiting: false };
}

/** Ask for an update of this job at a coming frame. */
export function request(job: FrameJob): void {
  job.waiting = true;
  jobs.add(job);
  if (!frame) frame = requestAnimationFrame(tick);
}

export function cancel(job: FrameJob): void {
  jobs.delete(job);
  job.waiting = false;
}

function tick(): void {
  frame = 0;
  const start = performance.now();
  const due = [...jobs].filter((j) => j.waiting && start - j.last >= MIN_INTERVAL_MS).sort((a, b) => a.last - b.last);
  for (const j of due) {
    if (performance.now() - start > FRAME_BUDGET_MS) break;
    j.waiting = false;
    jobs.delete(j);
    j.last = performance.now();
    j.run();
  }
  if (jobs.size > 0) frame = requestAnimationFrame(tick);
}
