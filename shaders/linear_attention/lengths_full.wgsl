// shaders/linear_attention/lengths_full.wgsl: the unmasked build (no key-padding lengths): every
// example's tokens run to N. Its twin lengths_masked.wgsl reads each example's own length.
fn seq_len(bh: u32) -> u32 {
  return p.n;
}
