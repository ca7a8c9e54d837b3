// End to end: the attention inspector in Debian's Chromium (WebGPU on SwiftShader). Two tiny copy
// runs (softmax and momentum) train; the inspector shows both side by side on the same held-out
// sequence, refreshes while they train, and names the cell under the pointer. Screenshots go to
// test-results/e2e/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_ARGS, DEFAULT_CHROMIUM, SWIFTSHADER_ARGS } from '../../src/cli/browser.ts';
import { ROOT, buildAndServe, closeSite, type Site } from './site.ts';

// Its own build folder: vitest runs the e2e files in parallel.
const DIST = join(ROOT, 'test-results/e2e-inspector-dist');
const SHOTS = join(ROOT, 'test-results/e2e');

let site: Site | undefined;
let base = '';
let browser: Browser;

const SOFTMAX = 'softmax · copy tiny · seed 1';
const MOMENTUM = 'momentum · copy tiny · seed 1';

describe('attention inspector in Chromium (WebGPU on SwiftShader)', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    site = await buildAndServe(DIST);
    base = site.base;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await closeSite(site);
  });

  it('shows two runs side by side, refreshes while they train, and reads out a cell', async () => {
    browser = await chromium.launch({ executablePath: DEFAULT_CHROMIUM, headless: true, args: [...BASE_ARGS, ...SWIFTSHADER_ARGS] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await expect.poll(() => page.locator('.device').textContent(), { timeout: 60_000 }).toMatch(/Training on/);

    // L = 16, two layers of 2 heads x 8: a 2 x 2 grid of 16 x 16 maps per run.
    await page.getByLabel('Linear', { exact: true }).uncheck();
    await page.getByLabel('Sequence length').fill('16');
    await page.getByLabel('Layers', { exact: true }).fill('2');
    await page.getByLabel('Heads', { exact: true }).fill('2');
    await page.getByLabel('Head dim').fill('8');
    await page.getByLabel('Feed-forward width').fill('32');
    await page.getByLabel('Batch', { exact: true }).fill('4');
    await page.getByLabel('Steps', { exact: true }).fill('5000');
    await page.getByRole('button', { name: 'Train 2 variants' }).click();
    await page.locator(`li.run[aria-label="${MOMENTUM}"]`).waitFor({ timeout: 60_000 });
    await page.locator(`li.run[aria-label="${SOFTMAX}"]`).waitFor({ timeout: 60_000 });

    await page.getByRole('button', { name: 'Open the attention inspector' }).click();
    await page.getByLabel('Run to inspect').selectOption({ label: MOMENTUM });
    await page.getByLabel('Beside it').selectOption({ label: SOFTMAX });
    const left = page.getByRole('region', { name: `Attention of ${MOMENTUM}` });
    const right = page.getByRole('region', { name: `Attention of ${SOFTMAX}` });
    await expect.poll(() => left.getByRole('button', { name: /^Enlarge layer/ }).count(), { timeout: 60_000 }).toBe(4);
    await expect.poll(() => right.getByRole('button', { name: /^Enlarge layer/ }).count(), { timeout: 60_000 }).toBe(4);
    // Each head's share of weight on the position it should read is shown for the copy task.
    expect(await left.getByText(/% on the read position$/).count()).toBe(4);

    // It refreshes while training: the step it shows moves on.
    const stepOf = async () => Number((await left.locator('p.note').first().textContent())?.match(/step (\d+)/)?.[1] ?? NaN);
    const first = await stepOf();
    await expect.poll(stepOf, { timeout: 90_000, interval: 500 }).toBeGreaterThan(first);

    await left.getByRole('button', { name: /^Enlarge layer 2, head 1/ }).click();
    const map = left.getByRole('img', { name: /attention of layer 2, head 1/ });
    // The page is taller than the viewport (results, device panel): bring the map into view, since
    // mouse coordinates are the viewport's.
    await map.scrollIntoViewIfNeeded();
    const box = (await map.boundingBox())!;
    // Query 12, key 3 of 16.
    await page.mouse.move(box.x + (3.5 / 16) * box.width, box.y + (12.5 / 16) * box.height);
    await expect
      .poll(() => left.getByLabel('cell under the pointer').textContent(), { timeout: 10_000 })
      .toMatch(/^query position 12, token \d+ → key position 3, token \d+: weight [\d.e-]+; row sum [\d.]+/);
    await page.screenshot({ path: join(SHOTS, '5-inspector.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 240_000);
});
