// shaders/softmax_attention/lengths_masked.wgsl: the masked build, for right-padded batches
// (the encoder's). Example b has lengths[b] valid tokens; keys j >= lengths[b] get no weight,
// query rows i >= lengths[b] are 0 (and pass no gradient). The op checks the tensor; the values
// come from the host that padded the batch, so this only clamps them into [1, N].
@group(0) @binding(12) var<storage, read> lengths: array<u32>;     // [B]

fn seq_len(bh: u32) -> u32 {
  return clamp(lengths[bh / p.heads], 1u, p.n);
}
