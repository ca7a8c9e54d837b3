// One animation-frame scheduler for every chart: a chart with new data asks for an update, and each
// frame runs the stalest waiting update (one Plotly redraw a frame at most, the expensive part),
// each chart at most every MIN_INTERVAL_MS, and less often when its redraws are slow (a chart
// whose redraw took d ms waits DUTY x d ms), and only while it is on screen, so many runs training
// on a slow machine never fill the main thread with redraws.

export const MIN_INTERVAL_MS = 1000;
/** A chart waits this many times its last redraw's duration before the next. */
const DUTY = 25;

export interface FrameJob {
  run(): void;
  /** performance.now() of its last update. */
  last: number;
  waiting: boolean;
  /** Off screen: the update waits until it is visible again. */
  hidden: boolean;
  /** Milliseconds its last update took. */
  cost: number;
}

const jobs = new Set<FrameJob>();
let frame = 0;

export function newJob(run: () => void): FrameJob {
  return { run, last: -Infinity, waiting: false, hidden: false, cost: 0 };
}

/** Marks a job on or off screen (an IntersectionObserver's answer); a waiting update runs once visible. */
export function setVisible(job: FrameJob, visible: boolean): void {
  job.hidden = !visible;
  if (visible && job.waiting && !frame) frame = requestAnimationFrame(tick);
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
  const now = performance.now();
  let next: FrameJob | null = null;
  for (const j of jobs) if (j.waiting && !j.hidden && now - j.last >= Math.max(MIN_INTERVAL_MS, DUTY * j.cost) && (!next || j.last < next.last)) next = j;
  if (next) {
    next.waiting = false;
    jobs.delete(next);
    next.run();
    next.last = performance.now();
    next.cost = next.last - now;
  }
  if ([...jobs].some((j) => !j.hidden)) frame = requestAnimationFrame(tick);
}
