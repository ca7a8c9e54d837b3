// A/B of one causal attention forward + backward (the attention benchmark's inputs, batch 1,
// 4 heads; src/bench/attention.ts) between this tree and a commit, in one process: the commit's
// src and shaders are extracted into .ab-base/<ref>/ (delete it after) and run on a device of
// their own (a second Gpu.open, so the two kernel caches never mix), the two sides alternating.
// Prints per kind the median old / new ratio of CPU time over `rounds` rounds of `iterations`.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json AB_BASE=<git ref> \
//     node --import tsx --import ./scripts/wgsl-register.mjs scripts/attention-ab.ts [N 1024] [D 16] [iterations 3] [rounds 9]
import { attentionInputs } from '../src/bench/attention.ts';
import { Gpu } from '../src/engine/gpu.ts';
import { abBase } from './ab-base.ts';
import { positiveArgs } from './args.ts';

const [n, dim, iterations, rounds] = positiveArgs([['N', 1024], ['D', 16], ['iterations', 3], ['rounds', 9]]) as [number, number, number, number];
const ref = process.env.AB_BASE;
if (!ref) throw new Error('AB_BASE=<git ref> names the old side');
const dir = abBase(ref);
const oldBench = (await import(`../${dir}/src/bench/attention.ts`)) as typeof import('../src/bench/attention.ts');
const OldGpu = ((await import(`../${dir}/src/engine/gpu.ts`)) as typeof import('../src/engine/gpu.ts')).Gpu;
const gpuNew = await Gpu.open();
const gpuOld = await OldGpu.open();
const heads = 4;
const sides = [
  { name: ref, gpu: gpuOld, inputs: oldBench.attentionInputs(gpuOld, n, { heads, dim }) },
  { name: 'this tree', gpu: gpuNew, inputs: attentionInputs(gpuNew, n, { heads, dim }) },
];

async function cpuMs(side: (typeof sides)[number], kind: 'linear' | 'momentum'): Promise<number> {
  await side.gpu.sync();
  const t0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    side.inputs.run(kind);
    await side.gpu.sync();
  }
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / iterations;
}

console.log(`causal attention forward + backward, heads ${heads}, N ${n}, D ${dim}; old ${ref}; ${iterations} per timing, ${rounds} rounds`);
for (const kind of ['linear', 'momentum'] as const) {
  for (const s of sides) await cpuMs(s, kind); // compile and fill the pools
  const ratios: number[] = [];
  const ms: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    const t = [0, 0];
    for (const i of order) t[i] = await cpuMs(sides[i]!, kind);
    ms[0]!.push(t[0]!);
    ms[1]!.push(t[1]!);
    ratios.push(t[0]! / t[1]!);
  }
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
  const sorted = [...ratios].sort((p, q) => p - q).map((v) => v.toFixed(2));
  console.log(`${kind}: old ${med(ms[0]!).toFixed(1)} ms, new ${med(ms[1]!).toFixed(1)} ms of CPU time (medians); old / new median ${med(ratios).toFixed(2)} [${sorted.join(' ')}]`);
}
process.exit(0);
