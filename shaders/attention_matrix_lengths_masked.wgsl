// shaders/attention_matrix_lengths_masked.wgsl, joined after attention_matrix.wgsl for right-padded
// batches: example b has lengths[b] valid tokens, so padding keys get weight 0, padding rows are
// all 0, and eq. 14 weighs by the example's own length. The host checks the values; this clamps.
@group(0) @binding(4) var<storage, read> lengths: array<u32>;     // [B]

fn seq_len(bh: u32) -> u32 {
  return clamp(lengths[bh / p.heads], 1u, p.n);
}
