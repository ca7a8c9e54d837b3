// shaders/linear_attention/attend_rows.wgsl: the body of the row attend kernels ('swiftshader'
// variant). Each entry file (attend_rows_forward, _dq, _dk, _dv) declares MODE (0 forward, 1 dq,
// 2 dk, 3 dv), TRANS (contract the state's Dv index), its bindings, row_setup and row_out, and
// its entry point calls rows_main (the end of this file).
// One token's row of attend (same modes and overrides as attend_core), in two steps: rows_prep
// loads the row, scores the in-chunk keys (by increasing lag) and returns the forward normaliser
// (MODE 0); rows_value(o) then gives output column o, so no output row is kept per thread.
fn rows_prep(bh: u32, i: u32) -> f32 {
  let c = i / C;
  let t = i - c * C;
  let L = chunk_len(c);
  let zbase = z_base(bh, c);
  let row = bh * p.n + i;
  for (var x = 0u; x < p.n_in; x++) { qrow[x] = xq[row * p.sq + x]; }
  row_coef = 0.0;
  if (MOMENTUM && CAUSAL) { row_coef = p.gamma * (p.beta * weight_any(select(t, L - 1u - t, REVERSE))); }
  row_scale = 1.0;
  if (NC_SCALE && MOMENTUM && !CAUSAL) {
    let nb = seq_len(bh);
    row_scale = p.gamma * weight_any(nb - 1u - min(i, nb - 1u));
  }
  var dn = 0.0;
  if (MODE == 0u) {
    for (var x = 0u; x < p.n_in; x++) { dn += qrow[x] * zc[zbase + x]; }
  }
  if (CAUSAL) {
    var rq = 0.0;
    if (MODE == 1u) { rq = r_query(bh, i); }
    var w = 1.0;
    let lags = select(t + 1u, L - t, REVERSE);
    for (var lag = 0u; lag < lags; lag++) {
      let j = select(i - lag, i + lag, REVERSE);
      let krow = bh * p.n + j;
      var s = 0.0;
      for (var x = 0u; x < p.n_in; x++) { s += qrow[x] * xk[krow * p.sk + x]; }
      if (MODE == 0u) { dn += s; }
      var ps = s;
      if (MOMENTUM) {
        ps = s * (p.gamma * w);
        w = 1.0 + p.beta * w;
      }
      if (MODE == 1u) { ps += rq; }
      if (MODE == 2u) { ps += r_key(bh, j); }
      prow[lag] = ps;
    }
  }
  return dn;
}

fn stash_row() {
  for (var x = 0u; x < p.n_in; x++) { qrowB[x] = qrow[x]; }
  for (var l = 0u; l < C; l++) { prowB[l] = prow[l]; }
  coefB = row_coef;
  scaleB = row_scale;
}

// The in-chunk part of output columns (o, c1, c2, c3) of row i, from prow (or prowB).
fn rows_intra4(bh: u32, i: u32, cols: vec4u, second: bool) -> vec4f {
  let c = i / C;
  let t = i - c * C;
  let L = chunk_len(c);
  let lags = select(t + 1u, L - t, REVERSE);
  var val = vec4f(0.0);
  for (var lag = 0u; lag < lags; lag++) {
    let j = select(i - lag, i + lag, REVERSE);
    let row = (bh * p.n + j) * p.sv;
    let pr = select(prow[lag], prowB[lag], second);
    val += pr * vec4f(xv[row + cols.x], xv[row + cols.y], xv[row + cols.z], xv[row + cols.w]);
  }
  return val;
}

// Output columns o .. o+3 of rows iA (slot qrow) and iB (slot qrowB), one chunk (columns past
// dout repeat the last one and are not stored): four columns per pass read each qrow[x] and
// prow[lag] once for four products.
fn rows_value4(bh: u32, iA: u32, iB: u32, o: u32) -> Pair4 {
  let stbase = z_base(bh, iA / C) * p.dv;
  let last = p.n_out - 1u;
  let cols = vec4u(o, min(o + 1u, last), min(o + 2u, last), min(o + 3u, last));
  var va = vec4f(0.0);
  var vb = vec4f(0.0);
  for (var x = 0u; x < p.n_in; x++) {
    var at: vec4u;
    if (TRANS) {
      at = stbase + cols * p.n_in + x;
    } else {
      at = stbase + x * p.n_out + cols;
    }
    if (MOMENTUM && CAUSAL) {
      // The carried state as each row sees it: S - gamma alpha_t m.
      let e0 = st2[at.x];
      let e1 = st2[at.y];
      let e2 = st2[at.z];
      let e3 = st2[at.w];
      let sv = vec4f(e0.x, e1.x, e2.x, e3.x);
      let mv = vec4f(e0.y, e1.y, e2.y, e3.y);
      va += qrow[x] * (sv - row_coef * mv);
      vb += qrowB[x] * (sv - coefB * mv);
    } else {
      let sv = vec4f(st[at.x * SP], st[at.y * SP], st[at.z * SP], st[at.w * SP]);
      va += qrow[x] * sv;
      vb += qrowB[x] * sv;
    }
  }
  if (NC_SCALE && MOMENTUM && !CAUSAL) {
    va = va * row_scale;
    vb = vb * scaleB;
  }
  if (CAUSAL) {
    va += rows_intra4(bh, iA, cols, false);
    vb += rows_intra4(bh, iB, cols, true);
  }
  return Pair4(va, vb);
}

// The whole of a row kernel: thread g owns tokens iA, iB (row_pair) of one chunk; each row's
// prep (rows_prep: the forward's normaliser, else unused) goes to the entry file's row_setup
// (its one value per row: the forward's normaliser, dq's r, else 0), each output column's sum of
// state and in-chunk terms to row_out. A row past the example's length (a padding query in the
// forward, a padding key in dk, dv) is stored as 0; row_setup sees whether it is valid.
fn rows_main(wid: vec3u, nwg: vec3u, lid: u32) {
  let g = grid_index(wid, nwg) * WG1 + lid;
  if (g >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(g);
  let bh = pr.x;
  let gA = bh * p.n + pr.y;
  let gB = bh * p.n + pr.z;
  let zbase = z_base(bh, pr.y / C);
  let nb = seq_len(bh);
  let validA = pr.y < nb;
  let validB = pr.z < nb;
  let fB = rows_prep(bh, pr.z);
  stash_row();
  let fA = rows_prep(bh, pr.y);
  let rvA = row_setup(bh, pr.y, gA, fA, validA);
  let rvB = row_setup(bh, pr.z, gB, fB, validB);
  for (var o = 0u; o < p.n_out; o += 4u) {
    let v = rows_value4(bh, pr.y, pr.z, o);
    for (var k = 0u; k < min(4u, p.n_out - o); k++) {
      out[gA * p.n_out + o + k] = select(0.0, row_out(gA, zbase, rvA, o + k, v.a[k]), validA);
      out[gB * p.n_out + o + k] = select(0.0, row_out(gB, zbase, rvB, o + k, v.b[k]), validB);
    }
  }
}
