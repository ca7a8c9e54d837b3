// Times every 'swiftshader' matmul kernel that can run each shape, forced by `entry`, in one
// process, the kernels alternating (7 rounds, median wall time of 5 products each), and says
// whether each gives the bits of the first: the output head's three products (11 columns, K = 11),
// an odd small shape and two of the bench step's vec4 shapes for comparison; then the column sums
// of the step's bias gradients, sum_rows against sum_rows_vec4 (planSumRows' vec4 forced).
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
//     node --import tsx --import ./scripts/wgsl-register.mjs scripts/matmul-entries.ts
import { Gpu } from '../src/engine/gpu.ts';
import { encodeMatmul, encodeSumRows, planMatmul, planSumRows, type MatmulEntry } from '../src/engine/kernels/matmul.ts';
import { empty, fromArray } from '../src/engine/tensor.ts';

const gpu = await Gpu.open();
const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));

async function wallMs(run: () => void, iterations = 5): Promise<number> {
  await gpu.sync();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) run();
  await gpu.sync();
  return (performance.now() - t0) / iterations;
}

const shapes = [
  { m: 1024, n: 11, k: 64, transA: false, transB: false, role: 'head forward' },
  { m: 1024, n: 64, k: 11, transA: false, transB: true, role: 'head dX' },
  { m: 64, n: 11, k: 1024, transA: true, transB: false, role: 'head dW' },
  { m: 37, n: 13, k: 24, transA: false, transB: false, role: 'odd' },
  { m: 1024, n: 192, k: 64, transA: false, transB: false, role: 'qkv forward' },
  { m: 64, n: 192, k: 1024, transA: true, transB: false, role: 'qkv dW' },
];
console.log(`${gpu.description}; ms per product (GFLOP/s), medians of 7 alternating rounds`);
for (const s of shapes) {
  const entries: MatmulEntry[] = ['matmul_register', 'matmul_register_gather'];
  const vec4 = s.k % 4 === 0 && (!s.transA || s.m % 4 === 0) && (s.transB || s.n % 4 === 0);
  if (vec4) entries.push('matmul_register_vec4');
  if (vec4 && gpu.subgroupSize === 4) entries.push('matmul_register_vec4_sg');
  const a = fromArray(gpu, fill(s.m * s.k), [s.m * s.k], 'a');
  const b = fromArray(gpu, fill(s.k * s.n), [s.k * s.n], 'b');
  const runs = entries.map((entry) => {
    const c = empty(gpu, [s.m * s.n], `c ${entry}`);
    const plan = planMatmul('matmul-entries', gpu, { batch: 1, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB, entry, variant: 'swiftshader' });
    return { entry, c, run: () => encodeMatmul(gpu, plan, { a, b, c }) };
  });
  for (const r of runs) r.run();
  const outs = await Promise.all(runs.map((r) => r.c.read()));
  const times: number[][] = runs.map(() => []);
  for (let round = 0; round < 7; round++) for (let i = 0; i < runs.length; i++) times[i]!.push(await wallMs(runs[i]!.run));
  const flops = 2 * s.m * s.n * s.k;
  const cells = runs.map((r, i) => {
    const ms = times[i]!.sort((p, q) => p - q)[3]!;
    const same = outs[i]!.every((v, j) => Object.is(v, outs[0]![j]));
    return `${r.entry} ${ms.toFixed(3)} (${(flops / ms / 1e6).toFixed(2)})${same ? '' : ' BITS DIFFER'}`;
  });
  console.log(`${s.role} ${s.m}x${s.n}x${s.k}: ${cells.join(' | ')}`);
  for (const t of [a, b, ...runs.map((r) => r.c)]) t.dispose();
}
for (const cols of [192, 128, 64]) {
  const rows = 1024;
  const x = fromArray(gpu, fill(rows * cols), [rows * cols], 'x');
  const runs = [false, true].map((vec4) => {
    const out = empty(gpu, [cols], `out ${vec4}`);
    const plan = planSumRows('matmul-entries', gpu, { rows, cols, vec4, variant: 'swiftshader' });
    return { entry: plan.entry, out, run: () => encodeSumRows(gpu, plan, x, out) };
  });
  for (const r of runs) r.run();
  const outs = await Promise.all(runs.map((r) => r.out.read()));
  const times: number[][] = runs.map(() => []);
  for (let round = 0; round < 7; round++) for (let i = 0; i < runs.length; i++) times[i]!.push(await wallMs(runs[i]!.run, 20));
  const cells = runs.map((r, i) => {
    const same = outs[i]!.every((v, j) => Object.is(v, outs[0]![j]));
    return `${r.entry} ${times[i]!.sort((p, q) => p - q)[3]!.toFixed(3)}${same ? '' : ' BITS DIFFER'}`;
  });
  console.log(`column sums [${rows}, ${cols}]: ${cells.join(' | ')}`);
  for (const t of [x, ...runs.map((r) => r.out)]) t.dispose();
}
process.exit(0);
