// Differentiable multi-head softmax attention (MATH.md eq. (1)). The forward keeps the row
// logsumexp for its backward; the backward recomputes the probabilities from it. The inputs are
// checked and the plan resolved once, here, before anything is allocated; the encoders
// (kernels/softmax/encode.ts) validate nothing.
import { encodeSoftmaxBackward, encodeSoftmaxForward } from '../kernels/softmax/encode.ts';
import { checkSoftmaxAttentionInputs, type SoftmaxAttentionOptions } from '../kernels/softmaxAttention.ts';
import { attentionDimsOf } from '../check.ts';
import type { Tape, Tensor } from '../tensor.ts';

export interface SoftmaxAttentionOpOptions extends SoftmaxAttentionOptions {
  causal: boolean;
  /**
   * Key-padding lengths, u32 [B] (each example's valid tokens, 1..N; right padding after them):
   * padding keys get no weight, padding query rows are 0 and pass no gradient.
   */
  lengths?: Tensor;
}

/** q, k [B, H, N, D], v [B, H, N, Dv] -> softmax(q k^T / sqrt(D)) v [B, H, N, Dv]. */
export function softmaxAttention(tape: Tape, q: Tensor, k: Tensor, v: Tensor, opts: SoftmaxAttentionOpOptions): Tensor {
  const what = 'softmaxAttention';
  const dims = attentionDimsOf(what, q, k, v);
  const { causal, variant, tiles, lengths } = opts ?? ({} as SoftmaxAttentionOpOptions);
  const plan = checkSoftmaxAttentionInputs(what, tape.gpu, { q, k, v, dims, causal, variant, tiles, lengths });
  const { batch: b, heads: h, seq: n } = dims;
  const masks = lengths ?? null;
  const out = tape.empty([b, h, n, dims.dimV], 'softmaxAttention.out'); // [B, H, N, Dv]
  const lse = tape.empty([b, h, n], 'softmaxAttention.lse'); // [B, H, N]
  encodeSoftmaxForward(tape.gpu, plan, { q, k, v, out, lse, lengths: masks });
  if (tape.needsGrad(q, k, v)) {
    tape.tracks(out);
    tape.record('softmaxAttention', [out], () => {
      const dq = tape.empty(q.shape, 'softmaxAttention.dq'); // [B, H, N, D]
      const dk = tape.empty(k.shape, 'softmaxAttention.dk'); // [B, H, N, D]
      const dv = tape.empty(v.shape, 'softmaxAttention.dv'); // [B, H, N, Dv]
      encodeSoftmaxBackward(tape.gpu, plan, { q, k, v, out, lse, dOut: out.grad!, dq, dk, dv, lengths: masks });
      tape.accumulate(q, dq);
      tape.accumulate(k, dk);
      tape.accumulate(v, dv);
    });
  }
  return out;
}
