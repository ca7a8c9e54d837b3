// One full training step of BENCH_MODEL on our engine (forward, backward, Adam), timed the way the
// trainer runs it: steps encoded back to back, one submit each, a single wait at the end.
import type { Gpu } from '../engine/gpu.ts';
import { crossEntropy } from '../engine/ops/loss.ts';
import { Optimizer } from '../engine/optim.ts';
import { Tape, empty, fromArray } from '../engine/tensor.ts';
import type { ModelConfig } from '../model/config.ts';
import { Transformer } from '../model/transformer.ts';
import { BENCH_BATCH, BENCH_LR, BENCH_MODEL, BENCH_SEQ, benchBatch } from './model.ts';

export interface StepTiming {
  ms: number;
  /** Mean loss over the measured steps. */
  loss: number;
}

/** One training step of a model on a fixed batch, recorded and submitted by step(); never waits. */
export interface TrainStepRunner {
  /** Records one step (forward, backward, Adam) and submits it; the loss goes to `slot` when given. */
  step(slot?: number | null): void;
  /** Mean of the losses written to slots 0 .. count - 1. */
  meanLoss(count: number): Promise<number>;
  dispose(): void;
}

export function trainStepRunner(gpu: Gpu, cfg: ModelConfig = BENCH_MODEL, batch = BENCH_BATCH, seq = BENCH_SEQ, slots = 1): TrainStepRunner {
  const model = new Transformer(gpu, cfg, 1);
  const opt = new Optimizer(gpu, model.parameterList, { kind: 'adam', lr: BENCH_LR });
  const { ids, targets } = benchBatch(cfg, batch, seq);
  const idT = fromArray(gpu, ids, [batch, seq], 'bench.ids'); // u32 [B, N]
  const targetT = fromArray(gpu, targets, [batch * seq], 'bench.targets'); // u32 [B*N]
  const losses = empty(gpu, [Math.max(slots, 1)], 'bench.losses'); // [slots]
  return {
    step(slot = null) {
      const params = model.parameterList;
      const tape = new Tape(gpu);
      const { output } = model.forward(tape, idT, { train: true, dropoutSeed: 0 });
      const { loss } = crossEntropy(tape, output, targetT, null);
      tape.backward(loss);
      opt.step();
      if (slot !== null) gpu.copy({ buffer: loss.buffer }, { buffer: losses.buffer, offset: 4 * slot }, 4);
      tape.dispose(params);
      gpu.flush();
    },
    async meanLoss(count) {
      const values = await losses.read();
      return values.subarray(0, count).reduce((s, v) => s + v, 0) / count;
    },
    dispose() {
      losses.dispose();
      idT.dispose();
      targetT.dispose();
      opt.dispose();
      model.destroy();
      gpu.pool.trim();
    },
  };
}

/** Mean milliseconds per step over `reps` steps, after `warmup` steps that build every pipeline. */
export async function oursTrainStep(gpu: Gpu, reps: number, warmup = 2): Promise<StepTiming> {
  const runner = trainStepRunner(gpu, BENCH_MODEL, BENCH_BATCH, BENCH_SEQ, Math.max(reps, 1));
  try {
    for (let i = 0; i < warmup; i++) runner.step(null);
    await gpu.sync();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) runner.step(i);
    await gpu.sync();
    const ms = (performance.now() - t0) / reps;
    return { ms, loss: await runner.meanLoss(reps) };
  } finally {
    runner.dispose();
  }
}
