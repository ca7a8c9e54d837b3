// End to end: the built page in Debian's Chromium, headless, WebGPU on SwiftShader. Trains two
// tiny copy-task variants side by side, steers beta live, reloads, and checks the page that a
// browser without WebGPU gets. Screenshots of each state go to test-results/e2e/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_ARGS, DEFAULT_CHROMIUM, SWIFTSHADER_ARGS, serveStatic } from '../../src/cli/browser.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'test-results/e2e-dist');
const SHOTS = join(ROOT, 'test-results/e2e');
const CHROMIUM = DEFAULT_CHROMIUM;
const WEBGPU_ARGS = SWIFTSHADER_ARGS;

let server: Server;
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

const LINEAR = 'linear · copy tiny · seed 1';
const MOMENTUM = 'momentum · copy tiny · seed 1';

describe('playground in Chromium (WebGPU on SwiftShader)', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the e2e tests need Debian's chromium (npm test runs scripts/setup.mjs, which installs it as root)`);
    }
    mkdirSync(SHOTS, { recursive: true });
    execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', DIST, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    server = await serveStatic(DIST);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(null)));
  });

  it('trains two variants, steers beta live, and keeps the runs over a reload', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_ARGS, ...WEBGPU_ARGS] });
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
