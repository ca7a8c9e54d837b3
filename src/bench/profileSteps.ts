// The two steps `npm run bench -- --profile` and the page profile: one training step of the
// benchmark's model (forward, backward, Adam) and one sampling step of the MNIST model through the
// recurrent momentum state (src/model/sampler.ts).
import type { Gpu } from '../engine/gpu.ts';
import type { ModelConfig } from '../model/config.ts';
import { Sampler } from '../model/sampler.ts';
import { Transformer } from '../model/transformer.ts';
import { BENCH_BATCH, BENCH_MODEL, BENCH_SEQ } from './model.ts';
import { profileStep, type ProfileOptions, type StepProfile } from './profile.ts';
import { defaultSamplingOptions, samplingModel, type SamplingOptions } from './sampling.ts';
import { trainStepRunner } from './trainStep.ts';

export interface Profiles {
  train: StepProfile;
  sample: StepProfile;
}

export interface ProfileSteps extends ProfileOptions {
  /** The trained model and its batch (default: the benchmark's BENCH_MODEL, 8 x 128). */
  train?: { cfg: ModelConfig; batch: number; seq: number };
  /** The sampled model's options (default: the sampling benchmark's MNIST model, batch 8). */
  sample?: Partial<SamplingOptions>;
}

export async function profileTrainStep(gpu: Gpu, o: ProfileSteps = {}): Promise<StepProfile> {
  const t = o.train ?? { cfg: BENCH_MODEL, batch: BENCH_BATCH, seq: BENCH_SEQ };
  const runner = trainStepRunner(gpu, t.cfg, t.batch, t.seq);
  try {
    return await profileStep(gpu, `training step (batch ${t.batch}, seq ${t.seq}, ${t.cfg.layers} layers, ${t.cfg.attention.kind} attention)`, () => runner.step(), o);
  } finally {
    runner.dispose();
  }
}

export async function profileSampleStep(gpu: Gpu, o: ProfileSteps = {}): Promise<StepProfile> {
  const so = { ...defaultSamplingOptions, ...o.sample };
  const model = new Transformer(gpu, samplingModel(so, { kind: 'momentum', beta: so.beta, gamma: so.gamma }), 1);
  const sampler = new Sampler(model, so.batch);
  const tokens = new Uint32Array(so.batch); // [B] token 0 for every sequence
  try {
    const step = () => {
      if (sampler.length >= model.cfg.maxSeq) sampler.reset();
      sampler.step(tokens);
      model.gpu.flush();
    };
    return await profileStep(gpu, `sampling step (batch ${so.batch}, ${model.cfg.layers} layers, recurrent momentum state)`, step, o);
  } finally {
    sampler.dispose();
    model.destroy();
    gpu.pool.trim();
  }
}

export async function profileSteps(gpu: Gpu, o: ProfileSteps = {}): Promise<Profiles> {
  return { train: await profileTrainStep(gpu, o), sample: await profileSampleStep(gpu, o) };
}
