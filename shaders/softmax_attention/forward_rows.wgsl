// shaders/softmax_attention/forward_rows.wgsl: the forward, one thread per query row ('swiftshader').
@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]
@group(0) @binding(8) var<storage, read_write> lse: array<f32>;    // [BH, N]

// Rows forward: one thread per query row, online softmax one key at a time.
@compute @workgroup_size(WG)
fn forward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let g = grid_index(wid, nwg) * WG + lid;
  if (g >= p.bh * p.n) { return; }
  let bh = g / p.n;
  let i = g - bh * p.n;
  let nb = seq_len(bh);
  if (i >= nb) {
    // A padding row: 0, and lse 0.
    for (var c = 0u; c < p.dv; c++) { out[g * p.dv + c] = 0.0; }
    lse[g] = 0.0;
    return;
  }
  var qs: array<f32, MAX_DIM>;   // q_i * scale
  var acc: array<f32, MAX_DIM>;  // sum_j exp(s_ij - m) v_j
  for (var c = 0u; c < p.d; c++) { qs[c] = q[g * p.d + c] * p.scale; }
  var m = NEG;
  var l = 0.0;
  var jend = nb;
  if (p.causal != 0u) { jend = i + 1u; }
  for (var j = 0u; j < jend; j++) {
    let kr = (bh * p.n + j) * p.d;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s += qs[c] * k[kr + c]; }
    if (s > m) {
      let alpha = exp(m - s);
      l *= alpha;
      for (var c = 0u; c < p.dv; c++) { acc[c] *= alpha; }
      m = s;
    }
    let e = exp(s - m);
    l += e;
    let vr = (bh * p.n + j) * p.dv;
    for (var c = 0u; c < p.dv; c++) { acc[c] += e * v[vr + c]; }
  }
  let inv = 1.0 / l;
  for (var c = 0u; c < p.dv; c++) { out[g * p.dv + c] = acc[c] * inv; }
  lse[g] = m + log(l);
}
