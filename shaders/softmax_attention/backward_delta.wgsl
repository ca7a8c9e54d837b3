// shaders/softmax_attention/backward_delta.wgsl: the backward's first pass (both variants).
@group(0) @binding(7) var<storage, read> o_saved: array<f32>;      // forward's out [BH, N, Dv]
@group(0) @binding(8) var<storage, read_write> delta: array<f32>;  // [BH, N]

// delta_i = dO_i . O_i (= sum_j P_ij dP_ij), one thread per row.
@compute @workgroup_size(WG)
fn backward_delta(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let g = grid_index(wid, nwg) * WG + lid;
  if (g >= p.bh * p.n) { return; }
  var s = 0.0;
  for (var c = 0u; c < p.dv; c++) { s += dout[g * p.dv + c] * o_saved[g * p.dv + c]; }
  delta[g] = s;
}
