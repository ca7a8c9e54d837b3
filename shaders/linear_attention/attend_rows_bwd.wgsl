// shaders/linear_attention/attend_rows_bwd.wgsl: the body of the row kernels' dq, dk and dv
// ('swiftshader' variant, one thread per two tokens), after attend_rows.wgsl. Each entry file
// (attend_rows_dq, _dk, _dv) declares MODE, TRANS, its bindings, bwd_query (the r of a query row,
// or 0) and bwd_value (how one output column is finished from its in-chunk part v).
fn rows_backward(wid: vec3u, nwg: vec3u, lid: u32) {
  let g = grid_index(wid, nwg) * WG1 + lid;
  if (g >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(g);
  let bh = pr.x;
  let gA = bh * p.n + pr.y;
  let gB = bh * p.n + pr.z;
  let zbase = z_base(bh, pr.y / C);
  _ = rows_prep(bh, pr.z);
  stash_row();
  _ = rows_prep(bh, pr.y);
  let rqA = bwd_query(bh, pr.y);
  let rqB = bwd_query(bh, pr.z);
  for (var o = 0u; o < p.n_out; o += 4u) {
    let v = rows_value4(bh, pr.y, pr.z, o);
    for (var k = 0u; k < min(4u, p.n_out - o); k++) {
      out[gA * p.n_out + o + k] = bwd_value(gA, zbase, rqA, o + k, v.a[k]);
      out[gB * p.n_out + o + k] = bwd_value(gB, zbase, rqB, o + k, v.b[k]);
    }
  }
}
