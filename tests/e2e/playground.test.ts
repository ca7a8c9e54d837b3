// End to end: the built page in Debian's Chromium, headless, WebGPU on SwiftShader. Trains two
// tiny copy-task variants side by side, steers beta live, reloads, and checks the page that a
// browser without WebGPU gets. Screenshots of each state go to test-results/e2e/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_ARGS, DEFAULT_CHROMIUM, SWIFTSHADER_ARGS } from '../../src/cli/browser.ts';
import { ROOT, buildAndServe, closeSite, type Site } from './site.ts';

const DIST = join(ROOT, 'test-results/e2e-dist');
const SHOTS = join(ROOT, 'test-results/e2e');
const CHROMIUM = DEFAULT_CHROMIUM;
const WEBGPU_ARGS = SWIFTSHADER_ARGS;

let site: Site | undefined;
let base = '';
let browser: Browser;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Points per trace in a chart, as the chart reports them. */
async function chartPoints(page: Page, id: string): Promise<number[]> {
  const v = await page.locator(`[data-chart="${id}"]`).getAttribute('data-points');
  return v ? v.split(',').map(Number) : [];
}

async function runStep(page: Page, name: string): Promise<number> {
  return Number(await page.locator(`li.run[aria-label="${name}"] [data-testid="run-step"]`).textContent());
}

interface FrameReport {
  fps: number;
  longest: number;
  longTasks: number;
  chartDraws: number;
  longestDraw: number;
  /** Milliseconds of chart redraws (their synchronous part) in the window. */
  drawMs: number;
  /** The charts redrawn in the window, each once. */
  drawnCharts: string[];
}

/**
 * Animation frames per second, the main thread's long tasks (PerformanceObserver 'longtask') and
 * the charts' redraws over `ms`, with the charts on screen (off screen they wait, by design).
 */
async function measureFrames(page: Page, ms: number): Promise<FrameReport> {
  await page.locator('section.charts').evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await page.waitForTimeout(1500); // the redraws that waited off screen
  return page.evaluate(
    (ms) =>
      new Promise<FrameReport>((done) => {
        const tasks: number[] = [];
        const obs = new PerformanceObserver((l) => l.getEntries().forEach((e) => tasks.push(e.duration)));
        obs.observe({ type: 'longtask', buffered: false });
        let frames = 0;
        const t0 = performance.now();
        const count = () => {
          frames++;
          if (performance.now() - t0 < ms) requestAnimationFrame(count);
          else {
            obs.disconnect();
            const draws = (performance.getEntriesByName('chart-draw') as PerformanceMeasure[]).filter((e) => e.startTime >= t0);
            done({
              fps: (frames * 1000) / (performance.now() - t0),
              longest: Math.max(0, ...tasks),
              longTasks: tasks.length,
              chartDraws: draws.length,
              longestDraw: Math.max(0, ...draws.map((e) => e.duration)),
              drawMs: draws.reduce((t, e) => t + e.duration, 0),
              drawnCharts: [...new Set(draws.map((e) => String(e.detail)))].sort(),
            });
          }
        };
        requestAnimationFrame(count);
      }),
    ms,
  );
}

const report = (label: string, p: FrameReport) =>
  `e2e: ${label}: ${p.fps.toFixed(1)} frames/s, ${p.longTasks} long tasks, longest ${p.longest.toFixed(0)} ms, ${p.chartDraws} chart redraws (${p.drawnCharts.join(', ')}), longest ${p.longestDraw.toFixed(0)} ms, ${p.drawMs.toFixed(0)} ms in all`;

/**
 * What the page promises while runs train: every chart that has new data keeps redrawing
 * (round-robin), redraws take at most a quarter of the main thread (frames.ts: after a redraw of
 * d ms, none for 3d ms; over a window that is (ms + 3 x the last redraw) / 4), the frame rate is
 * at least `fps` and no main-thread task is longer than `longest` ms. The charts draw on a canvas
 * (livePlot.ts) in a few milliseconds; what a long task is left is the page's rendering, which
 * stretches with the machine's load (the figures are printed above).
 */
function expectSmooth(p: FrameReport, ms: number, target: { fps: number; longest: number }): void {
  expect(p.drawnCharts).toEqual(expect.arrayContaining(['throughput', 'train-loss']));
  expect(p.drawMs).toBeLessThanOrEqual((ms + 3 * p.longestDraw) / 4 + 50);
  expect(p.longestDraw).toBeLessThan(50);
  expect(p.fps).toBeGreaterThanOrEqual(target.fps);
  expect(p.longest).toBeLessThanOrEqual(target.longest);
}

/** The targets: 50 frames/s, no task over 50 ms. */
const SMOOTH = { fps: 50, longest: 50 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}
/**
 * Fifteen runs are held to the same targets as three (the issue's): before the run rows stopped
 * re-rendering on every step-counter update, CI measured 56.8-60 frames/s and longest tasks of 0-69
 * ms there (a garbage collection or the page's rendering, stretched by the SwiftShader threads).
 */
const FIFTEEN = SMOOTH;

const LINEAR = 'linear · copy tiny · seed 1';
const MOMENTUM = 'momentum · copy tiny · seed 1';

describe('playground in Chromium (WebGPU on SwiftShader)', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    site = await buildAndServe(DIST);
    base = site.base;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_ARGS, ...WEBGPU_ARGS] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await closeSite(site);
  });

  it('trains two variants, steers beta live, and keeps the runs over a reload', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await expect.poll(() => page.locator('.device').textContent(), { timeout: 60_000 }).toMatch(/Training on/);

    // A tiny copy task: L = 16, one layer of 2 heads x 8, batch 4; linear against momentum.
    await page.getByLabel('Softmax', { exact: true }).uncheck();
    await page.getByLabel('Sequence length').fill('16');
    await page.getByLabel('Layers', { exact: true }).fill('1');
    await page.getByLabel('Heads', { exact: true }).fill('2');
    await page.getByLabel('Head dim').fill('8');
    await page.getByLabel('Feed-forward width').fill('32');
    await page.getByLabel('Batch', { exact: true }).fill('4');
    await page.getByLabel('Steps', { exact: true }).fill('5000');
    await page.getByRole('button', { name: 'Train 2 variants' }).click();

    await expect.poll(() => chartPoints(page, 'train-loss'), { timeout: 90_000, interval: 500 }).toEqual([expect.any(Number), expect.any(Number)]);
    await expect.poll(async () => (await chartPoints(page, 'train-loss')).every((n) => n >= 3), { timeout: 90_000, interval: 500 }).toBe(true);
    await shot(page, '1-two-runs-training');

    // Move beta on the momentum run: it takes effect at the next step and the run goes on.
    await page.getByLabel('Run to steer').selectOption({ label: MOMENTUM });
    const beta = page.getByLabel('Live β (attention momentum)');
    await beta.fill('0.5');
    const before = await runStep(page, MOMENTUM);
    await expect
      .poll(
        () =>
          page.evaluate(() => {
            const runs = (globalThis as { __playground?: { store: { getState(): { runs: Record<string, { config: { variant: string; model: { attention: { beta?: number } } } }> } } } }).__playground!.store.getState().runs;
            return Object.values(runs).find((r) => r.config.variant === 'momentum')?.config.model.attention.beta;
          }),
        { timeout: 60_000 },
      )
      .toBe(0.5);
    await expect.poll(() => runStep(page, MOMENTUM), { timeout: 60_000 }).toBeGreaterThan(before + 2);
    await page.getByRole('img', { name: /Momentum weights for beta 0\.50/ }).waitFor({ timeout: 10_000 });
    // The slider cannot go to beta >= 1.
    expect(await beta.getAttribute('max')).toBe('0.99');
    await page.waitForTimeout(2500); // more points, and past the metrics flush interval
    await shot(page, '2-beta-moved');

    // Samples: the model's greedy copies of held-out sequences, through the recurrent steps.
    await page.getByRole('button', { name: /^Show copy outputs/ }).click();
    const table = page.getByRole('table', { name: /greedy output on the copied half/ });
    await table.waitFor({ timeout: 60_000 });
    expect(await table.locator('tr.output').count()).toBe(4);
    expect(await table.locator('td.ok, td.wrong').count()).toBeGreaterThan(0);
    await shot(page, '2b-copy-samples');

    // Reload: both runs are listed again (from IndexedDB), paused, with their curves.
    await page.reload();
    await expect.poll(() => page.locator('li.run').count(), { timeout: 30_000 }).toBe(2);
    await page.locator(`li.run[aria-label="${LINEAR}"]`).waitFor();
    expect(await page.locator(`li.run[aria-label="${MOMENTUM}"]`).getAttribute('data-state')).toBe('paused');
    await expect.poll(async () => (await chartPoints(page, 'train-loss')).every((n) => n > 0), { timeout: 30_000 }).toBe(true);
    await page.getByRole('button', { name: `Resume ${MOMENTUM}` }).waitFor({ timeout: 10_000 });
    await shot(page, '3-after-reload');
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);

  it('keeps bad values as typed and marked, reads bad links field by field, and names rejected runs once', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // A link with values past every limit and an unknown preset: each named, each kept in its field.
    const link = (cfg: unknown) => `${base}#config=${Buffer.from(JSON.stringify(cfg)).toString('base64url')}`;
    await page.goto(link({ task: 'copy', preset: 'nonexistent', layers: 1e12, lr: 1e308, steps: 1e15, hypers: { beta: 1.5, gamma: -2, delta: 5 } }));
    await expect.poll(() => page.locator('.device').textContent(), { timeout: 60_000 }).toMatch(/Training on/);
    const report = page.getByRole('alert', { name: 'Shared link problems' });
    await report.waitFor();
    const text = (await report.textContent()) ?? '';
    for (const want of [/unknown preset 'nonexistent'/, /Layers 1000000000000 is over the allowed range 1\.\.48/, /Learning rate 1e\+308 is over/, /Steps 1000000000000000 is over/, /β 1\.5 is over the allowed range \[0, 0\.99\]/, /γ -2 is below/, /δ 5 is over/]) {
      expect(text).toMatch(want);
    }
    expect(await page.getByLabel('Layers', { exact: true }).inputValue()).toBe('1000000000000');
    expect(await page.getByLabel('β (attention momentum) value').inputValue()).toBe('1.5');
    expect(await page.getByLabel('Preset').inputValue()).toBe('nonexistent');
    const train = page.getByRole('button', { name: /^Train/ });
    expect(await train.isDisabled()).toBe(true);
    expect(await page.getByTestId('train-blocker').textContent()).toMatch(/^Train is disabled: .*Layers 1000000000000 is over/);
    await shot(page, '5-bad-link');

    // A link whose configuration is null, and one that is damaged: said so, defaults kept.
    await page.goto(link(null));
    await page.reload();
    await expect.poll(async () => (await page.getByRole('alert', { name: 'Shared link problems' }).textContent()) ?? '', { timeout: 30_000 }).toMatch(/is null, not an object/);
    await page.goto(`${base}#config=%%%`);
    await page.reload();
    await expect.poll(async () => (await page.getByRole('alert', { name: 'Shared link problems' }).textContent()) ?? '', { timeout: 30_000 }).toMatch(/damaged/);

    // Typed values: kept as typed, marked with the range; Train says why it is disabled.
    await page.goto(base);
    await page.reload();
    await expect.poll(() => page.locator('.device').textContent(), { timeout: 60_000 }).toMatch(/Training on/);
    const batch = page.getByLabel('Batch', { exact: true });
    await batch.fill('-3');
    expect(await batch.inputValue()).toBe('-3');
    expect(await batch.getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Sequence length').fill('100000');
    expect(await page.getByTestId('train-blocker').textContent()).toMatch(/Batch -3 is below the allowed range 1\.\.4096.*Sequence length 100000 is over the allowed range 4\.\.4096/);
    expect(await page.getByRole('button', { name: /^Train/ }).isDisabled()).toBe(true);
    await shot(page, '6-invalid-fields');

    // Values the form allows but the model does not (an odd width for the concatenated position
    // code): the worker refuses each run before anything starts; one notice per run, naming it.
    await batch.fill('4');
    await page.getByLabel('Sequence length').fill('16');
    await page.getByLabel('Heads', { exact: true }).fill('3');
    await page.getByLabel('Head dim').fill('3');
    await page.getByRole('button', { name: 'Train 3 variants' }).click();
    await expect.poll(() => page.locator('.notice').count(), { timeout: 30_000 }).toBe(3);
    await page.waitForTimeout(1500); // no follow-up notices from runs that never started
    const notices = await page.locator('.notice-text').allTextContents();
    expect(notices).toHaveLength(3);
    for (const v of ['softmax', 'linear', 'momentum']) expect(notices.filter((n) => n.startsWith(`${v} · copy tiny · seed 1: `) && /even model width/.test(n))).toHaveLength(1);
    expect(await page.locator('li.run').count()).toBe(0);
    await shot(page, '7-rejected-runs');
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('trains seed groups with bands and a results table, stays smooth, survives a lost device, and names uploads apart', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await expect.poll(() => page.locator('.device').textContent(), { timeout: 60_000 }).toMatch(/Training on/);
    const tiny = async (steps: string) => {
      await page.getByLabel('Sequence length').fill('16');
      await page.getByLabel('Layers', { exact: true }).fill('1');
      await page.getByLabel('Heads', { exact: true }).fill('2');
      await page.getByLabel('Head dim').fill('8');
      await page.getByLabel('Feed-forward width').fill('32');
      await page.getByLabel('Batch', { exact: true }).fill('4');
      await page.getByLabel('Steps', { exact: true }).fill(steps);
    };
    // Two variants x two seeds, 30 steps: a double click on Train starts them once.
    await page.getByLabel('Softmax', { exact: true }).uncheck();
    await tiny('30');
    await page.getByLabel('Seeds', { exact: true }).fill('1, 2');
    await page.getByRole('button', { name: 'Train 2 variants x 2 seeds (4 runs)' }).dblclick();
    await expect.poll(() => page.locator('li.run').count(), { timeout: 60_000 }).toBe(4);
    await expect.poll(() => page.locator('li.run[data-state="finished"]').count(), { timeout: 150_000, interval: 1000 }).toBe(4);
    expect(await page.locator('li.run').count()).toBe(4);
    expect(await page.locator('li.run-group').count()).toBe(2);
    // Each variant is one mean trace with its band over the two seeds.
    await expect.poll(async () => (await page.locator('[data-chart="train-loss"]').getAttribute('data-bands')) ?? '', { timeout: 10_000 }).toMatch(/^linear:2:\d+,momentum:2:\d+$/);
    // One evaluation per run (the last step): a single point per group, drawn with a marker.
    await expect.poll(() => chartPoints(page, 'test-loss'), { timeout: 10_000 }).toEqual([1, 1]);
    const table = page.getByRole('table', { name: /^Results: copy, 2 variants x 2 seeds/ });
    await table.waitFor({ timeout: 10_000 });
    const momentumRow = table.locator('tr[data-variant="momentum"]');
    expect(await momentumRow.locator('td[data-metric="testLoss"]').textContent()).toMatch(/\(n = 2\).*Δ vs linear: .*\[.*\], better on [0-2] of 2 seeds/);
    expect(await table.locator('tr[data-variant="linear"]').textContent()).toMatch(/\(baseline\)/);
    await page.getByLabel('Show member runs').check();
    await page.getByLabel('Seed band').selectOption('se');
    // The curves' hover readout names the mean under the cursor with its band, and the legend hides a group.
    const lossPlot = page.locator('[data-chart="train-loss"]');
    await lossPlot.locator('canvas').hover({ position: { x: 300, y: 120 } });
    await expect.poll(async () => (await lossPlot.locator('.plot-tip').isVisible()) && (await lossPlot.locator('.plot-tip').textContent()), { timeout: 10_000 }).toMatch(/^step \d+.*mean of 2, ±1 s\.e\.\): [-\d.e]+ \[[-\d.e]+, [-\d.e]+\]/);
    const legendEntry = lossPlot.getByRole('button', { name: 'linear (mean of 2, ±1 s.e.)' });
    await legendEntry.click();
    expect(await lossPlot.getByRole('button', { name: 'linear (mean of 2, ±1 s.e.)' }).getAttribute('aria-pressed')).toBe('false');
    await shot(page, '8-seed-groups');
    await lossPlot.getByRole('button', { name: 'linear (mean of 2, ±1 s.e.)' }).click();

    // A checkpoint uploaded next to its original becomes a run with a name of its own.
    const original = 'momentum · copy tiny · seed 1';
    const bytes = await page.evaluate(async (name) => {
      const pg = (globalThis as { __playground?: { session: { checkpointBytes(id: string): Promise<{ bytes: Uint8Array } | null> }; store: { getState(): { runs: Record<string, { id: string; name: string }> } } } }).__playground!;
      const run = Object.values(pg.store.getState().runs).find((r) => r.name === name)!;
      const ck = await pg.session.checkpointBytes(run.id);
      return Array.from(ck!.bytes);
    }, original);
    await page.locator('#upload-checkpoint').setInputFiles({ name: 'momentum.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.locator(`li.run[aria-label="${original} (uploaded)"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator(`li.run[aria-label="${original}"]`).count()).toBe(1);
    // Exports carry each run's id.
    const csv = await page.evaluate(() => {
      const pg = (globalThis as { __playground?: { csv(): string } }).__playground!;
      return pg.csv();
    });
    expect(csv.split('\n')[0]).toMatch(/^run_id,run,variant,seed,group,step/);
    await page.getByRole('button', { name: `Remove ${original} (uploaded)` }).click();

    // Three runs training: frames per second and long main-thread tasks, measured (beside the idle page).
    const idle = await measureFrames(page, 3000);
    await page.getByLabel('Softmax', { exact: true }).check();
    await page.getByLabel('Seeds', { exact: true }).fill('1'); // a count: seed 1
    await tiny('100000');
    await page.getByRole('button', { name: 'Train 3 variants' }).click();
    await expect.poll(async () => (await chartPoints(page, 'train-loss')).length, { timeout: 60_000 }).toBe(5);
    await expect.poll(() => page.locator('li.run[data-state="running"]').count(), { timeout: 60_000 }).toBe(3);
    await page.waitForTimeout(3000);
    const perf = await measureFrames(page, 5000);
    const perf2 = await measureFrames(page, 5000);
    const perf3 = await measureFrames(page, 5000);
    console.log(`${report('three runs training', perf)} (idle page: ${idle.fps.toFixed(1)} frames/s, longest ${idle.longest.toFixed(0)} ms)`);
    console.log(report('three runs training, again', perf2));
    console.log(report('three runs training, a third time', perf3));
    writeFileSync(join(SHOTS, 'perf.json'), JSON.stringify({ training: [perf, perf2, perf3], idle }));
    // The targets hold in the median window; a single task the machine's load stretched (a garbage
    // collection, the page's rendering: 54 ms once at load 7) may pass 50 ms in one window, never 100.
    for (const p of [perf, perf2, perf3]) expectSmooth(p, 5000, { fps: SMOOTH.fps, longest: 2 * SMOOTH.longest });
    expect(median([perf, perf2, perf3].map((p) => p.longest))).toBeLessThanOrEqual(SMOOTH.longest);

    // A lost device (the worker's test hook): runs pause with the banner and come back from their checkpoints.
    const running = page.locator('li.run[data-state="running"]');
    // Each has a checkpoint to come back from first (taken every 10 s): on a fast machine the
    // measurements above can end before the first one.
    const checkpointed = () =>
      page.evaluate(() => {
        type Run = { state: string; checkpointStep: number | null };
        const pg = (globalThis as { __playground?: { store: { getState(): { runs: Record<string, Run> } } } }).__playground!;
        return Object.values(pg.store.getState().runs).filter((r) => r.state === 'running' && (r.checkpointStep ?? 0) > 0).length;
      });
    await expect.poll(checkpointed, { timeout: 60_000 }).toBe(3);
    await page.evaluate(() => (globalThis as { __playground?: { session: { loseDevice(): void } } }).__playground!.session.loseDevice());
    await page.locator('.device.lost').waitFor({ timeout: 30_000 });
    expect(await running.count()).toBe(0);
    expect(await page.locator('li.run[data-state="device-lost"]').count()).toBe(3);
    await shot(page, '9-device-lost');
    await page.getByRole('button', { name: 'Reopen the device and restore the runs' }).click();
    await expect.poll(() => page.locator('.device').textContent(), { timeout: 60_000 }).toMatch(/Training on/);
    await expect.poll(() => page.locator('li.run[data-state="paused"]').count(), { timeout: 60_000 }).toBe(3);
    const softmax = 'softmax · copy tiny · seed 1';
    const at = await runStep(page, softmax);
    await page.getByRole('button', { name: `Resume ${softmax}` }).click();
    await expect.poll(() => runStep(page, softmax), { timeout: 60_000 }).toBeGreaterThan(at);

    // Fifteen runs (five variants x three seeds) training at once, measured the same way.
    for (const v of ['Softmax', 'Linear', 'Momentum', 'Momentum + momentum connection', 'Adaptive momentum']) await page.getByLabel(v, { exact: true }).check();
    await page.getByLabel('Seeds', { exact: true }).fill('4, 5, 6');
    await page.getByRole('button', { name: 'Train 5 variants x 3 seeds (15 runs)' }).click({ timeout: 60_000 });
    await expect.poll(() => page.locator('li.run[data-state="running"]').count(), { timeout: 120_000 }).toBeGreaterThanOrEqual(15);
    await page.waitForTimeout(3000);
    const fifteen = [await measureFrames(page, 5000), await measureFrames(page, 5000), await measureFrames(page, 5000)];
    fifteen.forEach((p, i) => console.log(report(`fifteen runs (+1) training, window ${i + 1}`, p)));
    writeFileSync(join(SHOTS, 'perf.json'), JSON.stringify({ training: [perf, perf2, perf3], idle, fifteen }));
    // With fifteen runs every chart still redraws with the newest data (round-robin, not starved);
    // the bounds as for three runs: FIFTEEN's in the median window, twice its task length in any.
    for (const p of fifteen) expectSmooth(p, 5000, { fps: FIFTEEN.fps, longest: 2 * FIFTEEN.longest });
    expect(median(fifteen.map((p) => p.longest))).toBeLessThanOrEqual(FIFTEEN.longest);
    await shot(page, '10-fifteen-runs');
    expect(errors).toEqual([]);
    await context.close();
  }, 360_000);

  it('explains what to do when the browser has no WebGPU', async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_ARGS, '--disable-webgpu'] });
    try {
      const page = await plain.newPage({ viewport: { width: 1000, height: 700 } });
      await page.goto(base);
      await page.getByRole('heading', { name: 'WebGPU is not available' }).waitFor({ timeout: 30_000 });
      expect((await page.getByTestId('no-webgpu-reason').textContent())?.length).toBeGreaterThan(10);
      await page.getByText('--enable-unsafe-webgpu', { exact: false }).first().waitFor();
      await shot(page, '4-no-webgpu');
    } finally {
      await plain.close();
    }
  }, 60_000);
});
