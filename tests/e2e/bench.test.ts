// The benchmark page as part of the built site: `vite build` emits /bench.html beside the
// playground; in headless Chromium (WebGPU on SwiftShader) one press of its button runs a tiny
// attention section, shows the adapter's name, features and limits and the same tables as
// `npm run bench:browser`, and the JSON downloads with today's keys plus ceiling and adapter.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_ARGS, DEFAULT_CHROMIUM, SWIFTSHADER_ARGS } from '../../src/cli/browser.ts';
import type { BenchState } from '../../src/bench/page.ts';

import { ROOT, buildAndServe, closeSite, type Site } from './site.ts';

const DIST = join(ROOT, 'test-results/bench-dist');

let site: Site | undefined;
let base = '';
let browser: Browser;

describe('the benchmark page of the built site (Chromium, SwiftShader)', () => {
  beforeAll(async () => {
    site = await buildAndServe(DIST);
    base = site.base;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await closeSite(site);
  });

  it('is emitted by vite build beside the playground', () => {
    expect(existsSync(join(DIST, 'index.html'))).toBe(true);
    expect(readFileSync(join(DIST, 'bench.html'), 'utf8')).toContain('Run the benchmarks');
  });

  it('runs on one press, shows the adapter and the tables, and downloads the JSON', async () => {
    browser = await chromium.launch({ executablePath: DEFAULT_CHROMIUM, headless: true, args: [...BASE_ARGS, ...SWIFTSHADER_ARGS] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}bench.html?sections=attention&minN=16&maxN=32&heads=1&dim=4&reps=1`);
    // Nothing runs before the button is pressed.
    expect(await page.evaluate(() => window.__bench)).toBeUndefined();
    await page.getByRole('button', { name: 'Run the benchmarks' }).click();
    await page.waitForFunction(() => window.__bench !== undefined && window.__bench.state !== 'running', undefined, { timeout: 240_000, polling: 500 });
    const state = (await page.evaluate(() => window.__bench)) as BenchState;
    if (state.state === 'error') throw new Error(state.message);
    expect(state.state).toBe('done');
    const device = await page.locator('#device').textContent();
    expect(device).toMatch(/swiftshader/i);
    expect(device).toContain('features:');
    expect(device).toContain('maxStorageBufferBindingSize:');
    const result = (await page.locator('#result').textContent()) ?? '';
    expect(result).toContain('FMA ceiling:');
    expect(result).toContain('## 3. Attention forward + backward');
    if (state.state === 'done') expect(result).toBe(state.text);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the JSON report' }).click()]);
    const json = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    for (const key of ['device', 'options', 'matmul', 'trainStep', 'attention', 'sampling', 'ceiling', 'adapter', 'targets']) expect(json).toHaveProperty(key);
    expect(json.ceiling.fmaGflops).toBeGreaterThan(0);
    expect(json.attention.map((r: { seq: number }) => r.seq)).toEqual(expect.arrayContaining([16, 32]));
    expect(errors).toEqual([]);
  }, 300_000);
});
