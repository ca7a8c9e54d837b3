// shaders/softmax_attention/backward_dq_rows.wgsl: dq, one thread per query row ('swiftshader').
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;    // [BH, N, D]

// Rows dq: one thread per query row, walking its keys.
@compute @workgroup_size(WG)
fn backward_dq_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let g = grid_index(wid, nwg) * WG + lid;
  if (g >= p.bh * p.n) { return; }
  let bh = g / p.n;
  let i = g - bh * p.n;
  let nb = seq_len(bh);
  var qs: array<f32, MAX_DIM>;   // q_i * scale
  var dor: array<f32, MAX_DIM>;  // dO_i
  var acc: array<f32, MAX_DIM>;  // dq_i / scale
  for (var c = 0u; c < p.d; c++) { qs[c] = q[g * p.d + c] * p.scale; }
  for (var c = 0u; c < p.dv; c++) { dor[c] = dout[g * p.dv + c]; }
  let lse_i = lse_saved[g];
  let delta_i = delta_in[g];
  // A padding row (i >= nb) sees no key, so its gradient is 0.
  var jend = select(0u, nb, i < nb);
  if (p.causal != 0u && i < nb) { jend = i + 1u; }
  for (var j = 0u; j < jend; j++) {
    let kr = (bh * p.n + j) * p.d;
    let vr = (bh * p.n + j) * p.dv;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s += qs[c] * k[kr + c]; }
    var dp = 0.0;
    for (var c = 0u; c < p.dv; c++) { dp += dor[c] * v[vr + c]; }
    let ds = exp(s - lse_i) * (dp - delta_i);
    for (var c = 0u; c < p.d; c++) { acc[c] += ds * k[kr + c]; }
  }
  for (var c = 0u; c < p.d; c++) { dq[g * p.d + c] = acc[c] * p.scale; }
}
