// Helpers of the twin's tests (twin.test.ts, twinEncoder.test.ts): the twin's Python with the
// package on its path, and a playground checkpoint after a few trained steps.
import { spawnSync } from 'node:child_process';
import type { Gpu } from '../../src/engine/gpu.ts';
import { TWIN_PYTHON_DIR, twinPython } from '../../src/cli/twinPython.ts';
import { Trainer, type TaskData } from '../../src/train/trainer.ts';
import type { RunConfig } from '../../src/train/types.ts';

/** Debian's dataset-fashion-mnist test images (the labels file sits beside it). */
export const FASHION_T10K = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
export const FASHION_T10K_LABELS = '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz';

export function python(args: string[], timeout = 300_000) {
  const env = { ...process.env, PYTHONPATH: TWIN_PYTHON_DIR, OMP_NUM_THREADS: '1' };
  const r = spawnSync(twinPython(), args, { env, encoding: 'utf8', timeout });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A checkpoint after `steps` trained steps (non-zero Adam moments, a moved data stream). */
export async function checkpointAfter(gpu: Gpu, cfg: RunConfig, data: TaskData, steps: number): Promise<Uint8Array> {
  const t = Trainer.create(gpu, cfg, data);
  try {
    if (steps > 0) await t.run(steps);
    return await t.checkpoint();
  } finally {
    t.dispose();
  }
}
