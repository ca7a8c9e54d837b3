// What every e2e file needs first: Debian's Chromium present (or a loud failure saying how to get
// it), the site built by `vite build` (a production build) into the file's own folder (vitest runs e2e files in
// parallel), and a static server for it on loopback.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DEFAULT_CHROMIUM, serveStatic } from '../../src/cli/browser.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface Site {
  server: Server;
  /** http://127.0.0.1:PORT/ */
  base: string;
}

/** Builds the site into `dist` and serves it; throws first when Chromium is missing. */
export async function buildAndServe(dist: string): Promise<Site> {
  if (!existsSync(DEFAULT_CHROMIUM)) {
    throw new Error(`${DEFAULT_CHROMIUM} is missing: the e2e tests need Debian's chromium (npm test runs scripts/setup.mjs, which installs it as root)`);
  }
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    // vitest sets NODE_ENV=test, and vite builds a development bundle (React's development build,
    // several times slower) for any NODE_ENV but production: the e2e tests measure the site users get.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const server = await serveStatic(dist);
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Closes the server if it was started. */
export function closeSite(site: Site | undefined): Promise<unknown> {
  return new Promise((ok) => (site ? site.server.close(ok) : ok(null)));
}
