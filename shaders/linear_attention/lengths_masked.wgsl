// shaders/linear_attention/lengths_masked.wgsl: the masked build, for right-padded batches (the
// encoder's). Example b has N_b = lengths[b] valid tokens: the forward scan stops at N_b (so the
// state after the sequence is the state at N_b, and eq. 14 weighs key j by W(N_b - 1 - j)),
// padding rows are 0 (den 1) and the backward passes them no gradient. The op checks the tensor;
// the values come from the host that padded the batch, so this only clamps them into [1, N].
@group(0) @binding(15) var<storage, read> lengths: array<u32>;     // [B]

fn seq_len(bh: u32) -> u32 {
  return clamp(lengths[bh / p.nh], 1u, p.n);
}
