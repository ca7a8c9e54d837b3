// The gradients reaching a connection's outputs, shared by the backward kernels of both forms
// (after fixed.wgsl or adaptive.wgsl, whose params `p` both have gamma, has_dout and has_dm).

@group(0) @binding(1) var<storage, read> d_out: array<f32>;  // [R, C] (a stand-in when has_dout = 0)
@group(0) @binding(2) var<storage, read> d_m: array<f32>;    // [R, C] (a stand-in when has_dm = 0)

/// The total gradient reaching m: its own (from the next layer) plus gamma~ times out's.
fn total_dm(i: u32) -> f32 {
  var d = 0.0;
  if (p.has_dm != 0u) { d = d_m[i]; }
  if (p.has_dout != 0u) { d += p.gamma * d_out[i]; }
  return d;
}

/// dx = d_out, or 0 when out has no gradient.
fn total_dx(i: u32) -> f32 {
  if (p.has_dout != 0u) { return d_out[i]; }
  return 0.0;
}
