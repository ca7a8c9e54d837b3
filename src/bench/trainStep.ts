// One full training step of BENCH_MODEL on our engine (forward, backward, Adam), timed the way the
// trainer runs it: steps encoded back to back, one submit each, a single wait at the end.
import type { Gpu } from '../engine/gpu.ts';
import { crossEntropy } from '../engine/ops/loss.ts';
import { Optimizer } from '../engine/optim.ts';
import { Tape, empty, fromArray } from '../engine/tensor.ts';
import { Transformer } from '../model/transformer.ts';
import { BENCH_BATCH, BENCH_LR, BENCH_MODEL, BENCH_SEQ, benchBatch } from './model.ts';

export interface StepTiming {
  ms: number;
  /** Mean loss over the measured steps. */
  loss: number;
}

/** Mean milliseconds per step over `reps` steps, after `warmup` steps that build every pipeline. */
export async function oursTrainStep(gpu: Gpu, reps: number, warmup = 2): Promise<StepTiming> {
  const model = new Transformer(gpu, BENCH_MODEL, 1);
  const opt = new Optimizer(gpu, model.parameterList, { kind: 'adam', lr: BENCH_LR });
  const { ids, targets } = benchBatch();
  const idT = fromArray(gpu, ids, [BENCH_BATCH, BENCH_SEQ], 'bench.ids'); // u32 [B, N]
  const targetT = fromArray(gpu, targets, [BENCH_BATCH * BENCH_SEQ], 'bench.targets'); // u32 [B*N]
  const losses = empty(gpu, [Math.max(reps, 1)], 'bench.losses'); // [reps]
  const step = (slot: number | null) => {
    const params = model.parameterList;
    const tape = new Tape(gpu);
    const { output } = model.forward(tape, idT, { train: true, dropoutSeed: 0 });
    const { loss } = crossEntropy(tape, output, targetT, null);
    tape.backward(loss);
    opt.step();
    if (slot !== null) gpu.copy({ buffer: loss.buffer }, { buffer: losses.buffer, offset: 4 * slot }, 4);
    tape.dispose(params);
    gpu.flush();
  };
  try {
    for (let i = 0; i < warmup; i++) step(null);
    await gpu.sync();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) step(i);
    await gpu.sync();
    const ms = (performance.now() - t0) / reps;
    const values = await losses.read();
    const loss = values.reduce((s, v) => s + v, 0) / reps;
    return { ms, loss };
  } finally {
    losses.dispose();
    idT.dispose();
    targetT.dispose();
    opt.dispose();
    model.destroy();
    gpu.pool.trim();
  }
}
