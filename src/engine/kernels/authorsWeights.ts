// GPU primitive of shaders/authors_weights.wgsl: scales the rows of v [B, H, N, Dv] by the
// authors'-code weights w_t = gamma W(N - 1 - t) (MATH.md, "A known discrepancy in the authors'
// code"); the same dispatch scales the gradient in the backward. It only encodes from a plan:
// ops/authorsAttention.ts checks the tensors and resolves the plan first.
import src from '../../../shaders/authors_weights.wgsl?raw';
import type { Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';

/** Threads per workgroup (the WGSL's `override WG`). */
const AUTHORS_WG = 256;

/** What one scaling needs: rows of `width` values, `seq` rows per (batch, head). */
export interface AuthorsWeightsPlan {
  /** batch * heads */
  bh: number;
  seq: number;
  /** Values per row (Dv). */
  width: number;
  beta: number;
  gamma: number;
}

/** dst [BH, N, E] = w_t * src [BH, N, E] (overwritten). */
export function encodeAuthorsScale(gpu: Gpu, plan: AuthorsWeightsPlan, from: Tensor, to: Tensor): void {
  const total = plan.bh * plan.seq * plan.width;
  gpu
    .kernel({ label: 'authors_weights', code: src, entry: 'scale_rows', constants: { WG: AUTHORS_WG } })
    .run(
      { src: from, dst: to },
      { total, n: plan.seq, width: plan.width, beta: plan.beta, gamma: plan.gamma },
      gpu.grid(Math.ceil(total / AUTHORS_WG)),
    );
}
