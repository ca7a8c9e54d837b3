// Per-kernel profile of one causal attention forward + backward, linear beside momentum, on the
// attention benchmark's inputs (batch 1, 4 heads; src/bench/attention.ts), through profileStep
// (GPU timestamps where the device has them). Each kind is profiled twice and the second is
// printed (the first builds the pipelines and fills the pool), with momentum / linear per kernel.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
//     node --import tsx --import ./scripts/wgsl-register.mjs scripts/attention-profile.ts [N 1024] [D 32]
import { attentionSpec, benchData } from '../src/bench/attention.ts';
import { profileStep } from '../src/bench/profile.ts';
import { Gpu } from '../src/engine/gpu.ts';
import { attention } from '../src/engine/ops/attention.ts';
import { Tape, variable } from '../src/engine/tensor.ts';

const n = Number(process.argv[2] ?? 1024);
const dim = Number(process.argv[3] ?? 32);
const heads = 4;
for (const [name, x] of [['N', n], ['D', dim]] as const) {
  if (!(Number.isInteger(x) && x >= 1)) throw new Error(`${name} must be a positive integer; got ${process.argv[name === 'N' ? 2 : 3]}`);
}
const gpu = await Gpu.open({ timestamps: true });
const shape = [1, heads, n, dim];
const size = heads * n * dim;
const q = variable(gpu, benchData(size, 1), shape, 'q'); // [1, H, N, D]
const k = variable(gpu, benchData(size, 2), shape, 'k'); // [1, H, N, D]
const v = variable(gpu, benchData(size, 3), shape, 'v'); // [1, H, N, D]
const dOut = variable(gpu, benchData(size, 4), shape, 'dOut'); // [1, H, N, D]
const ms: Record<string, Map<string, number>> = {};
console.log(`causal attention forward + backward, batch 1, heads ${heads}, N ${n}, D ${dim} (${gpu.description})`);
for (const round of [0, 1]) {
  for (const kind of ['linear', 'momentum'] as const) {
    const p = await profileStep(
      gpu,
      kind,
      () => {
        const tape = new Tape(gpu);
        const out = attention(tape, attentionSpec(kind), q, k, v);
        tape.backward(out, dOut);
        tape.dispose([q, k, v]);
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
for (const t of [q, k, v, dOut]) t.dispose();
gpu.destroy();
