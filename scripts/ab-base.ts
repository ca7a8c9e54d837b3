// The old side of the A/B scripts (attention-ab.ts, matmul-ab.ts, sample-ab.ts): the src and
// shaders of a commit, extracted once into .ab-base/<ref>/ (git- and lint-ignored; delete it
// after), so its modules can be imported next to the current ones in one process.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';

/** The directory holding `ref`'s src and shaders, relative to the repository root. */
export function abBase(ref: string): string {
  const dir = `.ab-base/${ref.replace(/[^\w.-]/g, '_')}`;
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    execSync(`git archive ${ref} src shaders | tar -x -C ${dir}`);
  }
  return dir;
}
