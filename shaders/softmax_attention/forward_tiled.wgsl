// shaders/softmax_attention/forward_tiled.wgsl: the forward, FlashAttention-2 tiles ('gpu').
@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]
@group(0) @binding(8) var<storage, read_write> lse: array<f32>;    // [BH, N]

// Tiled forward: workgroup (query block, bh); BQ rows x TPR threads. Per key block: each thread
// scores its columns t + u * TPR, the row's threads agree on the new max through red_tile, each
// exponentiates only its own scores, and then every thread folds the whole row of probabilities
// into its output columns.
@compute @workgroup_size(Q_THREADS)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let threads = Q_THREADS;
  let bh = wid.y;
  let i0 = wid.x * BQ;
  let r = lid / TPR;
  let t = lid - r * TPR;
  let i = i0 + r;
  load_q(bh, i0, lid, threads);
  var m = NEG;      // running row max
  var l = 0.0;      // running sum of exp(s - m)
  var acc: array<f32, ACC>;  // this thread's output columns t + u * TPR, scaled by exp(-m)
  let srow = r * (BK + 1u);
  let nb = seq_len(bh);
  let kend = key_end(i0, BQ, nb);
  for (var j0 = 0u; j0 < kend; j0 += BK) {
    load_k(bh, j0, lid, threads);
    load_v(bh, j0, lid, threads);
    workgroupBarrier();
    var sc: array<f32, ACC>;  // scores of columns t + u * TPR
    var local_max = NEG;
    for (var u = 0u; u < NS; u++) {
      let jj = t + u * TPR;
      var s = NEG;
      if (jj < BK && allowed(i, j0 + jj, nb)) {
        var qk = 0.0;
        for (var c = 0u; c < p.d; c++) { qk += q_tile[r * KS + c] * k_tile[jj * KS + c]; }
        s = qk * p.scale;
      }
      sc[u] = s;
      local_max = max(local_max, s);
    }
    red_tile[lid] = local_max;
    workgroupBarrier();
    var bm = NEG;
    for (var w = 0u; w < TPR; w++) { bm = max(bm, red_tile[r * TPR + w]); }
    let m_new = max(m, bm);
    for (var u = 0u; u < NS; u++) {
      let jj = t + u * TPR;
      if (jj < BK) {
        var e = 0.0;
        if (sc[u] != NEG) { e = exp(sc[u] - m_new); }
        s_tile[srow + jj] = e;
      }
    }
    workgroupBarrier();
    let alpha = exp(m - m_new);
    l *= alpha;
    for (var u = 0u; u < NV; u++) { acc[u] *= alpha; }
    for (var jj = 0u; jj < BK; jj++) {
      let e = s_tile[srow + jj];
      l += e;
      for (var u = 0u; u < NV; u++) {
        let c = t + u * TPR;
        if (c < p.dv) { acc[u] += e * v_tile[jj * VS + c]; }
      }
    }
    m = m_new;
    workgroupBarrier();  // the next block's loads overwrite k_tile, v_tile, and red_tile, s_tile follow
  }
  if (i < p.n) {
    let g = bh * p.n + i;
    // A padding row (i >= nb) saw no key: it is 0, and lse 0.
    let valid = i < nb;
    let inv = select(0.0, 1.0 / l, valid);
    for (var u = 0u; u < NV; u++) {
      let c = t + u * TPR;
      if (c < p.dv) { out[g * p.dv + c] = acc[u] * inv; }
    }
    if (t == 0u) { lse[g] = select(0.0, m + log(l), valid); }
  }
}
