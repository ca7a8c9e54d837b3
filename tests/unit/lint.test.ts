// The layer rules of eslint.config.js, run through ESLint's API on small fixture files (text linted
// as if it lived at the given path), so a rule that stops matching fails here rather than going
// quiet.
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

/** The no-restricted-imports messages for `code` linted as the file at `path` (relative to the root). */
async function violations(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  const messages = result!.messages;
  const other = messages.filter((m) => m.ruleId !== 'no-restricted-imports');
  if (other.length > 0) throw new Error(`unexpected lint messages for ${path}: ${other.map((m) => m.message).join('; ')}`);
  return messages.map((m) => m.message);
}

const importOf = (from: string) => `import { x } from '${from}';\nexport const y = x;\n`;

describe('layer rules', () => {
  it.each([
    ['src/ui/Fixture.tsx', '../engine/gpu.ts', /src\/ui may not import src\/engine: the page reaches the GPU only through the worker/],
    ['src/store/fixture.ts', '../engine/ops/attention.ts', /src\/store may not import src\/engine/],
    ['src/main.tsx', './engine/tensor.ts', /src\/ui may not import src\/engine/],
    ['src/train/fixture.ts', '../engine/cpu/loss.ts', /src\/train may not import src\/engine\/cpu: the CPU references .* are for tests only/],
    ['src/cli/fixture.ts', '../engine/cpu/matmul.ts', /src\/cli may not import src\/engine\/cpu/],
    ['src/lib.ts', './engine/cpu/matmul.ts', /src\/lib.ts may not import src\/engine\/cpu/],
    ['src/engine/kernels/fixture.ts', '../cpu/loss.ts', /src\/engine may not import src\/engine\/cpu/],
    ['src/engine/fixture.ts', './cpu/optim.ts', /src\/engine may not import src\/engine\/cpu/],
    ['src/model/fixture.ts', '../engine/kernels/matmul.ts', /src\/model may not import src\/engine\/kernels: the model uses the engine's ops/],
    ['src/engine/ops/fixture.ts', '../../model/config.ts', /src\/engine may not import src\/model: lower layers never import higher ones/],
    ['src/model/fixture.ts', '../train/types.ts', /src\/model may not import src\/train/],
    ['src/train/fixture.ts', '../worker/protocol.ts', /src\/train may not import src\/worker/],
    ['src/worker/fixture.ts', '../store/store.ts', /src\/worker may not import src\/store/],
    ['src/bench/fixture.ts', '../cli/common.ts', /src\/bench may not import src\/cli/],
    ['src/store/fixture.ts', '../ui/App.tsx', /src\/store may not import src\/ui/],
    ['src/tasks/fixture.ts', '../engine/gpu.ts', /src\/tasks may not import src\/engine/],
    ['src/tasks/fixture.ts', '../model/config.ts', /src\/tasks may not import src\/model/],
    ['src/util/fixture.ts', '../tasks/mnist.ts', /src\/util may not import src\/tasks/],
    ['src/engine/fixture.ts', '../lib.ts', /src\/engine may not import src\/lib.ts/],
  ])('%s importing %s is an error', async (path, from, message) => {
    const found = await violations(path, importOf(from));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('catches type-only imports and re-exports too', async () => {
    expect(await violations('src/ui/fixture.ts', "import type { Tensor } from '../engine/tensor.ts';\nexport type T = Tensor;\n")).toHaveLength(1);
    expect(await violations('src/store/fixture.ts', "export { Gpu } from '../engine/gpu.ts';\n")).toHaveLength(1);
    expect(await violations('src/ui/fixture.ts', "export * from '../engine/gpu.ts';\n")).toHaveLength(1);
  });

  it.each([
    ['src/model/fixture.ts', '../engine/ops/matmul.ts'],
    ['src/model/fixture.ts', '../engine/tensor.ts'],
    ['src/train/fixture.ts', '../engine/kernels/linearAttention.ts'],
    ['src/train/fixture.ts', '../model/config.ts'],
    ['src/engine/ops/fixture.ts', '../kernels/matmul.ts'],
    ['src/engine/fixture.ts', '../util/random.ts'],
    ['src/ui/fixture.ts', '../store/store.ts'],
    ['src/store/fixture.ts', '../worker/protocol.ts'],
    ['src/cli/fixture.ts', '../bench/report.ts'],
    ['src/tasks/fixture.ts', '../util/crc32.ts'],
    ['tests/gpu/fixture.test.ts', '../../src/engine/cpu/loss.ts'],
  ])('%s importing %s is allowed', async (path, from) => {
    expect(await violations(path, importOf(from))).toEqual([]);
  });
});
