// Where the twin's Python lives and which interpreter runs it: Debian's /usr/bin/python3 (with
// python3-torch) unless TWIN_PYTHON names another; the package directory goes on PYTHONPATH.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TWIN_PYTHON_DIR = fileURLToPath(new URL('../../python', import.meta.url));

export function twinPython(): string {
  return process.env.TWIN_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/** This process's environment with the twin's package first on PYTHONPATH, plus `extra`. */
export function twinEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, PYTHONPATH: [TWIN_PYTHON_DIR, process.env.PYTHONPATH].filter(Boolean).join(':') };
}

/** Runs python with the twin's package importable; output goes to this process's terminal. */
export function runTwinPython(args: string[]): number {
  const env = twinEnv();
  const r = spawnSync(twinPython(), args, { stdio: 'inherit', env });
  if (r.error) throw new Error(`cannot run ${twinPython()}: ${r.error.message} (install python3-torch; see README, "When a run outgrows the browser")`);
  return r.status ?? 1;
}
