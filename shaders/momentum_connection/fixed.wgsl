// shaders/momentum_connection/fixed.wgsl: the prelude of the fixed form's kernels (MATH.md
// section 5), elementwise over the n = R*C values of one layer:
//   m = beta~ m_prev + g ;  out = x + gamma~ m
// Each kernel is a file of its own after this one (and grads.wgsl for the backwards), listed in
// src/engine/kernels/momentumConnection/shaders.ts.

struct FixedParams {
  n: u32,          // R * C values
  beta: f32,       // beta~ in [0, 1)
  gamma: f32,      // gamma~ > 0
  has_dout: u32,   // 1 if out has a gradient (else d_out is a stand-in binding, never read)
  has_dm: u32,     // 1 if m has a gradient (the last layer's m usually has none)
}

@group(0) @binding(0) var<uniform> p: FixedParams;

override WG: u32 = 256;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return grid_index(wid, nwg) * WG + lid;
}
