// Differentiable multi-head softmax attention (MATH.md eq. (1)). The forward keeps the row
// logsumexp for its backward; the backward recomputes the probabilities from it.
import {
  checkSoftmaxAttentionInputs,
  softmaxAttentionBackward,
  softmaxAttentionForward,
  type SoftmaxAttentionOptions,
} from '../kernels/softmaxAttention.ts';
import { attentionDimsOf } from '../check.ts';
import type { Tape, Tensor } from '../tensor.ts';

export interface SoftmaxAttentionOpOptions extends SoftmaxAttentionOptions {
  causal: boolean;
}

/** q, k [B, H, N, D], v [B, H, N, Dv] -> softmax(q k^T / sqrt(D)) v [B, H, N, Dv]. */
export function softmaxAttention(tape: Tape, q: Tensor, k: Tensor, v: Tensor, opts: SoftmaxAttentionOpOptions): Tensor {
  const dims = attentionDimsOf('softmaxAttention', q, k, v);
  const { causal, variant, tiles } = opts ?? ({} as SoftmaxAttentionOpOptions);
  checkSoftmaxAttentionInputs('softmaxAttention', tape.gpu, { q, k, v, dims, causal, variant, tiles });
  const { batch: b, heads: h, seq: n } = dims;
  const out = tape.empty([b, h, n, dims.dimV], 'softmaxAttention.out'); // [B, H, N, Dv]
  const lse = tape.empty([b, h, n], 'softmaxAttention.lse'); // [B, H, N]
  softmaxAttentionForward(tape.gpu, { q, k, v, out, lse, dims, causal, variant, tiles });
  if (tape.needsGrad(q, k, v)) {
    tape.tracks(out);
    tape.record('softmaxAttention', [out], () => {
      const dq = tape.empty(q.shape, 'softmaxAttention.dq'); // [B, H, N, D]
      const dk = tape.empty(k.shape, 'softmaxAttention.dk'); // [B, H, N, D]
      const dv = tape.empty(v.shape, 'softmaxAttention.dv'); // [B, H, N, Dv]
      softmaxAttentionBackward(tape.gpu, { q, k, v, out, lse, dOut: out.grad!, dq, dk, dv, dims, causal, variant, tiles });
      tape.accumulate(q, dq);
      tape.accumulate(k, dk);
      tape.accumulate(v, dv);
    });
  }
  return out;
}
