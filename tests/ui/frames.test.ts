// The charts' frame scheduler on a simulated clock: one update a frame, round-robin (a slow chart
// is not starved by cheap ones), each chart at most once per MIN_INTERVAL_MS, a pause of GAP x the
// last redraw's length before the next, no pause after an update that drew nothing, and nothing
// while off screen.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GAP, MIN_INTERVAL_MS, newJob, request, resetFrames, runOne, setVisible, type FrameJob } from '../../src/ui/frames.ts';

let clock = 0;

beforeEach(() => {
  clock = 0;
  vi.stubGlobal('requestAnimationFrame', () => 1);
  vi.stubGlobal('cancelAnimationFrame', () => undefined);
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
  resetFrames();
});

afterEach(() => {
  resetFrames();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/** A chart whose redraw takes `ms` (on the simulated clock) and always has new data. */
function chart(ms: number, log: { id: string; start: number; end: number }[], id: string, drew = true): FrameJob {
  const job: FrameJob = newJob(() => {
    const start = clock;
    clock += ms;
    log.push({ id, start, end: clock });
    request(job); // new metrics arrived meanwhile
    return drew;
  });
  return job;
}

/** Frames every 16 ms for `ms`, each running at most one update. */
function frames(ms: number): void {
  const end = clock + ms;
  while (clock < end) {
    runOne(clock);
    clock += 16;
  }
}

describe('chart frame scheduler', () => {
  it('takes the charts in turn, a slow one too, each at most once a second, with a pause after each redraw', () => {
    const log: { id: string; start: number; end: number }[] = [];
    const jobs = [chart(5, log, 'a'), chart(5, log, 'b'), chart(150, log, 'slow'), chart(5, log, 'c')];
    for (const j of jobs) request(j);
    frames(10_000);
    const count = (id: string) => log.filter((e) => e.id === id).length;
    // Round-robin: nobody starves; the slow chart redraws about as often as the cheap ones.
    for (const id of ['a', 'b', 'c', 'slow']) expect(count(id)).toBeGreaterThanOrEqual(7);
    for (const id of ['a', 'b', 'c']) expect(Math.abs(count(id) - count('slow'))).toBeLessThanOrEqual(1);
    for (let i = 1; i < log.length; i++) {
      const prev = log[i - 1]!;
      // One at a time, and the next only after GAP x the last one's length.
      expect(log[i]!.start - prev.end).toBeGreaterThanOrEqual(GAP * (prev.end - prev.start));
      const same = log.slice(0, i).filter((e) => e.id === log[i]!.id).at(-1);
      if (same) expect(log[i]!.start - same.end).toBeGreaterThanOrEqual(MIN_INTERVAL_MS);
    }
    // Redraws take at most 1 / (1 + GAP) of the time.
    const busy = log.reduce((s, e) => s + e.end - e.start, 0);
    expect(busy / clock).toBeLessThanOrEqual(1 / (1 + GAP) + 0.01);
  });

  it('keeps every chart moving when redraws are slower than the frame budget', () => {
    const log: { id: string; start: number; end: number }[] = [];
    const ids = ['train', 'test', 'accuracy', 'throughput', 'beta'];
    for (const id of ids) request(chart(300, log, id));
    frames(20_000);
    for (const id of ids) expect(log.filter((e) => e.id === id).length).toBeGreaterThanOrEqual(3);
  });

  it('costs no pause for an update that found nothing new to draw', () => {
    const log: { id: string; start: number; end: number }[] = [];
    request(chart(20, log, 'same', false));
    request(chart(1, log, 'other'));
    frames(40);
    // 'same' ran first (neither had run) for 20 ms and drew nothing; 'other' ran at the next frame
    // (after a redraw of 20 ms it would have waited GAP x 20 ms).
    expect(log.map((e) => e.id)).toEqual(['same', 'other']);
  });

  it('waits while a chart is off screen and updates it once it shows', () => {
    const log: { id: string; start: number; end: number }[] = [];
    const job = chart(5, log, 'hidden');
    setVisible(job, false);
    request(job);
    frames(3000);
    expect(log).toHaveLength(0);
    setVisible(job, true);
    frames(32);
    expect(log.map((e) => e.id)).toEqual(['hidden']);
  });
});
