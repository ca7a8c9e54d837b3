// shaders/linear_attention/attend_tiled.wgsl: the body of the tiled attend kernels ('gpu'
// variant). Each entry file (attend_tiled_forward, _dq, _dk, _dv) declares the constants that
// specialise it: MODE (0 forward, 1 dq, 2 dk, 3 dv), TRANS (contract the state's Dv index, i.e.
// read it as [o][x]) and PHI_Q, PHI_K, PHI_V (apply phi to xq, xk, xv as they are loaded).
// Each entry point is `attend_tiled(lid, wid)`: attend_core, then the epilogue below, which calls
// the entry file's tile_row (what a row needs once) and tile_store (one output value).
// attend: one workgroup per (chunk, block of T ST output columns, batch * head). Thread (ty, tx)
// owns rows ty + T r of the chunk and output columns tx + T s of the block.
//   phase 1, over slices of KS contracted features x: scores sc[i][j] = xq_i . xk_j and the state
//            term acc[i][o] = sum_x xq_i[x] M[x][o] (and accm with m), from staged slices;
//   phase 2: masked, weighted scores P to workgroup memory;
//   phase 3, over slices of KS tokens j: intra[i][o] += P[i][j] xv_j[o].
// sh, phase 1: xq [C][KS] at 0, xk [KS][C] at C KS, S [KS][OB] at 2 C KS, m [KS][OB] after it;
// phases 2-3: P [C][C] at 0, row sums [C][T] at C C, xv [KS][OB] after them.
var<private> acc: array<f32, 16>;     // [MAX_R][MAX_S] state term
var<private> accm: array<f32, 16>;    // [MAX_R][MAX_S] momentum-state term
var<private> intra: array<f32, 16>;   // [MAX_R][MAX_S] within-chunk term
var<private> sc: array<f32, 16>;      // [MAX_R][MAX_R] scores
var<private> dz: array<f32, 4>;       // [MAX_R] xq_i . z_c (forward normaliser)
var<private> rsum: array<f32, 4>;     // [MAX_R] partial row sums of the unweighted scores

fn xq_at(bh: u32, tok: u32, x: u32) -> f32 {
  let val = xq[(bh * p.n + tok) * p.sq + x];
  if (PHI_Q) { return phi(val); }
  return val;
}

fn xk_at(bh: u32, tok: u32, x: u32) -> f32 {
  let val = xk[(bh * p.n + tok) * p.sk + x];
  if (PHI_K) { return phi(val); }
  return val;
}

fn xv_at(bh: u32, tok: u32, o: u32) -> f32 {
  let val = xv[(bh * p.n + tok) * p.sv + o];
  if (PHI_V) { return phi(val); }
  return val;
}

fn attend_core(lid: u32, wid: vec3u) {
  let bh = wid.y;
  let c = wid.x / p.nblk;
  let ob = wid.x % p.nblk;
  let tx = lid % T;
  let ty = lid / T;
  let OB = T * ST;
  let o0 = ob * OB;
  let s0 = c * C;
  let L = chunk_len(c);
  let zbase = z_base(bh, c);
  let stbase = zbase * p.dv;
  let xk_off = C * KS;
  let ms_off = 2u * C * KS;
  let mm_off = ms_off + KS * OB;
  let p_off = 0u;
  let rs_off = C * C;
  let vs_off = C * C + C * T;
  if (CAUSAL || NC_SCALE) { fill_tables(lid); }

  for (var i = 0u; i < MAX_R * MAX_S; i++) { acc[i] = 0.0; accm[i] = 0.0; intra[i] = 0.0; sc[i] = 0.0; }
  for (var i = 0u; i < MAX_R; i++) { dz[i] = 0.0; rsum[i] = 0.0; }

  // Phase 1.
  for (var x0 = 0u; x0 < p.n_in; x0 += KS) {
    for (var idx = lid; idx < C * KS; idx += T * T) {
      let i = idx / KS;
      let x = idx % KS;
      var val = 0.0;
      if (i < L && x0 + x < p.n_in) { val = xq_at(bh, s0 + i, x0 + x); }
      sh[idx] = val;
    }
    if (CAUSAL) {
      for (var idx = lid; idx < C * KS; idx += T * T) {
        let j = idx / KS;
        let x = idx % KS;
        var val = 0.0;
        if (j < L && x0 + x < p.n_in) { val = xk_at(bh, s0 + j, x0 + x); }
        sh[xk_off + x * C + j] = val;
      }
    }
    for (var idx = lid; idx < KS * OB; idx += T * T) {
      // The state is [D][Dv]; TRANS reads it as [o][x], so let x vary fastest there.
      var x: u32;
      var o: u32;
      if (TRANS) { x = idx % KS; o = idx / KS; } else { x = idx / OB; o = idx % OB; }
      var sv = 0.0;
      var mv = 0.0;
      if (x0 + x < p.n_in && o0 + o < p.n_out) {
        var e: u32;
        if (TRANS) { e = (o0 + o) * p.n_in + x0 + x; } else { e = (x0 + x) * p.n_out + o0 + o; }
        sv = st[(stbase + e) * SP];
        if (MOMENTUM && CAUSAL) { mv = st[(stbase + e) * SP + 1u]; }
      }
      sh[ms_off + x * OB + o] = sv;
      if (MOMENTUM && CAUSAL) { sh[mm_off + x * OB + o] = mv; }
    }
    workgroupBarrier();
    let xn = min(KS, p.n_in - x0);
    for (var x = 0u; x < xn; x++) {
      var qv: array<f32, 4>;
      var sv: array<f32, 4>;
      for (var r = 0u; r < RT; r++) { qv[r] = sh[(ty + T * r) * KS + x]; }
      for (var s = 0u; s < ST; s++) { sv[s] = sh[ms_off + x * OB + tx + T * s]; }
      for (var r = 0u; r < RT; r++) {
        for (var s = 0u; s < ST; s++) { acc[r * MAX_S + s] += qv[r] * sv[s]; }
      }
      if (MOMENTUM && CAUSAL) {
        var mv: array<f32, 4>;
        for (var s = 0u; s < ST; s++) { mv[s] = sh[mm_off + x * OB + tx + T * s]; }
        for (var r = 0u; r < RT; r++) {
          for (var s = 0u; s < ST; s++) { accm[r * MAX_S + s] += qv[r] * mv[s]; }
        }
      }
      if (CAUSAL) {
        var kv: array<f32, 4>;
        for (var u = 0u; u < RT; u++) { kv[u] = sh[xk_off + x * C + tx + T * u]; }
        for (var r = 0u; r < RT; r++) {
          for (var u = 0u; u < RT; u++) { sc[r * MAX_R + u] += qv[r] * kv[u]; }
        }
      }
      if (MODE == 0u) {
        let zx = zc[zbase + x0 + x];
        for (var r = 0u; r < RT; r++) { dz[r] += qv[r] * zx; }
      }
    }
    workgroupBarrier();
  }

  // The carried state as seen by row i: S - gamma alpha_t m, t = the row's offset in scan order.
  if (MOMENTUM && CAUSAL) {
    for (var r = 0u; r < RT; r++) {
      let i = min(ty + T * r, L - 1u);
      let t = select(i, L - 1u - i, REVERSE);
      let coef = p.gamma * (p.beta * wtab[t]);
      for (var s = 0u; s < ST; s++) { acc[r * MAX_S + s] = acc[r * MAX_S + s] - coef * accm[r * MAX_S + s]; }
    }
  }

  if (CAUSAL) {
    // Phase 2.
    var rk: array<f32, 4>;
    if (MODE == 2u) {
      for (var u = 0u; u < RT; u++) {
        let j = tx + T * u;
        rk[u] = select(0.0, r_key(bh, s0 + j), j < L);
      }
    }
    for (var r = 0u; r < RT; r++) {
      let i = ty + T * r;
      var rq = 0.0;
      if (MODE == 1u && i < L) { rq = r_query(bh, s0 + i); }
      for (var u = 0u; u < RT; u++) {
        let j = tx + T * u;
        let valid = i < L && j < L && select(j <= i, j >= i, REVERSE);
        var s = select(0.0, sc[r * MAX_R + u], valid);
        if (MODE == 0u) { rsum[r] += s; }
        if (MOMENTUM && valid) {
          let lag = select(i - j, j - i, REVERSE);
          s = s * (p.gamma * wtab[lag]);
        }
        if (MODE == 1u) { s += select(0.0, rq, valid); }
        if (MODE == 2u) { s += select(0.0, rk[u], valid); }
        sh[p_off + i * C + j] = s;
      }
      if (MODE == 0u) { sh[rs_off + i * T + tx] = rsum[r]; }
    }
    // Phase 3.
    for (var j0 = 0u; j0 < L; j0 += KS) {
      for (var idx = lid; idx < KS * OB; idx += T * T) {
        let jj = idx / OB;
        let o = idx % OB;
        var val = 0.0;
        if (j0 + jj < L && o0 + o < p.n_out) { val = xv_at(bh, s0 + j0 + jj, o0 + o); }
        sh[vs_off + idx] = val;
      }
      workgroupBarrier();
      let jn = min(KS, L - j0);
      for (var jj = 0u; jj < jn; jj++) {
        var vv: array<f32, 4>;
        for (var s = 0u; s < ST; s++) { vv[s] = sh[vs_off + jj * OB + tx + T * s]; }
        for (var r = 0u; r < RT; r++) {
          let pr = sh[p_off + (ty + T * r) * C + j0 + jj];
          for (var s = 0u; s < ST; s++) { intra[r * MAX_S + s] += pr * vv[s]; }
        }
      }
      workgroupBarrier();
    }
  }
}

// Where thread lid of workgroup wid writes once attend_core has run: batch-head bh, chunk c of
// length len, output block ob whose first column is o0 (the thread owns rows ty + T r and columns
// o0 + tx + T s), the example's length nb and the chunk's z row zb.
struct OutTile {
  bh: u32,
  c: u32,
  ob: u32,
  tx: u32,
  ty: u32,
  o0: u32,
  len: u32,
  nb: u32,
  zb: u32,
}

// The epilogue every tiled entry shares. For each of the thread's rows (token tok, valid when
// before the example's length) tile_row gives the row's one value (forward: its normaliser, dq:
// r, else 0); for each of its columns o tile_store gets val = state term + in-chunk term, the
// state term scaled by gamma W(N_b - 1 - j) on the non-causal dk and dv (NC_SCALE) path.
fn attend_tiled(lid: u32, wid: vec3u) {
  attend_core(lid, wid);
  let c = wid.x / p.nblk;
  let ob = wid.x % p.nblk;
  let t = OutTile(wid.y, c, ob, lid % T, lid / T, ob * T * ST, chunk_len(c), seq_len(wid.y), z_base(wid.y, c));
  for (var r = 0u; r < RT; r++) {
    let i = t.ty + T * r;
    if (i >= t.len) { continue; }
    let tok = c * C + i;
    let valid = tok < t.nb;
    var scale = 1.0;
    if (NC_SCALE && MOMENTUM && !CAUSAL) { scale = p.gamma * weight_far(t.nb - 1u - min(tok, t.nb - 1u)); }
    let rv = tile_row(t, r, i, tok, valid);
    for (var s = 0u; s < ST; s++) {
      let o = t.o0 + t.tx + T * s;
      if (o >= p.n_out) { continue; }
      var val = acc[r * MAX_S + s];
      if (NC_SCALE && MOMENTUM && !CAUSAL) { val = val * scale; }
      if (CAUSAL) { val = val + intra[r * MAX_S + s]; }
      tile_store(t, tok, o, val, rv, valid);
    }
  }
}
