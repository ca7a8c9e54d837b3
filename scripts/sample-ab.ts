// A/B of a recurrent sampling step (the sampling benchmark's MNIST model, batch 8, one token per
// sequence through the momentum state; src/bench/sampling.ts) between this tree and a commit, in
// one process: each side builds its own model on a device of its own (the commit's src and
// shaders from .ab-base/<ref>/, scripts/ab-base.ts), the two alternating. Prints the median ms
// per step of each side and the median old / new ratio over `rounds` rounds of `steps` steps.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json AB_BASE=<git ref> \
//     node --import tsx --import ./scripts/wgsl-register.mjs scripts/sample-ab.ts [steps 60] [rounds 9]
import { median } from '../src/util/stats.ts';
import { abBase } from './ab-base.ts';
import { positiveArgs } from './args.ts';

const [steps, rounds] = positiveArgs([['steps', 60], ['rounds', 9]]) as [number, number];
const ref = process.env.AB_BASE;
if (!ref) throw new Error('AB_BASE=<git ref> names the old side');

/** Times `n` sampling steps (after 20 untimed ones) with the modules under `root`. */
async function side(root: string): Promise<(n: number) => Promise<number>> {
  const { Gpu } = (await import(`${root}/src/engine/gpu.ts`)) as typeof import('../src/engine/gpu.ts');
  const { Transformer } = (await import(`${root}/src/model/transformer.ts`)) as typeof import('../src/model/transformer.ts');
  const { Sampler } = (await import(`${root}/src/model/sampler.ts`)) as typeof import('../src/model/sampler.ts');
  const sm = (await import(`${root}/src/bench/sampling.ts`)) as typeof import('../src/bench/sampling.ts');
  const gpu = await Gpu.open();
  const so = sm.defaultSamplingOptions;
  const model = new Transformer(gpu, sm.samplingModel(so, { kind: 'momentum', beta: so.beta, gamma: so.gamma }), 1);
  const sampler = new Sampler(model, so.batch);
  const tokens = new Uint32Array(so.batch); // [B] token 0 for every sequence
  const run = async (n: number) => {
    await gpu.sync();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (sampler.length >= model.cfg.maxSeq) sampler.reset();
      sampler.step(tokens);
    }
    await gpu.sync();
    return (performance.now() - t0) / n;
  };
  await run(20);
  return run;
}

const old = await side(`../${abBase(ref)}`);
const cur = await side('..');
const ms: [number[], number[]] = [[], []];
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  const o = await old(steps);
  const n = await cur(steps);
  ms[0].push(o);
  ms[1].push(n);
  ratios.push(o / n);
}
const sorted = [...ratios].sort((x, y) => x - y).map((x) => x.toFixed(2));
console.log(`sampling step, ms: ${ref} ${median(ms[0]).toFixed(2)}, this tree ${median(ms[1]).toFixed(2)}; old / new median ${median(ratios).toFixed(2)} [${sorted.join(' ')}]`);
process.exit(0);
