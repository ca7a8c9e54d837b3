// What compiling costs: one causal linear and one momentum attention forward + backward on a fresh
// device (every kernel compiled in the run, in the background), against the same calls once
// compiled, for each row body of the 'swiftshader' variant (pairs, quads; MomentumConfig.rows).
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
//     node --import tsx --import ./scripts/wgsl-register.mjs scripts/compile-time.ts [N 128] [D 16] [rounds 2]
import { benchData } from '../src/bench/attention.ts';
import { Gpu } from '../src/engine/gpu.ts';
import { positiveArgs } from './args.ts';
import { linearAttention, momentumAttention } from '../src/engine/ops/linearAttention.ts';
import { Tape, variable } from '../src/engine/tensor.ts';
import type { RowBody } from '../src/engine/kernels/linear/plan.ts';

const [n, dim, rounds] = positiveArgs([['N', 128], ['D', 16], ['rounds', 2]]) as [number, number, number];
const heads = 4;
const batch = 8;

async function once(rows: RowBody): Promise<{ first: number; second: number }> {
  const gpu = await Gpu.open();
  try {
    const shape = [batch, heads, n, dim];
    const size = batch * heads * n * dim;
    const [q, k, v, dOut] = [1, 2, 3, 4].map((s, i) => variable(gpu, benchData(size, s), shape, 'qkvd'[i]!));
    const run = async () => {
      const t0 = performance.now();
      for (const kind of ['linear', 'momentum'] as const) {
        const tape = new Tape(gpu);
        const out =
          kind === 'linear'
            ? linearAttention(tape, q!, k!, v!, { causal: true, variant: 'swiftshader', rows })
            : momentumAttention(tape, q!, k!, v!, { causal: true, beta: 0.6, gamma: 0.9, variant: 'swiftshader', rows });
        tape.backward(out, dOut!);
        tape.dispose([q!, k!, v!]);
      }
      await gpu.sync();
      return performance.now() - t0;
    };
    const first = await run();
    const second = await run();
    return { first, second };
  } finally {
    gpu.destroy();
  }
}

console.log(`causal linear + momentum attention forward + backward, B ${batch} H ${heads} N ${n} D ${dim}, 'swiftshader' variant`);
console.log('| round | body | first call, ms (compiles) | compiled, ms | compile cost, ms |\n|---|---|---|---|---|');
for (let r = 1; r <= rounds; r++) {
  for (const rows of (r % 2 ? ['pairs', 'quads'] : ['quads', 'pairs']) as RowBody[]) {
    const t = await once(rows);
    console.log(`| ${r} | ${rows} | ${t.first.toFixed(0)} | ${t.second.toFixed(1)} | ${(t.first - t.second).toFixed(0)} |`);
  }
}
