// The layers of src/, enforced (README "Layout"; docs/ENGINE.md):
//
//   engine < model < train < worker < store < ui,   train < cli, bench,   util and tasks: neutral
//
// - Lower layers never import higher ones; src/util and src/tasks import no other layer (util
//   not even tasks), so every layer may import them.
// - src/ui and src/store never import src/engine (the page reaches the GPU through the worker).
// - Nothing in src/ imports src/engine/cpu: the CPU references are for tests only, so a bug in
//   shared code cannot hide from a GPU-vs-CPU test.
// - src/model uses the engine's differentiable ops (src/engine/ops, tensors, the device), never
//   its kernels (src/engine/kernels).
//
// Each rule is ESLint's no-restricted-imports over the import's path as written (relative, so a
// layer is matched by its folder name). tests/unit/lint.test.ts checks every rule on fixtures.
import tseslint from 'eslint-ts5';

/** Folders of src/ by layer, with what each may not import (folder names, or 'lib' for src/lib.ts). */
const FORBIDDEN = {
  engine: ['model', 'train', 'worker', 'cli', 'bench', 'store', 'ui', 'lib'],
  model: ['engine/kernels', 'engine/cpu', 'train', 'worker', 'cli', 'bench', 'store', 'ui', 'lib'],
  train: ['engine/cpu', 'worker', 'cli', 'bench', 'store', 'ui', 'lib'],
  worker: ['engine/cpu', 'cli', 'bench', 'store', 'ui', 'lib'],
  cli: ['engine/cpu', 'worker', 'store', 'ui', 'lib'],
  bench: ['engine/cpu', 'cli', 'worker', 'store', 'ui', 'lib'],
  store: ['engine', 'cli', 'bench', 'ui', 'lib'],
  ui: ['engine', 'cli', 'bench', 'lib'],
  tasks: ['engine', 'model', 'train', 'worker', 'cli', 'bench', 'store', 'ui', 'lib'],
  util: ['engine', 'model', 'train', 'worker', 'cli', 'bench', 'store', 'ui', 'lib', 'tasks'],
};

const WHY = {
  'engine/cpu': 'the CPU references in src/engine/cpu are for tests only',
  'engine/kernels': 'the model uses the engine\'s ops (src/engine/ops), not its kernels',
  engine: 'the page reaches the GPU only through the worker (src/worker)',
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** One no-restricted-imports pattern: an import path that reaches `target` (a folder of src/, or 'lib'). */
function pattern(from, target) {
  const path = target === 'lib' ? 'lib\\.ts$' : `${escape(target)}(/|$)`;
  const message = `src/${from} may not import src/${target === 'lib' ? 'lib.ts' : target}: ${WHY[target] ?? 'lower layers never import higher ones (eslint.config.js)'}.`;
  return { regex: `(^|/)${path}`, message };
}

/** Inside src/engine a path reaches src/engine/cpu as './cpu/' or '../cpu/'. */
const ENGINE_CPU = { regex: '^(\\./|(\\.\\./)+)cpu(/|$)', message: `src/engine may not import src/engine/cpu: ${WHY['engine/cpu']}.` };

function restrictions(layer) {
  const patterns = FORBIDDEN[layer].map((t) => pattern(layer, t));
  if (layer === 'engine') patterns.push(ENGINE_CPU);
  return ['error', { patterns }];
}


const layers = Object.keys(FORBIDDEN).map((layer) => ({
  files: [`src/${layer}/**/*.{ts,tsx}`],
  rules: { 'no-restricted-imports': restrictions(layer) },
}));

export default [
  { ignores: ['node_modules/', '**/node_modules/', 'dist/', 'test-results/', 'bench-results/', '.vite/', '.ab-base/', '.scratch/'] },
  {
    files: ['**/*.{ts,tsx,mts,cts}'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  ...layers,
  // The page's entry point belongs to the UI.
  { files: ['src/main.tsx'], rules: { 'no-restricted-imports': restrictions('ui') } },
  // The library entry point may use any of the engine but its CPU references.
  { files: ['src/lib.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [pattern('lib.ts', 'engine/cpu')] }] } },
];
