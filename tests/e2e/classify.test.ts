// End to end, classification: the built page in Debian's Chromium, headless, WebGPU on
// SwiftShader. One very small ListOps run (one layer, expressions of at most 16 tokens, 10 steps):
// the accuracy panel gets its test and training points, the confusion matrix counts every test
// expression once, the test examples read as `npm run data` writes them, and the run shows its
// tokens/s, and Evaluate now brings the matrix back. Then IDX labels that do not fit their images
// are refused when opened.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_ARGS, DEFAULT_CHROMIUM, SWIFTSHADER_ARGS } from '../../src/cli/browser.ts';
import { ROOT, buildAndServe, closeSite, type Site } from './site.ts';

const DIST = join(ROOT, 'test-results/e2e-classify-dist');
const SHOTS = join(ROOT, 'test-results/e2e');

let site: Site | undefined;
let browser: Browser;

/** An IDX file of unsigned bytes (magic 0x0000 08 <dims>, big-endian dims, the data). */
function idx(dims: number[], data: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + 4 * dims.length + data.length);
  out.writeUInt32BE(0x0800 | dims.length, 0);
  dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('classification in Chromium (WebGPU on SwiftShader)', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    site = await buildAndServe(DIST);
    browser = await chromium.launch({ executablePath: DEFAULT_CHROMIUM, headless: true, args: [...BASE_ARGS, ...SWIFTSHADER_ARGS] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await closeSite(site);
  });

  it('trains a tiny ListOps run: accuracy curves, a confusion matrix, test examples, tokens/s; refuses bad labels', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(site!.base);
    await expect.poll(() => page.locator('.device').textContent(), { timeout: 60_000 }).toMatch(/Training on/);

    await page.getByLabel('Task').selectOption('listops');
    expect(await page.getByLabel('Preset').inputValue()).toBe('tiny');
    await page.getByLabel('Linear', { exact: true }).uncheck();
    await page.getByLabel('Momentum', { exact: true }).uncheck();
    await page.getByLabel('Longest expression (tokens)').fill('16');
    await page.getByLabel('Layers', { exact: true }).fill('1');
    await page.getByLabel('Head dim').fill('8');
    await page.getByLabel('Feed-forward width').fill('16');
    await page.getByLabel('Batch', { exact: true }).fill('16');
    await page.getByLabel('Steps', { exact: true }).fill('10');
    await page.getByRole('button', { name: 'Train 1 variant' }).click();

    // The one evaluation, at the last step: 256 test expressions, each counted once.
    const matrix = page.getByTestId('confusion');
    await matrix.waitFor({ timeout: 120_000 });
    expect(await matrix.locator('caption').textContent()).toMatch(/^Confusion matrix at step 10: 256 test sequences, accuracy \d+\.\d% /);
    const rows = await matrix.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => Number(td.textContent))));
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.length === 11 && r.slice(0, 10).reduce((a, b) => a + b, 0) === r[10])).toBe(true);
    expect(rows.reduce((s, r) => s + r[10]!, 0)).toBe(256);

    const examples = page.getByTestId('class-example');
    expect(await examples.count()).toBe(6);
    for (const text of await examples.locator('code').allTextContents()) {
      expect(text).toMatch(/^\[(MAX|MIN|MED|SM)( (\d|\[(MAX|MIN|MED|SM)|\]))* \]$/);
      expect(text.split(' ').length).toBeLessThanOrEqual(16);
    }
    for (const c of [...(await examples.getByTestId('true-class').allTextContents()), ...(await examples.getByTestId('predicted-class').allTextContents())]) expect(c).toMatch(/^\d$/);

    // The accuracy panel: a test and a training trace, a point each (one evaluation).
    await expect.poll(() => page.locator('[data-chart="class-accuracy"]').getAttribute('data-points'), { timeout: 30_000 }).toBe('1,1');
    expect(await page.getByTestId('run-tps').textContent()).toMatch(/ · [\d,.]+ tokens\/s · up to 16 tokens a sequence$/);
    expect(await page.getByTestId('run-step').textContent()).toBe('10');
    await page.screenshot({ path: join(SHOTS, 'classify-listops.png'), fullPage: true });

    // Evaluate now (the worker's own path, as after a reload): drop the report, ask, and it returns.
    await page.evaluate(() => (globalThis as unknown as { __playground: { store: { setState(p: object): void } } }).__playground.store.setState({ classReports: {} }));
    await matrix.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Evaluate now (step 10)' }).click();
    await matrix.waitFor({ timeout: 60_000 });
    expect(await matrix.locator('caption').textContent()).toMatch(/^Confusion matrix at step 10: 256 test sequences/);

    // Image classification: labels that do not fit the images are refused when opened, with the reason.
    await page.getByLabel('Task').selectOption('images');
    const images = idx([4, 28, 28], new Uint8Array(4 * 28 * 28).fill(7));
    const files = page.locator('#idx-files');
    await files.setInputFiles([
      { name: 'imgs-idx3-ubyte', mimeType: 'application/octet-stream', buffer: images },
      { name: 'labels-idx1-ubyte', mimeType: 'application/octet-stream', buffer: idx([3], Uint8Array.from([1, 2, 3])) },
    ]);
    await expect.poll(() => page.getByTestId('idx-note').textContent(), { timeout: 10_000 }).toBe('Refused: imgs-idx3-ubyte with labels-idx1-ubyte: IDX dataset: 4 images but 3 labels');
    await files.setInputFiles([
      { name: 'imgs-idx3-ubyte', mimeType: 'application/octet-stream', buffer: images },
      { name: 'labels-idx1-ubyte', mimeType: 'application/octet-stream', buffer: idx([4], Uint8Array.from([1, 2, 12, 3])) },
    ]);
    await expect.poll(() => page.getByTestId('idx-note').textContent(), { timeout: 10_000 }).toMatch(/^Refused: labels-idx1-ubyte: image classification: label 12 of image 2 is outside the 10 classes 0\.\.9/);
    expect(await page.getByLabel('Images', { exact: true }).inputValue()).toBe('embedded');
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);
});
