// shaders/linear_attention/attend_rows.wgsl: the pairs body of the row attend kernels
// ('swiftshader' variant; the other is attend_quads.wgsl). Each entry file (attend_rows_forward, _dq, _dk, _dv) declares MODE (0 forward, 1 dq,
// 2 dk, 3 dv), TRANS (contract the state's Dv index), its bindings, row_setup and row_out, and
// its entry point calls rows_main (the end of this file).
// Thread g owns rows iA, iB = iA + 1 of one chunk (row_pair) and does both in one pass: each
// in-chunk key row is loaded once for both rows' scores, each run of four state entries (pairs)
// once for both rows' outputs, each in-chunk value row once for both. Rows are held and loaded as
// vec4 (ld4q, ld4k, ld4v, ld4s: one vec4 load when the host's flags allow, else two and a shift).
var<private> qa: array<vec4f, MAX_DIM / 4u>;   // row iA's query side, four features a vec4
var<private> qb: array<vec4f, MAX_DIM / 4u>;   // row iB's
var<private> pa: array<f32, MAX_CHUNK>;        // row iA's weighted in-chunk scores, by key offset
var<private> pb: array<f32, MAX_CHUNK>;        // (0 for keys the row does not see)
var<private> coef_a: f32;                      // gamma alpha_t: the momentum state's share
var<private> coef_b: f32;

// State entries at .. at + 3 as rows iA (a) and iB (b) see them: S - gamma alpha_t m.
fn state_ab(at: u32, n: u32) -> Pair4 {
  let e = ld4s(at, n);
  if (MOMENTUM && CAUSAL) { return Pair4(e.a - coef_a * e.b, e.a - coef_b * e.b); }
  return Pair4(e.a, e.a);
}

// One TRANS column (state row col, features x4 .. x4 + 3 as one run): (row iA's, row iB's) dot.
fn trans_col(stbase: u32, col: u32, x4: u32) -> vec2f {
  let s = state_ab(stbase + col * p.n_in + 4u * x4, p.n_in - 4u * x4);
  return vec2f(dot(qa[x4], s.a), dot(qb[x4], s.b));
}

// Output columns o .. o+3 of rows iA, iB from the state (columns past n_out are not stored).
fn rows_state4(stbase: u32, o: u32) -> Pair4 {
  let last = p.n_out - 1u;
  var va = vec4f(0.0);
  var vb = vec4f(0.0);
  for (var x4 = 0u; x4 < IN4; x4++) {
    if (TRANS) {
      let h0 = trans_col(stbase, o, x4);
      let h1 = trans_col(stbase, min(o + 1u, last), x4);
      let h2 = trans_col(stbase, min(o + 2u, last), x4);
      let h3 = trans_col(stbase, min(o + 3u, last), x4);
      va += vec4f(h0.x, h1.x, h2.x, h3.x);
      vb += vec4f(h0.y, h1.y, h2.y, h3.y);
    } else {
      // Rows past n_in repeat the last (their query lanes are 0).
      let n = p.n_out - o;
      let x = 4u * x4;
      let lastx = p.n_in - 1u;
      let qa4 = qa[x4];
      let qb4 = qb[x4];
      let s0 = state_ab(stbase + x * p.n_out + o, n);
      let s1 = state_ab(stbase + min(x + 1u, lastx) * p.n_out + o, n);
      let s2 = state_ab(stbase + min(x + 2u, lastx) * p.n_out + o, n);
      let s3 = state_ab(stbase + min(x + 3u, lastx) * p.n_out + o, n);
      va += qa4.x * s0.a + qa4.y * s1.a + qa4.z * s2.a + qa4.w * s3.a;
      vb += qb4.x * s0.b + qb4.y * s1.b + qb4.z * s2.b + qb4.w * s3.b;
    }
  }
  return Pair4(va, vb);
}

// The whole of a row kernel: each row's prep (the forward's normaliser, else unused) goes to the
// entry file's row_setup (its one value per row: the forward's normaliser, dq's r, else 0), each
// output column's sum of state and in-chunk terms to row_out. A row past the example's length (a
// padding query in the forward, a padding key in dk, dv) is stored as 0; row_setup sees whether
// it is valid.
fn rows_main(wid: vec3u, nwg: vec3u, lid: u32) {
  let g = grid_index(wid, nwg) * WG1 + lid;
  if (g >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(g);
  let bh = pr.x;
  let iA = pr.y;
  let iB = pr.z;
  let dd = iB - iA;   // 1, or 0 where B repeats A
  let gA = bh * p.n + iA;
  let gB = bh * p.n + iB;
  let c = iA / C;
  let c0 = c * C;
  let L = chunk_len(c);
  let tA = iA - c0;
  let tB = iB - c0;
  let zbase = z_base(bh, c);
  let nb = seq_len(bh);
  let validA = iA < nb;
  let validB = iB < nb;
  let nx4 = IN4;
  for (var x4 = 0u; x4 < nx4; x4++) {
    qa[x4] = ld4q(gA * p.sq + 4u * x4, p.n_in - 4u * x4);
    qb[x4] = ld4q(gB * p.sq + 4u * x4, p.n_in - 4u * x4);
  }
  coef_a = row_coef_of(tA, L);
  coef_b = row_coef_of(tB, L);
  let scale_a = row_scale_of(bh, iA);
  let scale_b = row_scale_of(bh, iB);
  var dnA = 0.0;
  var dnB = 0.0;
  if (MODE == 0u) {
    for (var x4 = 0u; x4 < nx4; x4++) {
      var z = vec4f(0.0);
      for (var k = 0u; k < min(p.n_in - 4u * x4, 4u); k++) { z[k] = zc[zbase + 4u * x4 + k]; }
      dnA += dot(qa[x4], z);
      dnB += dot(qb[x4], z);
    }
  }
  if (CAUSAL) {
    var rqA = 0.0;
    var rqB = 0.0;
    if (MODE == 1u) {
      rqA = ldq(gA * p.sq + p.n_in);
      rqB = ldq(gB * p.sq + p.n_in);
    }
    // Keys by increasing lag from the leading row (B forward, A reverse: the one that sees more
    // keys); the other row sees key lag - dd, so its weight is the step before.
    let lead = select(iB, iA, REVERSE);
    let lags = select(tB + 1u, L - tA, REVERSE);
    var w = 1.0;
    var wprev = 1.0;
    for (var lag = 0u; lag < lags; lag++) {
      let j = select(lead - lag, lead + lag, REVERSE);
      let krow = (bh * p.n + j) * p.sk;
      var sA = 0.0;
      var sB = 0.0;
      for (var x4 = 0u; x4 < nx4; x4++) {
        let k4 = ld4k(krow + 4u * x4, p.n_in - 4u * x4);
        sA += dot(qa[x4], k4);
        sB += dot(qb[x4], k4);
      }
      let wf = select(wprev, w, dd == 0u);
      let seen = lag >= dd;
      let activeA = REVERSE || seen;
      let activeB = !REVERSE || seen;
      if (MODE == 0u) {
        dnA += select(0.0, sA, activeA);
        dnB += select(0.0, sB, activeB);
      }
      var psA = sA;
      var psB = sB;
      if (MOMENTUM) {
        psA = sA * (p.gamma * select(wf, w, REVERSE));
        psB = sB * (p.gamma * select(w, wf, REVERSE));
        wprev = w;
        w = 1.0 + p.beta * w;
      }
      if (MODE == 1u) {
        psA += rqA;
        psB += rqB;
      }
      if (MODE == 2u) {
        let rk = ldk((bh * p.n + j) * p.sk + p.n_in);
        psA += rk;
        psB += rk;
      }
      pa[j - c0] = select(0.0, psA, activeA);
      pb[j - c0] = select(0.0, psB, activeB);
    }
  }
  let rvA = row_setup(bh, iA, gA, dnA, validA);
  let rvB = row_setup(bh, iB, gB, dnB, validB);
  let stbase = zbase * p.dv;
  // In-chunk keys of either row: offsets lo .. hi.
  let lo = select(0u, tA, REVERSE);
  let hi = select(tB, L - 1u, REVERSE);
  for (var o4 = 0u; o4 < OUT4; o4++) {
    let o = 4u * o4;
    let v = rows_state4(stbase, o);
    var va = v.a * scale_a;
    var vb = v.b * scale_b;
    if (CAUSAL) {
      for (var jt = lo; jt <= hi; jt++) {
        let v4 = ld4v((bh * p.n + c0 + jt) * p.sv + o, p.n_out - o);
        va += pa[jt] * v4;
        vb += pb[jt] * v4;
      }
    }
    for (var k = 0u; k < min(4u, p.n_out - o); k++) {
      out[gA * p.n_out + o + k] = select(0.0, row_out(gA, zbase, rvA, o + k, va[k]), validA);
      out[gB * p.n_out + o + k] = select(0.0, row_out(gB, zbase, rvB, o + k, vb[k]), validB);
    }
  }
}
