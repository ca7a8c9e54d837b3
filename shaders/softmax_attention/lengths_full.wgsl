// shaders/softmax_attention/lengths_full.wgsl: the unmasked build (no key-padding lengths):
// every example's queries and keys run to N. Its twin lengths_masked.wgsl reads them per example.
fn seq_len(bh: u32) -> u32 {
  return p.n;
}
