// `npm run bench:browser`: builds the benchmark page (src/bench/, vite.bench.config.ts), serves it
// on 127.0.0.1 and runs it in headless Chromium with WebGPU, where our engine and TensorFlow.js's
// WebGPU backend share the adapter. Prints the tables and writes the JSON report.
//
//   npm run bench:browser -- [--out FILE] [--gpu] [--max-n 8192] [--reps N] [--budget S]
//       [--sections matmul,train,attention,sampling] [--sample-seq 784] [--sample-batch 8]
//       [--heads 4] [--dim 32] [--matmul-iters 5] [--chromium PATH] [--timeout S] [--no-build] [--profile]
//
// Without --gpu, Chromium runs WebGPU on SwiftShader (its CPU Vulkan driver), with defaults small
// enough to finish in a few minutes; --gpu uses the machine's GPU with the full defaults.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import type { BenchState } from '../bench/page.ts';
import { SECTIONS, benchQuery, defaultBenchOptions, type BenchOptions, type Section } from '../bench/options.ts';
import { BASE_ARGS, DEFAULT_CHROMIUM, GPU_ARGS, SWIFTSHADER_ARGS, serveStatic } from './browser.ts';
import { UsageError, parse, runMain } from './common.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist/bench');
const CONFIG = join(ROOT, 'vite.bench.config.ts');
/** SwiftShader runs about 1 GFLOP/s: fewer repetitions and a tighter per-measurement budget. */
const SWIFTSHADER_DEFAULTS: Partial<BenchOptions> = { reps: 3, budget: 15, matmulIters: 4 };

const USAGE = `usage: npm run bench:browser -- [--out FILE] [--gpu] [--max-n N] [--reps N] [--pairs N] [--budget SECONDS]
    [--sections ${SECTIONS.join(',')}] [--sample-seq N] [--sample-batch N] [--sample-pairs N] [--heads N] [--dim N]
    [--matmul-iters N] [--chromium PATH] [--timeout SECONDS] [--no-build] [--profile]`;

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a positive number; got '${raw}'`);
  return v;
}

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), {
    out: { type: 'string' },
    gpu: { type: 'boolean' },
    'max-n': { type: 'string' },
    'min-n': { type: 'string' },
    reps: { type: 'string' },
    pairs: { type: 'string' },
    budget: { type: 'string' },
    sections: { type: 'string' },
    'sample-seq': { type: 'string' },
    'sample-batch': { type: 'string' },
    'sample-pairs': { type: 'string' },
    heads: { type: 'string' },
    dim: { type: 'string' },
    'matmul-iters': { type: 'string' },
    chromium: { type: 'string' },
    timeout: { type: 'string' },
    'no-build': { type: 'boolean' },
    profile: { type: 'boolean' },
  });
  const sections = v.sections?.split(',').filter(Boolean) as Section[] | undefined;
  for (const s of sections ?? []) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new UsageError(`unknown section '${s}' (use ${SECTIONS.join(', ')})`);
  }
  const given: Partial<BenchOptions> = {
    maxN: positive('max-n', v['max-n']),
    minN: positive('min-n', v['min-n']),
    reps: positive('reps', v.reps),
    pairs: positive('pairs', v.pairs),
    budget: positive('budget', v.budget),
    sampleSeq: positive('sample-seq', v['sample-seq']),
    sampleBatch: positive('sample-batch', v['sample-batch']),
    samplePairs: positive('sample-pairs', v['sample-pairs']),
    heads: positive('heads', v.heads),
    dim: positive('dim', v.dim),
    matmulIters: positive('matmul-iters', v['matmul-iters']),
    sections,
  };
  const options: Partial<BenchOptions> = { ...(v.gpu ? {} : SWIFTSHADER_DEFAULTS) };
  for (const [k, val] of Object.entries(given)) if (val !== undefined) (options as Record<string, unknown>)[k] = val;
  const timeoutS = positive('timeout', v.timeout) ?? 1800;
  const executablePath = v.chromium ?? process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} is missing: install Chromium (Debian: apt-get install -y chromium) or pass --chromium PATH`);
  }

  if (!v['no-build'] || !existsSync(join(DIST, 'bench.html'))) {
    process.stderr.write('building the benchmark page (vite.bench.config.ts)...\n');
    await build({ configFile: CONFIG, logLevel: 'warn' });
  }
  const server = await serveStatic(DIST);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench.html?${['run=1', v.profile ? 'profile=1' : '', benchQuery(options)].filter(Boolean).join('&')}`;
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...BASE_ARGS, ...(v.gpu ? GPU_ARGS : SWIFTSHADER_ARGS)],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('[bench] ')) {
        // The page prints the final tables itself; the runner prints them once, below.
        if (!text.startsWith('[bench] \n')) process.stderr.write(text.slice(8) + '\n');
      } else if (msg.type() === 'error' || msg.type() === 'warning') {
        process.stderr.write(`page ${msg.type()}: ${text}\n`);
      }
    });
    page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
    process.stderr.write(`running ${url} in ${executablePath} (${v.gpu ? 'GPU' : 'SwiftShader'})\n`);
    await page.goto(url);
    await page.waitForFunction(() => window.__bench !== undefined && window.__bench.state !== 'running', undefined, {
      timeout: timeoutS * 1000,
      polling: 1000,
    });
    const result = (await page.evaluate(() => window.__bench)) as BenchState;
    if (result.state === 'error') throw new Error(`the benchmark page failed: ${result.message}`);
    if (result.state !== 'done') throw new Error('the benchmark page ended without a result');
    const report = { ...result.report, options: { ...defaultBenchOptions, ...result.report.options, gpuFlag: Boolean(v.gpu) } };
    if (!v.gpu && report.device.backend !== 'swiftshader') {
      report.notes.push('run without --gpu, but the adapter is not SwiftShader');
    }
    console.log(result.text);
    if (v.out) {
      mkdirSync(dirname(resolve(v.out)), { recursive: true });
      writeFileSync(v.out, JSON.stringify(report, null, 2) + '\n');
      console.log(`\nwrote ${v.out}`);
    }
  } finally {
    await browser.close();
    await new Promise((ok) => server.close(ok));
  }
}

runMain(USAGE, main);
