// A/B of the 'swiftshader' matmul kernels in one process: matmul_register (scalar loads) against
// what the plan picks (matmul_register_vec4 where the operands allow), alternating on the shapes of
// the bench model's training step, timed by the process's CPU time (steadier than wall time on a
// loaded machine). Prints each shape's median old/new time ratio and whether the bits agree.
//   node --import tsx --import ./scripts/wgsl-register.mjs scripts/matmul-ab.ts [iterations 3] [rounds 7]
import { shapeName, trainStepMatmuls } from '../src/bench/model.ts';
import { Gpu } from '../src/engine/gpu.ts';
import { encodeMatmul, planMatmul, type MatmulPlan } from '../src/engine/kernels/matmul.ts';
import { linearBlockGrid } from '../src/engine/kernels/matmul/plan.ts';
import { empty, fromArray } from '../src/engine/tensor.ts';
import { MATMUL } from '../src/engine/variants.ts';

const iterations = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 7);
const gpu = await Gpu.open();
const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));

async function cpuMs(run: () => void): Promise<number> {
  await gpu.sync();
  const t0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) run();
  await gpu.sync();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / iterations;
}

console.log(`backend ${gpu.backend}; ${iterations} products per timing, ${rounds} rounds`);
for (const s of trainStepMatmuls()) {
  const plan = planMatmul('matmul-ab', gpu, { batch: 1, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB, variant: 'swiftshader' });
  // The scalar kernel's launch: 4x4 blocks, so its own grid.
  const [wx, wy] = MATMUL.swiftshader.workgroup;
  const [gx, gy] = linearBlockGrid(gpu, s.m, s.n, 4, wx * wy);
  const scalar: MatmulPlan = {
    ...plan,
    launch: { ...plan.launch, entry: 'matmul_register', grid: [gx, gy, 1] },
  };
  const a = fromArray(gpu, fill(s.m * s.k), [s.m * s.k], 'ab.a');
  const b = fromArray(gpu, fill(s.k * s.n), [s.k * s.n], 'ab.b');
  const c = empty(gpu, [s.m * s.n], 'ab.c');
  const c2 = empty(gpu, [s.m * s.n], 'ab.c2');
  encodeMatmul(gpu, scalar, { a, b, c });
  encodeMatmul(gpu, plan, { a, b, c: c2 });
  const [x, y] = [await c.read(), await c2.read()];
  const same = x.every((v, i) => Object.is(v, y[i]));
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const old = await cpuMs(() => encodeMatmul(gpu, scalar, { a, b, c }));
    const now = await cpuMs(() => encodeMatmul(gpu, plan, { a, b, c }));
    ratios.push(old / now);
  }
  ratios.sort((p, q) => p - q);
  const r = ratios.map((v) => v.toFixed(2)).join(' ');
  console.log(`${shapeName(s)} ${s.role}: ${plan.launch.entry}, bits ${same ? 'equal' : 'DIFFER'}, old/new median ${ratios[rounds >> 1]!.toFixed(2)} [${r}]`);
  for (const t of [a, b, c, c2]) t.dispose();
}
process.exit(0);
