// shaders/softmax_attention/backward_dkdv_rows.wgsl: dk and dv, one thread per key row ('swiftshader').
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;    // [BH, N, D]
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;    // [BH, N, Dv]

// Rows dk, dv: one thread per key row, walking the queries that see it.
@compute @workgroup_size(WG)
fn backward_dkdv_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let g = grid_index(wid, nwg) * WG + lid;
  if (g >= p.bh * p.n) { return; }
  let bh = g / p.n;
  let j = g - bh * p.n;
  let nb = seq_len(bh);
  var ks: array<f32, MAX_DIM>;     // k_j * scale
  var vr: array<f32, MAX_DIM>;     // v_j
  var acc_k: array<f32, MAX_DIM>;  // dk_j / scale
  var acc_v: array<f32, MAX_DIM>;  // dv_j
  for (var c = 0u; c < p.d; c++) { ks[c] = k[g * p.d + c] * p.scale; }
  for (var c = 0u; c < p.dv; c++) { vr[c] = v[g * p.dv + c]; }
  var i = 0u;
  if (p.causal != 0u) { i = j; }
  // A padding key (j >= nb) is seen by no query, so its gradients are 0.
  let iend = select(0u, nb, j < nb);
  for (; i < iend; i++) {
    let gi = bh * p.n + i;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s += q[gi * p.d + c] * ks[c]; }
    var dp = 0.0;
    for (var c = 0u; c < p.dv; c++) { dp += dout[gi * p.dv + c] * vr[c]; }
    let pr = exp(s - lse_saved[gi]);
    let ds = pr * (dp - delta_in[gi]);
    for (var c = 0u; c < p.dv; c++) { acc_v[c] += pr * dout[gi * p.dv + c]; }
    for (var c = 0u; c < p.d; c++) { acc_k[c] += ds * q[gi * p.d + c]; }
  }
  for (var c = 0u; c < p.d; c++) { dk[g * p.d + c] = acc_k[c] * p.scale; }
  for (var c = 0u; c < p.dv; c++) { dv[g * p.dv + c] = acc_v[c]; }
}
