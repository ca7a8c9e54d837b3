// What the command-line tests share: a tool run as a user runs it (a child Node with the loaders
// the npm scripts use), a JSON-lines reader, and a temporary folder removed when its test ends
// (passed or failed), so the suite leaves nothing behind in the system's temporary directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

const NODE_ARGS = ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs'];

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs src/cli/<script>.ts with `args`, as `npm run <script> -- args` does. */
export function cli(script: string, args: string[]): CliResult {
  const r = spawnSync(process.execPath, [...NODE_ARGS, `src/cli/${script}.ts`, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** One JSON value per line. */
export function jsonl<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);
}

/** A fresh folder under the temporary directory, removed once the calling test has finished. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
