// Recurrent attention states for sampling one token at a time, the op layer's face of them:
// MomentumState (the recurrence (12) of momentum attention; linear attention at beta = 0,
// gamma = 1) and SoftmaxKVCache (softmax attention over every cached key). Each step(q, k, v)
// returns the same numbers, to rounding, as that token's row of the parallel causal forward.
// No tape: sampling never differentiates.
export { MomentumState, type MomentumStateDims } from '../kernels/linear/state.ts';
export { SoftmaxKVCache, type SoftmaxKVCacheDims } from '../kernels/softmaxAttention.ts';
