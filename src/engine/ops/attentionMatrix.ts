// The effective attention matrix as an op on the tape (for the inspector: inference only, no
// backward). Same spec as `attention` (ops/attention.ts), so A v equals attention(q, k, v).
import { checkAttentionMatrixShape, attentionMatrixForward, ATTENTION_MATRIX_MAX_SEQ } from '../kernels/attentionMatrix.ts';
import { checkLengths } from '../check.ts';
import type { Tape, Tensor } from '../tensor.ts';
import { checkAttentionSpec, type AttentionSpec } from './attention.ts';

export { ATTENTION_MATRIX_MAX_SEQ };

/**
 * q, k [B, H, N, D] -> A [B, H, N, N], owned by the tape; entries above the diagonal 0 when causal.
 * `lengths`, u32 [B]: key padding as in `attention` (rows and columns past lengths[b] are 0).
 */
export function attentionMatrix(tape: Tape, spec: AttentionSpec, q: Tensor, k: Tensor, lengths?: Tensor): Tensor {
  const s = checkAttentionSpec(spec);
  if (q.shape.length !== 4) throw new Error(`attentionMatrix: q must be [B, H, N, D]; got [${q.shape.join(', ')}]`);
  const [batch, heads, seq, dim] = q.shape as [number, number, number, number];
  const dims = { batch, heads, seq, dim };
  checkAttentionMatrixShape('attentionMatrix', tape.gpu, dims);
  if (lengths) checkLengths('attentionMatrix', lengths, batch);
  const weights = tape.empty([batch, heads, seq, seq], 'attentionMatrix.weights'); // [B, H, N, N]
  attentionMatrixForward(tape.gpu, { q, k, weights, dims, spec: s, lengths });
  return weights;
}
