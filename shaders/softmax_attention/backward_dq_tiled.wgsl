// shaders/softmax_attention/backward_dq_tiled.wgsl: dq, tiled ('gpu').
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;    // [BH, N, D]

// Tiled dq: workgroup (query block, bh); BQ rows x TPR threads; walks the key blocks.
@compute @workgroup_size(Q_THREADS)
fn backward_dq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let threads = Q_THREADS;
  let bh = wid.y;
  let i0 = wid.x * BQ;
  let r = lid / TPR;
  let t = lid - r * TPR;
  let i = i0 + r;
  load_q(bh, i0, lid, threads);
  load_do(bh, i0, lid, threads);
  var lse_i = 0.0;
  var delta_i = 0.0;
  if (i < p.n) {
    lse_i = lse_saved[bh * p.n + i];
    delta_i = delta_in[bh * p.n + i];
  }
  var acc: array<f32, ACC>;  // dq columns t + u * TPR, before the final scale
  let srow = r * (BK + 1u);
  let nb = seq_len(bh);
  let kend = key_end(i0, BQ, nb);
  for (var j0 = 0u; j0 < kend; j0 += BK) {
    load_k(bh, j0, lid, threads);
    load_v(bh, j0, lid, threads);
    workgroupBarrier();
    for (var jj = t; jj < BK; jj += TPR) {
      var ds = 0.0;
      if (allowed(i, j0 + jj, nb)) {
        var s = 0.0;
        for (var c = 0u; c < p.d; c++) { s += q_tile[r * KS + c] * k_tile[jj * KS + c]; }
        var dp = 0.0;
        for (var c = 0u; c < p.dv; c++) { dp += do_tile[r * VS + c] * v_tile[jj * VS + c]; }
        ds = exp(s * p.scale - lse_i) * (dp - delta_i);
      }
      s_tile[srow + jj] = ds;
    }
    workgroupBarrier();
    for (var jj = 0u; jj < BK; jj++) {
      let ds = s_tile[srow + jj];
      for (var u = 0u; u < NK; u++) {
        let c = t + u * TPR;
        if (c < p.d) { acc[u] += ds * k_tile[jj * KS + c]; }
      }
    }
    workgroupBarrier();
  }
  if (i < p.n) {
    let g = bh * p.n + i;
    for (var u = 0u; u < NK; u++) {
      let c = t + u * TPR;
      if (c < p.d) { dq[g * p.d + c] = acc[u] * p.scale; }
    }
  }
}
