// shaders/softmax_attention/backward_dkdv_tiled.wgsl: dk and dv, tiled ('gpu').
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;    // [BH, N, D]
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;    // [BH, N, Dv]

// Tiled dk, dv: workgroup (key block, bh); BK rows x TPR threads; walks the query blocks.
@compute @workgroup_size(K_THREADS)
fn backward_dkdv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let threads = K_THREADS;
  let bh = wid.y;
  let j0 = wid.x * BK;
  let r = lid / TPR;
  let t = lid - r * TPR;
  let j = j0 + r;
  let nb = seq_len(bh);
  load_k(bh, j0, lid, threads);
  load_v(bh, j0, lid, threads);
  var acc_k: array<f32, ACC>;  // dk columns t + u * TPR, before the final scale
  var acc_v: array<f32, ACC>;  // dv columns t + u * TPR
  let prow = r * (BQ + 1u);
  var i_start = 0u;
  // Causal: query blocks wholly above this key block see none of its keys.
  if (p.causal != 0u) { i_start = (j0 / BQ) * BQ; }
  for (var i0 = i_start; i0 < nb; i0 += BQ) {
    load_q(bh, i0, lid, threads);
    load_do(bh, i0, lid, threads);
    for (var e = lid; e < BQ; e += threads) {
      var ls = 0.0;
      var dl = 0.0;
      if (i0 + e < p.n) {
        ls = lse_saved[bh * p.n + i0 + e];
        dl = delta_in[bh * p.n + i0 + e];
      }
      lse_tile[e] = ls;
      delta_tile[e] = dl;
    }
    workgroupBarrier();
    for (var ii = t; ii < BQ; ii += TPR) {
      var pr = 0.0;
      var ds = 0.0;
      if (allowed(i0 + ii, j, nb)) {
        var s = 0.0;
        for (var c = 0u; c < p.d; c++) { s += q_tile[ii * KS + c] * k_tile[r * KS + c]; }
        var dp = 0.0;
        for (var c = 0u; c < p.dv; c++) { dp += do_tile[ii * VS + c] * v_tile[r * VS + c]; }
        pr = exp(s * p.scale - lse_tile[ii]);
        ds = pr * (dp - delta_tile[ii]);
      }
      pt_tile[prow + ii] = pr;
      dst_tile[prow + ii] = ds;
    }
    workgroupBarrier();
    for (var ii = 0u; ii < BQ; ii++) {
      let pr = pt_tile[prow + ii];
      let ds = dst_tile[prow + ii];
      for (var u = 0u; u < NV; u++) {
        let c = t + u * TPR;
        if (c < p.dv) { acc_v[u] += pr * do_tile[ii * VS + c]; }
      }
      for (var u = 0u; u < NK; u++) {
        let c = t + u * TPR;
        if (c < p.d) { acc_k[u] += ds * q_tile[ii * KS + c]; }
      }
    }
    workgroupBarrier();
  }
  if (j < p.n) {
    let g = bh * p.n + j;
    for (var u = 0u; u < NK; u++) {
      let c = t + u * TPR;
      if (c < p.d) { dk[g * p.d + c] = acc_k[u] * p.scale; }
    }
    for (var u = 0u; u < NV; u++) {
      let c = t + u * TPR;
      if (c < p.dv) { dv[g * p.dv + c] = acc_v[u]; }
    }
  }
}
