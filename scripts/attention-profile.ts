// Per-kernel profile of one causal attention forward + backward, linear beside momentum, on the
// attention benchmark's inputs (batch 1, 4 heads; src/bench/attention.ts), through profileStep
// (GPU timestamps where the device has them). Each kind is profiled twice and the second is
// printed (the first builds the pipelines and fills the pool), with momentum / linear per kernel.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
//     node --import tsx --import ./scripts/wgsl-register.mjs scripts/attention-profile.ts [N 1024] [D 32]
import { attentionInputs } from '../src/bench/attention.ts';
import { profileStep } from '../src/bench/profile.ts';
import { Gpu } from '../src/engine/gpu.ts';
import { positiveArgs } from './args.ts';

const [n, dim] = positiveArgs([['N', 1024], ['D', 32]]) as [number, number];
const heads = 4;
const gpu = await Gpu.open({ timestamps: true });
const inputs = attentionInputs(gpu, n, { heads, dim });
const ms: Record<string, Map<string, number>> = {};
console.log(`causal attention forward + backward, batch 1, heads ${heads}, N ${n}, D ${dim} (${gpu.description})`);
for (const round of [0, 1]) {
  for (const kind of ['linear', 'momentum'] as const) {
    const p = await profileStep(
      gpu,
      kind,
      () => {
        inputs.run(kind);
        gpu.flush();
      },
      { reps: 5 },
    );
    if (round === 0) continue;
    console.log(`${kind} (${p.method}): step ${p.stepMs.toFixed(1)} ms wall, kernels ${p.kernelMs.toFixed(1)} ms`);
    ms[kind] = new Map(p.rows.map((r) => [r.kernel, r.ms]));
  }
}
console.log('| kernel | linear ms | momentum ms | momentum / linear |\n|---|---|---|---|');
for (const [kernel, lin] of ms.linear!) {
  const mom = ms.momentum!.get(kernel);
  console.log(`| ${kernel} | ${lin.toFixed(2)} | ${mom?.toFixed(2) ?? '-'} | ${mom === undefined ? '-' : (mom / lin).toFixed(2)} |`);
}
inputs.dispose();
gpu.destroy();
