// One animation-frame scheduler for every chart: a chart with new data asks for an update, and each
// frame runs at most one update (one Plotly redraw, the expensive part; in a task of its own just
// after the frame, so the frame's rendering is not part of it), round-robin: the waiting
// visible chart whose last update is oldest goes first, so with many runs every chart keeps
// redrawing with the newest data instead of the cheap ones starving the dear ones. Each chart
// updates at most every MIN_INTERVAL_MS, only while it is on screen, and after a redraw of d ms the
// next one (of any chart) waits GAP x d ms, so redraws take at most 1 / (1 + GAP) of the main
// thread however slow the machine: many runs training never fill it with redraws. An update that
// finds nothing new to draw says so and costs no wait.

export const MIN_INTERVAL_MS = 1000;
/** After a redraw of d ms, no redraw for GAP x d ms. */
export const GAP = 3;

export interface FrameJob {
  /** Updates its chart; false when there was nothing new to draw. */
  run(): boolean | void;
  /** performance.now() of its last update. */
  last: number;
  waiting: boolean;
  /** Off screen: the update waits until it is visible again. */
  hidden: boolean;
  /** Milliseconds its last redraw took. */
  cost: number;
}

const jobs = new Set<FrameJob>();
let frame = 0;
/** No redraw before this performance.now() (the gap after the last one). */
let quietUntil = -Infinity;

export function newJob(run: () => boolean | void): FrameJob {
  return { run, last: -Infinity, waiting: false, hidden: false, cost: 0 };
}

/** Marks a job on or off screen (an IntersectionObserver's answer); a waiting update runs once visible. */
export function setVisible(job: FrameJob, visible: boolean): void {
  job.hidden = !visible;
  if (visible && job.waiting) schedule();
}

/** Ask for an update of this job at a coming frame. */
export function request(job: FrameJob): void {
  job.waiting = true;
  jobs.add(job);
  schedule();
}

export function cancel(job: FrameJob): void {
  jobs.delete(job);
  job.waiting = false;
}

function schedule(): void {
  if (!frame) frame = requestAnimationFrame(tick);
}

/** The job the next frame runs: waiting, visible, due, the stalest first (null: none yet). */
export function pick(now: number, candidates: Iterable<FrameJob> = jobs): FrameJob | null {
  if (now < quietUntil) return null;
  let next: FrameJob | null = null;
  for (const j of candidates) if (j.waiting && !j.hidden && now - j.last >= MIN_INTERVAL_MS && (!next || j.last < next.last)) next = j;
  return next;
}

/** Runs one due job (the frame's work); exported for tests. */
export function runOne(now: number): FrameJob | null {
  const next = pick(now);
  if (!next) return null;
  next.waiting = false;
  jobs.delete(next);
  const drew = next.run() !== false;
  const end = performance.now();
  next.last = end;
  next.cost = drew ? end - now : 0;
  if (drew) quietUntil = end + GAP * next.cost;
  return next;
}

/** Forgets every job and the gap (tests). */
export function resetFrames(): void {
  jobs.clear();
  quietUntil = -Infinity;
  if (frame) cancelAnimationFrame(frame);
  frame = 0;
}

/**
 * The update runs in a task of its own just after the frame (a message to itself), not in the
 * frame's callback: the browser then renders the redrawn chart in the next frame's task, so one
 * long task is not the redraw plus the rendering of a whole frame.
 */
let channel: MessageChannel | null = null;
let queued: (() => void) | null = null;

function afterFrame(f: () => void): void {
  if (typeof MessageChannel === 'undefined') {
    setTimeout(f, 0);
    return;
  }
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const g = queued;
      queued = null;
      g?.();
    };
    // Under Node (the component tests) an open port would keep the process alive.
    (channel.port1 as { unref?: () => void }).unref?.();
  }
  queued = f;
  channel.port2.postMessage(0);
}

function tick(): void {
  frame = 0;
  afterFrame(update);
}

function update(): void {
  runOne(performance.now());
  for (const j of jobs) {
    if (!j.hidden) {
      schedule();
      return;
    }
  }
}
