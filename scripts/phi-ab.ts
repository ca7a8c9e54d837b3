// phi_map read as floats against its vec4 build (phiFeatures forced each way) on the bench training step's q or k
// ([8, 4, 128, 16]), one process, alternating: 11 rounds of 20 calls each, wall time.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
//     node --import tsx --import ./scripts/wgsl-register.mjs scripts/phi-ab.ts
import { Gpu } from '../src/engine/gpu.ts';
import { phiFeatures } from '../src/engine/kernels/linear/scan.ts';
import { fromArray } from '../src/engine/tensor.ts';
const gpu = await Gpu.open();
const size = 8 * 4 * 128 * 16;
const x = fromArray(gpu, Float32Array.from({ length: size }, (_, i) => Math.sin(i)), [size], 'x');
async function ms(vec4: boolean, it = 20) {
  await gpu.sync(); const t0 = performance.now();
  for (let i = 0; i < it; i++) phiFeatures(gpu, x, 'p', vec4).dispose();
  await gpu.sync(); return (performance.now() - t0) / it;
}
await ms(false); await ms(true);
const r: number[] = []; const a: number[] = []; const b: number[] = [];
for (let i = 0; i < 11; i++) { const o = await ms(false); const n = await ms(true); a.push(o); b.push(n); r.push(o / n); }
const med = (x: number[]) => [...x].sort((p, q) => p - q)[5]!;
console.log(`phi_map ${med(a).toFixed(3)} ms, phi_map.vec4 ${med(b).toFixed(3)} ms, old/new median ${med(r).toFixed(2)} [${[...r].sort((p, q) => p - q).map((v) => v.toFixed(2)).join(' ')}]`);
process.exit(0);
