// shaders/linear_attention/attend_quads.wgsl: the other body of the row attend kernels
// ('swiftshader' variant): one thread per four neighbouring tokens of a chunk (a row quad), its
// sums as 4 x 4 matrix products. It defines rows_main with the contract of attend_rows.wgsl (the
// entry files attend_rows_{forward,dq,dk,dv}.wgsl declare MODE, TRANS, their bindings, row_setup
// and row_out, and call it), so each entry file makes a kernel on either body.
// Why: SwiftShader runs invocations as SIMD lanes; what a lane holds in function-scope values
// (mat4x4f here) lives in registers, while a private array indexed in a loop is memory behind
// per-access checks, and a storage load is a gather, about four scalar loads a vec4. The pair body
// keeps its rows in private arrays and loads the chunk's state once per two tokens; this body
// loads the state, in-chunk rows and scores as 4 x 4 blocks into mat4x4f values and multiplies
// them, so each load feeds four rows and the multiply-adds run on registers, like the matmul's
// block product (shaders/matmul/block16.wgsl). Lanes of one chunk differ only in how many key
// quads they visit (at most C / 4).
// The sums are those of attend_rows.wgsl in another order (by quads), so the two bodies agree to
// rounding, not bit for bit.

// A row quad's query-side features, a mat4x4f per four features (column r: row r's four).
var<private> qm: array<mat4x4f, MAX_DIM / 4u>;
// The row quad's weighted in-chunk scores against key quad jq, by quad lag dq = |jq - tq| (column
// r: row r's scores of the quad's four keys; 0 for keys the row does not see).
var<private> pm: array<mat4x4f, MAX_CHUNK / 4u>;
// W(lag) for lag 0 .. C + 3 (the Horner steps of attend_rows.wgsl), momentum only.
var<private> wt: array<f32, MAX_CHUNK + 4u>;

// acc + a b, column by column, one fma at a time (as block16.wgsl's fma4: SwiftShader runs a
// WGSL matrix product as separate multiplies and adds, about half as fast).
fn mac_col(acc: vec4f, a: mat4x4f, x: vec4f) -> vec4f {
  return fma(vec4f(x.w), a[3], fma(vec4f(x.z), a[2], fma(vec4f(x.y), a[1], fma(vec4f(x.x), a[0], acc))));
}

fn mac(acc: mat4x4f, a: mat4x4f, b: mat4x4f) -> mat4x4f {
  return mat4x4f(mac_col(acc[0], a, b[0]), mac_col(acc[1], a, b[1]), mac_col(acc[2], a, b[2]), mac_col(acc[3], a, b[3]));
}

// Four rows of a row-major input at features f .. f + 3, as the columns of a matrix: rows
// `first` .. first + 3 of this (batch, head) clamped onto `last` (loads past the end stay in
// bounds; their products are masked or never stored).
fn rows_q(first: u32, last: u32, f: u32) -> mat4x4f {
  let n = p.n_in - f;
  return mat4x4f(ld4q(min(first, last) * p.sq + f, n), ld4q(min(first + 1u, last) * p.sq + f, n),
                 ld4q(min(first + 2u, last) * p.sq + f, n), ld4q(min(first + 3u, last) * p.sq + f, n));
}

fn rows_k(first: u32, last: u32, f: u32) -> mat4x4f {
  let n = p.n_in - f;
  return mat4x4f(ld4k(min(first, last) * p.sk + f, n), ld4k(min(first + 1u, last) * p.sk + f, n),
                 ld4k(min(first + 2u, last) * p.sk + f, n), ld4k(min(first + 3u, last) * p.sk + f, n));
}

fn rows_v(first: u32, last: u32, o: u32) -> mat4x4f {
  let n = p.n_out - o;
  return mat4x4f(ld4v(min(first, last) * p.sv + o, n), ld4v(min(first + 1u, last) * p.sv + o, n),
                 ld4v(min(first + 2u, last) * p.sv + o, n), ld4v(min(first + 3u, last) * p.sv + o, n));
}

struct StateQuad {
  s: mat4x4f,   // S (or R)
  m: mat4x4f,   // m (or mu); zero without pairs
}

// The state block that multiplies the row quad's features x4 .. x4 + 3 into output columns
// o .. o + 3, as columns: non-TRANS the state rows 4 x4 .. (past n_in the last, whose query lanes
// are 0) at columns o ..; TRANS the state rows o .. (past n_out the last, never stored) at
// features 4 x4 ...
fn state_quad(stbase: u32, o: u32, x4: u32) -> StateQuad {
  var e0: Pair4;
  var e1: Pair4;
  var e2: Pair4;
  var e3: Pair4;
  if (TRANS) {
    let last = p.n_out - 1u;
    let n = p.n_in - 4u * x4;
    let f = stbase + 4u * x4;
    e0 = ld4s(f + o * p.n_in, n);
    e1 = ld4s(f + min(o + 1u, last) * p.n_in, n);
    e2 = ld4s(f + min(o + 2u, last) * p.n_in, n);
    e3 = ld4s(f + min(o + 3u, last) * p.n_in, n);
  } else {
    let lastx = p.n_in - 1u;
    let n = p.n_out - o;
    let x = 4u * x4;
    e0 = ld4s(stbase + x * p.n_out + o, n);
    e1 = ld4s(stbase + min(x + 1u, lastx) * p.n_out + o, n);
    e2 = ld4s(stbase + min(x + 2u, lastx) * p.n_out + o, n);
    e3 = ld4s(stbase + min(x + 3u, lastx) * p.n_out + o, n);
  }
  return StateQuad(mat4x4f(e0.a, e1.a, e2.a, e3.a), mat4x4f(e0.b, e1.b, e2.b, e3.b));
}

// Which of keys b = 0..3 of key quad jq (at quad lag dq) row r of the quad sees, and at what lag:
// a row sees a key of the chunk at lag >= 0 (earlier keys forward, later ones in reverse).
fn quad_lags(r: u32, dq: u32) -> vec4i {
  return select(vec4i(i32(4u * dq + r)) - vec4i(0, 1, 2, 3), vec4i(i32(4u * dq)) + vec4i(0, 1, 2, 3) - vec4i(i32(r)), REVERSE);
}

fn quad_seen(lag: vec4i, jq: u32, L: u32) -> vec4<bool> {
  return (lag >= vec4i(0)) & (vec4u(4u * jq) + vec4u(0u, 1u, 2u, 3u) < vec4u(L));
}

// Row r's weighted scores of the key quad (raw: its raw scores), 0 where it does not see the key.
fn score_row(raw: vec4f, r: u32, dq: u32, jq: u32, L: u32, rq: f32, rk: vec4f) -> vec4f {
  let lag = quad_lags(r, dq);
  var v = raw;
  if (MOMENTUM) {
    let lg = vec4u(max(lag, vec4i(0)));
    v = raw * (p.gamma * vec4f(wt[lg.x], wt[lg.y], wt[lg.z], wt[lg.w]));
  }
  if (MODE == 1u) { v += vec4f(rq); }
  if (MODE == 2u) { v += rk; }
  return select(vec4f(0.0), v, quad_seen(lag, jq, L));
}

// The forward's normaliser terms: each row's raw scores of the keys it sees, summed.
fn seen_sums(s: mat4x4f, dq: u32, jq: u32, L: u32) -> vec4f {
  let one = vec4f(1.0);
  return vec4f(dot(select(vec4f(0.0), s[0], quad_seen(quad_lags(0u, dq), jq, L)), one),
               dot(select(vec4f(0.0), s[1], quad_seen(quad_lags(1u, dq), jq, L)), one),
               dot(select(vec4f(0.0), s[2], quad_seen(quad_lags(2u, dq), jq, L)), one),
               dot(select(vec4f(0.0), s[3], quad_seen(quad_lags(3u, dq), jq, L)), one));
}

// row_setup of token i (none past N).
fn setup_row(bh: u32, i: u32, base: u32, dn: f32, nb: u32) -> f32 {
  if (i >= p.n) { return 0.0; }
  return row_setup(bh, i, base + i, dn, i < nb);
}

// Row i0 + r's outputs o .. o + 3 (those inside n_out; a row past N is not stored).
fn store_row(i: u32, gr: u32, zbase: u32, rv: f32, o: u32, v: vec4f, valid: bool) {
  if (i >= p.n) { return; }
  for (var k = 0u; k < min(4u, p.n_out - o); k++) {
    out[gr * p.n_out + o + k] = select(0.0, row_out(gr, zbase, rv, o + k, v[k]), valid);
  }
}

// Row r's state term with the momentum part taken off: S - gamma alpha_t m, as each row sees it.
fn seen_state(a: mat4x4f, m: mat4x4f, coef: vec4f) -> mat4x4f {
  return mat4x4f(a[0] - coef.x * m[0], a[1] - coef.y * m[1], a[2] - coef.z * m[2], a[3] - coef.w * m[3]);
}

fn scale_cols(a: mat4x4f, scale: vec4f) -> mat4x4f {
  return mat4x4f(a[0] * scale.x, a[1] * scale.y, a[2] * scale.z, a[3] * scale.w);
}

// The row quad's outputs o .. o + 3.
fn store_block(i0: u32, base: u32, zbase: u32, rv: vec4f, o: u32, a: mat4x4f, nb: u32) {
  store_row(i0, base + i0, zbase, rv.x, o, a[0], i0 < nb);
  store_row(i0 + 1u, base + i0 + 1u, zbase, rv.y, o, a[1], i0 + 1u < nb);
  store_row(i0 + 2u, base + i0 + 2u, zbase, rv.z, o, a[2], i0 + 2u < nb);
  store_row(i0 + 3u, base + i0 + 3u, zbase, rv.w, o, a[3], i0 + 3u < nb);
}

fn rows_main(wid: vec3u, nwg: vec3u, lid: u32) {
  let g = grid_index(wid, nwg) * WG1 + lid;
  let nq = (p.n + 3u) / 4u;   // row quads per sequence (C is a multiple of 4)
  if (g >= p.nbh * nq) { return; }
  let bh = g / nq;
  let i0 = (g - bh * nq) * 4u;   // the quad's first token
  let c = i0 / C;
  let c0 = c * C;
  let L = chunk_len(c);
  let tq = (i0 - c0) / 4u;        // the quad's index in its chunk
  let nql = (L + 3u) / 4u;        // quads in the chunk
  let base = bh * p.n;            // the global row of token 0
  let lastrow = base + c0 + L - 1u;
  let zbase = z_base(bh, c);
  let stbase = zbase * p.dv;
  let nb = seq_len(bh);
  for (var x4 = 0u; x4 < IN4; x4++) { qm[x4] = rows_q(base + i0, lastrow, 4u * x4); }
  let t0 = i0 - c0;
  let last = L - 1u;
  let coef = vec4f(row_coef_of(min(t0, last), L), row_coef_of(min(t0 + 1u, last), L),
                   row_coef_of(min(t0 + 2u, last), L), row_coef_of(min(t0 + 3u, last), L));
  let scale = vec4f(row_scale_of(bh, i0), row_scale_of(bh, i0 + 1u), row_scale_of(bh, i0 + 2u), row_scale_of(bh, i0 + 3u));
  var dn = vec4f(0.0);
  if (MODE == 0u) {
    for (var x4 = 0u; x4 < IN4; x4++) {
      var z = vec4f(0.0);
      for (var k = 0u; k < min(p.n_in - 4u * x4, 4u); k++) { z[k] = zc[zbase + 4u * x4 + k]; }
      dn += z * qm[x4];   // row r: q_r . z
    }
  }
  // Key quads by quad lag dq: forward jq = tq - dq (dq <= tq), reverse jq = tq + dq (jq < nql).
  let nlag = select(tq + 1u, nql - tq, REVERSE);
  if (CAUSAL) {
    if (MOMENTUM) {
      var w = 1.0;
      for (var lag = 0u; lag < C + 4u; lag++) {
        wt[lag] = w;
        w = 1.0 + p.beta * w;
      }
    }
    var rq = vec4f(0.0);
    if (MODE == 1u) {
      for (var r = 0u; r < 4u; r++) { rq[r] = ldq(min(base + i0 + r, lastrow) * p.sq + p.n_in); }
    }
    for (var dq = 0u; dq < nlag; dq++) {
      let jq = select(tq - dq, tq + dq, REVERSE);
      let j0 = base + c0 + 4u * jq;   // the key quad's first row
      var s = mat4x4f();
      for (var x4 = 0u; x4 < IN4; x4++) {
        s = mac(s, transpose(rows_k(j0, lastrow, 4u * x4)), qm[x4]);   // s[r][b]: row r, key b
      }
      var rk = vec4f(0.0);
      if (MODE == 2u) {
        for (var b = 0u; b < 4u; b++) { rk[b] = ldk(min(j0 + b, lastrow) * p.sk + p.n_in); }
      }
      let ps = mat4x4f(score_row(s[0], 0u, dq, jq, L, rq.x, rk), score_row(s[1], 1u, dq, jq, L, rq.y, rk),
                       score_row(s[2], 2u, dq, jq, L, rq.z, rk), score_row(s[3], 3u, dq, jq, L, rq.w, rk));
      if (MODE == 0u) { dn += seen_sums(s, dq, jq, L); }
      pm[dq] = ps;
    }
  }
  let rv = vec4f(setup_row(bh, i0, base, dn.x, nb), setup_row(bh, i0 + 1u, base, dn.y, nb),
                 setup_row(bh, i0 + 2u, base, dn.z, nb), setup_row(bh, i0 + 3u, base, dn.w, nb));
  // Output columns in blocks of 16 (four 4 x 4 accumulators, so each loop iteration does four
  // products: SwiftShader pays per iteration for the values a loop carries); a block's columns
  // past n_out repeat the last four and are not stored.
  let last4 = OUT4 - 1u;
  for (var ob = 0u; ob < (OUT4 + 3u) / 4u; ob++) {
    let o0 = 16u * ob;
    let o1 = 4u * min(4u * ob + 1u, last4);
    let o2 = 4u * min(4u * ob + 2u, last4);
    let o3 = 4u * min(4u * ob + 3u, last4);
    var a0 = mat4x4f();   // columns o0 .. o0 + 3; column r: row r's
    var a1 = mat4x4f();
    var a2 = mat4x4f();
    var a3 = mat4x4f();
    var m0 = mat4x4f();   // the m (mu) part, scaled by each row's coefficient below
    var m1 = mat4x4f();
    var m2 = mat4x4f();
    var m3 = mat4x4f();
    for (var x4 = 0u; x4 < IN4; x4++) {
      let q = qm[x4];
      let s0 = state_quad(stbase, o0, x4);
      let s1 = state_quad(stbase, o1, x4);
      let s2 = state_quad(stbase, o2, x4);
      let s3 = state_quad(stbase, o3, x4);
      if (TRANS) {
        a0 = mac(a0, transpose(s0.s), q);
        a1 = mac(a1, transpose(s1.s), q);
        a2 = mac(a2, transpose(s2.s), q);
        a3 = mac(a3, transpose(s3.s), q);
        if (MOMENTUM && CAUSAL) {
          m0 = mac(m0, transpose(s0.m), q);
          m1 = mac(m1, transpose(s1.m), q);
          m2 = mac(m2, transpose(s2.m), q);
          m3 = mac(m3, transpose(s3.m), q);
        }
      } else {
        a0 = mac(a0, s0.s, q);
        a1 = mac(a1, s1.s, q);
        a2 = mac(a2, s2.s, q);
        a3 = mac(a3, s3.s, q);
        if (MOMENTUM && CAUSAL) {
          m0 = mac(m0, s0.m, q);
          m1 = mac(m1, s1.m, q);
          m2 = mac(m2, s2.m, q);
          m3 = mac(m3, s3.m, q);
        }
      }
    }
    if (MOMENTUM && CAUSAL) {
      a0 = seen_state(a0, m0, coef);
      a1 = seen_state(a1, m1, coef);
      a2 = seen_state(a2, m2, coef);
      a3 = seen_state(a3, m3, coef);
    }
    if (NC_SCALE) {
      a0 = scale_cols(a0, scale);
      a1 = scale_cols(a1, scale);
      a2 = scale_cols(a2, scale);
      a3 = scale_cols(a3, scale);
    }
    if (CAUSAL) {
      for (var dq = 0u; dq < nlag; dq++) {
        let jq = select(tq - dq, tq + dq, REVERSE);
        let j0 = base + c0 + 4u * jq;
        let w = pm[dq];
        a0 = mac(a0, rows_v(j0, lastrow, o0), w);
        a1 = mac(a1, rows_v(j0, lastrow, o1), w);
        a2 = mac(a2, rows_v(j0, lastrow, o2), w);
        a3 = mac(a3, rows_v(j0, lastrow, o3), w);
      }
    }
    store_block(i0, base, zbase, rv, o0, a0, nb);
    if (4u * ob + 1u < OUT4) { store_block(i0, base, zbase, rv, o1, a1, nb); }
    if (4u * ob + 2u < OUT4) { store_block(i0, base, zbase, rv, o2, a2, nb); }
    if (4u * ob + 3u < OUT4) { store_block(i0, base, zbase, rv, o3, a3, nb); }
  }
}
