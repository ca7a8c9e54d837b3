// A/B of the 'swiftshader' matmul kernels in one process, alternating on the shapes of the bench
// model's training step (and its output head's gradients) or of a sampling step, timed by the
// process's CPU time (steadier than wall time on a loaded machine). Prints each shape's median
// old/new time ratio and whether the bits agree.
//   node --import tsx --import ./scripts/wgsl-register.mjs scripts/matmul-ab.ts [iterations 3] [rounds 7]
// Old: matmul_register (scalar loads, 4x4 blocks) by default; with MATMUL_AB_BASE=<git ref> (e.g.
// main) the plan and kernels of that commit, extracted into .ab-base/<ref>/ (git- and
// lint-ignored; delete it after) and imported next to the current ones.
import { writeFileSync, readFileSync } from 'node:fs';
import { shapeName, trainStepMatmuls } from '../src/bench/model.ts';
import { defaultSamplingOptions, samplingModel } from '../src/bench/sampling.ts';
import { Gpu } from '../src/engine/gpu.ts';
import { encodeMatmul, planMatmul, type MatmulPlan } from '../src/engine/kernels/matmul.ts';
import { linearBlockGrid } from '../src/engine/kernels/matmul/plan.ts';
import { empty, fromArray, type Tensor } from '../src/engine/tensor.ts';
import { MATMUL } from '../src/engine/variants.ts';
import { abBase } from './ab-base.ts';
import { positiveArgs } from './args.ts';

const [iterations, rounds] = positiveArgs([['iterations', 3], ['rounds', 7]]) as [number, number];
const baseRef = process.env.MATMUL_AB_BASE;
const only = process.env.MATMUL_AB_ONLY; // a substring of the role, e.g. 'dW'
const gpu = await Gpu.open();
const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));

type Encode = (t: { a: Tensor; b: Tensor; c: Tensor }) => void;
type Shape = ReturnType<typeof trainStepMatmuls>[number];

/** The old side: the scalar kernel, or planMatmul + encodeMatmul of commit `baseRef`. */
async function oldSide(): Promise<{ name: string; make: (s: Shape) => Encode }> {
  if (!baseRef) {
    return {
      name: 'matmul_register',
      make: (s) => {
        const plan = planMatmul('matmul-ab', gpu, { batch: 1, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB, variant: 'swiftshader' });
        const [wx, wy] = MATMUL.swiftshader.workgroup;
        const [gx, gy] = linearBlockGrid(gpu, s.m, s.n, 4, wx * wy);
        const scalar: MatmulPlan = { ...plan, finish: null, launch: { ...plan.launch, splits: 1, kChunk: s.k, entry: 'matmul_register', grid: [gx, gy, 1] } };
        return (t) => encodeMatmul(gpu, scalar, t);
      },
    };
  }
  const dir = abBase(baseRef);
  // Kernels are cached by label, entry and constants: the old ones need a label of their own.
  const f = `${dir}/src/engine/kernels/matmul/shaders.ts`;
  writeFileSync(f, readFileSync(f, 'utf8').replace("label: 'matmul'", "label: 'matmul-base'"));
  const old = (await import(`../${dir}/src/engine/kernels/matmul.ts`)) as typeof import('../src/engine/kernels/matmul.ts');
  return {
    name: baseRef,
    make: (s) => {
      const plan = old.planMatmul('matmul-ab', gpu, { batch: 1, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB, variant: 'swiftshader' });
      return (t) => old.encodeMatmul(gpu, plan, t);
    },
  };
}

/** Wall time of the last cpuMs timing (threads idle included). */
let wallMs = 0;

async function cpuMs(run: () => void): Promise<number> {
  await gpu.sync();
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < iterations; i++) run();
  await gpu.sync();
  const d = process.cpuUsage(t0);
  wallMs = (performance.now() - w0) / iterations;
  return (d.user + d.system) / 1000 / iterations;
}

const side = await oldSide();
console.log(`backend ${gpu.backend}; old: ${side.name}; ${iterations} products per timing, ${rounds} rounds`);
// The step's 9 benchmark shapes, then the head's two gradients (11 columns; K = 11), which the
// benchmark leaves out; with MATMUL_AB_SAMPLING=1 instead the products of one sampling step of the
// sampling benchmark's model (batch 8, one token each: 8 rows).
const head = trainStepMatmuls().find((s) => s.role === 'head forward')!;
const sampling = trainStepMatmuls(samplingModel(defaultSamplingOptions, { kind: 'momentum', beta: 0.6, gamma: 0.9 }), defaultSamplingOptions.batch, 1);
const shapes: Shape[] = process.env.MATMUL_AB_SAMPLING
  ? sampling.filter((s) => s.role.endsWith('forward'))
  : [
      ...trainStepMatmuls(),
      { m: head.m, n: head.k, k: head.n, transA: false, transB: true, role: 'head dX' },
      { m: head.k, n: head.n, k: head.m, transA: true, transB: false, role: 'head dW' },
    ];
for (const s of shapes.filter((s) => !only || s.role.includes(only))) {
  const plan = planMatmul('matmul-ab', gpu, { batch: 1, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB, variant: 'swiftshader' });
  const oldRun = side.make(s);
  const newRun: Encode = (t) => encodeMatmul(gpu, plan, t);
  const a = fromArray(gpu, fill(s.m * s.k), [s.m * s.k], 'ab.a');
  const b = fromArray(gpu, fill(s.k * s.n), [s.k * s.n], 'ab.b');
  const c = empty(gpu, [s.m * s.n], 'ab.c');
  const c2 = empty(gpu, [s.m * s.n], 'ab.c2');
  oldRun({ a, b, c });
  newRun({ a, b, c: c2 });
  const [x, y] = [await c.read(), await c2.read()];
  const same = x.every((v, i) => Object.is(v, y[i]));
  const ratios: number[] = [];
  let newMs = 0;
  let newWall = 0;
  for (let r = 0; r < rounds; r++) {
    const o = await cpuMs(() => oldRun({ a, b, c }));
    const n = await cpuMs(() => newRun({ a, b, c }));
    newMs += n / rounds;
    newWall += wallMs / rounds;
    ratios.push(o / n);
  }
  ratios.sort((p, q) => p - q);
  const r = ratios.map((v) => v.toFixed(2)).join(' ');
  const what = `${plan.launch.entry}${plan.launch.splits > 1 ? ` split ${plan.launch.splits}` : ''}`;
  const gflops = (2 * s.m * s.n * s.k) / (newMs * 1e6);
  const wall = (2 * s.m * s.n * s.k) / (newWall * 1e6);
  console.log(`${shapeName(s)} ${s.role}: ${what}, bits ${same ? 'equal' : 'DIFFER'}, new ${gflops.toFixed(2)} GFLOP/s of CPU time (${wall.toFixed(2)} of wall), old/new median ${ratios[rounds >> 1]!.toFixed(2)} [${r}]`);
  for (const t of [a, b, c, c2]) t.dispose();
}
process.exit(0);
