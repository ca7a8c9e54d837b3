// Linear attention (MATH.md eq. 7) and momentum attention (eqs. 12-14) with phi = elu + 1, as an
// O(N) chunked scan (MATH.md section 9). One family serves both: `MOMENTUM = false` removes every
// momentum term, which is exactly momentum attention at beta = 0, gamma = 1 (every weight is then
// 1 and every momentum coefficient 0), so linear attention pays nothing for it.
//
// Per (batch, head) the sequence is cut into chunks of C tokens. With u_j = phi(k_j) v_j^T and the
// state (S, m) carried into a chunk, token i at offset t of the chunk sees
//     S_i = S - gamma alpha_t m + gamma sum_{j in chunk, j <= i} W(i - j) u_j,
//     W(d) = sum_{s=0}^{d} beta^s,  alpha_t = beta W(t),
// and the chunk hands on m' = beta^L m - sum_j beta^(L-1-tau_j) u_j and S' = S_(last token).
// Three passes: `chunk_sums` (every chunk's local sums, in parallel), `scan` (the carried state at
// every chunk start, one thread per state entry, a short loop over chunks) and `attend_fwd` (each
// chunk's output from its carried state and a small masked quadratic part). The normaliser
// z_i = sum_{j <= i} phi(k_j) is a plain prefix, carried beside S.
//
// The backward is the same machinery: with g_i = dout_i / den_i and r_i = -(dout_i . out_i) / den_i
// (`bwd_prep`), the gradient reaching u_j is R_j = gamma sum_{i >= j} W(i - j) phi(q_i) g_i^T, a
// momentum scan run backwards in time (`chunk_sums` and `scan` with REVERSE). `attend_bwd` then
// gives dq from the forward states (MODE 1), and dk (MODE 2) and dv (MODE 3) from the reverse ones.
//
// Non-causal attention (eq. 14) uses the final state for every token (CAUSAL = false).
// `step` is the recurrent form (12), one token at a time, for sampling.
// These are the tiled kernels for real GPUs; the end of the file has SwiftShader's variant of
// chunk_sums + scan (`sums_scan_rows`, one pass) and attend (`attend_rows_*`, with dk and dv
// in one pass), which shares bwd_prep and step.
// No atomics: every sum has one owner and a fixed order, so runs repeat bit for bit.
//
// States are stored [BH, NC+1, D, Dv, P]: P = 2 interleaves S and m per entry (momentum), so one
// 8-byte load fetches both; P = 1 holds S alone (linear attention, and the plain totals of the
// non-causal backward).

struct Params {
  n: u32,        // tokens per sequence N
  nc: u32,       // chunks per sequence, ceil(N / C)
  nbh: u32,      // batch * heads
  dq: u32,       // features contracted in scores and against the state (attend)
  dout: u32,     // features of the output (attend)
  d: u32,        // query/key head size D
  dv: u32,       // value head size Dv
  sq: u32,       // row stride of xq (attend) or a (chunk_sums)
  sk: u32,       // row stride of xk (attend) or b (chunk_sums)
  sv: u32,       // row stride of xv (attend)
  nblk: u32,     // column blocks per chunk (attend), tiles along D (chunk_sums)
  nblk2: u32,    // tiles along Dv (chunk_sums)
  beta: f32,
  gamma: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

// chunk_sums
@group(0) @binding(1) var<storage, read> a: array<f32>;             // [BH, N, sq]: k, or q (reverse)
@group(0) @binding(2) var<storage, read> b: array<f32>;             // [BH, N, sk]: v, or g|r (reverse)
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;      // [BH, NC+1, D, Dv, P]
@group(0) @binding(5) var<storage, read_write> zs: array<f32>;      // [BH, NC+1, D]

// attend_fwd / attend_bwd
@group(0) @binding(6) var<storage, read> xq: array<f32>;            // [BH, N, sq] query side
@group(0) @binding(7) var<storage, read> xk: array<f32>;            // [BH, N, sk] key side
@group(0) @binding(8) var<storage, read> xv: array<f32>;            // [BH, N, sv] value side
@group(0) @binding(9) var<storage, read> st: array<f32>;            // [BH, NC+1, D, Dv, SP] S (or R) | m (or mu)
@group(0) @binding(10) var<storage, read> st2: array<vec2f>;        // the same, as (S, m) pairs (row kernels)
@group(0) @binding(11) var<storage, read> zc: array<f32>;           // [BH, NC+1, D] z (or zeta)
@group(0) @binding(12) var<storage, read_write> out: array<f32>;    // [BH, N, dout]
@group(0) @binding(13) var<storage, read_write> den: array<f32>;    // [BH, N]
@group(0) @binding(14) var<storage, read> xd: array<f32>;           // [BH, N, dout]: q or k, for phi'

// bwd_prep
@group(0) @binding(15) var<storage, read> dy: array<f32>;           // [BH, N, Dv]
@group(0) @binding(16) var<storage, read> y: array<f32>;            // [BH, N, Dv]
@group(0) @binding(17) var<storage, read> den_in: array<f32>;       // [BH, N]
@group(0) @binding(18) var<storage, read_write> gr: array<f32>;     // [BH, N, Dv + 1]

// step
@group(0) @binding(19) var<storage, read> q1: array<f32>;           // [BH, D]
@group(0) @binding(20) var<storage, read> k1: array<f32>;           // [BH, D]
@group(0) @binding(21) var<storage, read> v1: array<f32>;           // [BH, Dv]
@group(0) @binding(22) var<storage, read_write> s1: array<f32>;     // [BH, D, Dv]
@group(0) @binding(23) var<storage, read_write> m1: array<f32>;     // [BH, D, Dv]
@group(0) @binding(24) var<storage, read_write> z1: array<f32>;     // [BH, D]
@group(0) @binding(25) var<storage, read_write> o1: array<f32>;     // [BH, Dv]

// Register tiles are fixed-size arrays; the overrides below say how much of them is used.
const MAX_R: u32 = 4u;       // rows (tokens, or state rows) per thread
const MAX_S: u32 = 4u;       // columns per thread
const KS: u32 = 16u;         // features or tokens per staged slice

override T: u32 = 16u;       // the workgroup is T x T threads
override C: u32 = 32u;       // chunk length; a multiple of T, at most MAX_R * T
override RT: u32 = 2u;       // rows per thread: C / T (attend), D-tile / T (chunk_sums)
override ST: u32 = 2u;       // columns per thread: the output or Dv tile is T * ST wide
override SMEM: u32 = 3072u;  // floats of staging memory (computed by the host from the above)
override MOMENTUM: bool = true;
override CAUSAL: bool = true;
override REVERSE: bool = false;
override MODE: u32 = 0u;     // attend: 0 forward, 1 dq, 2 dk, 3 dv
override PHI_Q: bool = true; // apply phi to xq (or a) on load
override PHI_K: bool = true;
override PHI_V: bool = false;
override TRANS: bool = false;     // attend contracts the state's Dv index (state read as [o][x])
override NC_SCALE: bool = false;  // non-causal dk/dv: scale the state term by gamma W(N-1-j)
override HAS_ZW: bool = false;    // chunk_sums: weight the z sums by r (b's column Dv)
override WG1: u32 = 64u;          // threads of the 1-D kernels
override SP: u32 = 1u;            // attend: floats per entry of the state it reads (P above)

var<workgroup> sh: array<f32, SMEM>;
var<workgroup> wtab: array<f32, C>;   // W(d) for d < C
var<workgroup> ptab: array<f32, C>;   // beta^d for d < C

fn phi(x: f32) -> f32 {
  return select(exp(x), x + 1.0, x > 0.0);
}

fn dphi(x: f32) -> f32 {
  return select(exp(x), 1.0, x > 0.0);
}

// W(d) by Horner (1 + beta (1 + beta (...))): positive terms only, so no cancellation as beta -> 1,
// and exactly 1 at beta = 0.
fn fill_tables(lid: u32) {
  for (var d = lid; d < C; d += T * T) {
    var w = 1.0;
    var pw = 1.0;
    for (var s = 0u; s < d; s++) {
      w = 1.0 + p.beta * w;
      pw = pw * p.beta;
    }
    wtab[d] = w;
    ptab[d] = pw;
  }
}

// beta^e by repeated squaring: log2(e) roundings instead of e, and no pow(), whose log2-based
// error grows with the exponent.
fn beta_pow(e: u32) -> f32 {
  var result = 1.0;
  var base = p.beta;
  var k = e;
  loop {
    if (k == 0u) { break; }
    if ((k & 1u) == 1u) { result = result * base; }
    base = base * base;
    k = k >> 1u;
  }
  return result;
}

// W(d) for any d: the table below C; beyond it 1 - beta^(d+1) >= 1 - beta^(C+1) is far from 0,
// so the closed form loses nothing to cancellation.
fn weight_far(d: u32) -> f32 {
  if (d < C) { return wtab[d]; }
  return (1.0 - beta_pow(d + 1u)) / (1.0 - p.beta);
}

fn chunk_len(c: u32) -> u32 {
  return min(C, p.n - c * C);
}

// Floats per state entry that chunk_sums and scan write: (S, m) pairs with momentum.
fn pairs() -> u32 {
  return select(1u, 2u, MOMENTUM);
}

// ---------------------------------------------------------------------------------------------
// chunk_sums: for chunk c, H_c = sum_tau W(lag) a_tau b_tau^T, G_c = sum_tau beta^lag a_tau b_tau^T
// (lag = distance to the chunk's end in the scan's direction) and zs_c = sum_tau [r_tau] a_tau,
// with a = phi(k), b = v forward, a = phi(q), b = g reverse. Written to slot c as (H, G) pairs
// (H alone without momentum); `scan` turns them into carried states in place. A workgroup owns
// one (T RT) x (T ST) tile of the D x Dv sums.
// sh: a slice [KS][T RT] at 0, b slice [KS][T ST] after it, then r [KS].
@compute @workgroup_size(T, T)
fn chunk_sums(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let bh = wid.y;
  let tiles = p.nblk * p.nblk2;
  let c = wid.x / tiles;
  let td = (wid.x % tiles) / p.nblk2;
  let te = wid.x % p.nblk2;
  let tx = lid % T;
  let ty = lid / T;
  let DT = T * RT;
  let ET = T * ST;
  let d0 = td * DT;
  let e0 = te * ET;
  let s0 = c * C;
  let L = chunk_len(c);
  let bs_off = KS * DT;
  let zw_off = bs_off + KS * ET;
  if (MOMENTUM) { fill_tables(lid); }

  var hacc: array<f32, 16>;   // [MAX_R][MAX_S]
  var gacc: array<f32, 16>;
  var zacc: array<f32, 4>;
  for (var i = 0u; i < MAX_R * MAX_S; i++) { hacc[i] = 0.0; gacc[i] = 0.0; }
  for (var i = 0u; i < MAX_R; i++) { zacc[i] = 0.0; }

  for (var t0 = 0u; t0 < L; t0 += KS) {
    for (var idx = lid; idx < KS * DT; idx += T * T) {
      let tt = idx / DT;
      let dd = idx % DT;
      var val = 0.0;
      if (t0 + tt < L && d0 + dd < p.d) {
        val = phi(a[(bh * p.n + s0 + t0 + tt) * p.sq + d0 + dd]);
      }
      sh[idx] = val;
    }
    for (var idx = lid; idx < KS * ET; idx += T * T) {
      let tt = idx / ET;
      let ee = idx % ET;
      var val = 0.0;
      if (t0 + tt < L && e0 + ee < p.dv) {
        val = b[(bh * p.n + s0 + t0 + tt) * p.sk + e0 + ee];
      }
      sh[bs_off + idx] = val;
    }
    if (HAS_ZW) {
      for (var tt = lid; tt < KS; tt += T * T) {
        var val = 0.0;
        if (t0 + tt < L) { val = b[(bh * p.n + s0 + t0 + tt) * p.sk + p.dv]; }
        sh[zw_off + tt] = val;
      }
    }
    workgroupBarrier();
    let tn = min(KS, L - t0);
    for (var tt = 0u; tt < tn; tt++) {
      let tau = t0 + tt;
      let lag = select(L - 1u - tau, tau, REVERSE);
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var r = 0u; r < RT; r++) { av[r] = sh[tt * DT + ty + T * r]; }
      for (var s = 0u; s < ST; s++) { bv[s] = sh[bs_off + tt * ET + tx + T * s]; }
      if (MOMENTUM) {
        let wh = wtab[lag];
        let wg = ptab[lag];
        for (var r = 0u; r < RT; r++) {
          let ah = wh * av[r];
          let ag = wg * av[r];
          for (var s = 0u; s < ST; s++) {
            hacc[r * MAX_S + s] += ah * bv[s];
            gacc[r * MAX_S + s] += ag * bv[s];
          }
        }
      } else {
        for (var r = 0u; r < RT; r++) {
          for (var s = 0u; s < ST; s++) { hacc[r * MAX_S + s] += av[r] * bv[s]; }
        }
      }
      if (tx == 0u) {
        var zw = 1.0;
        if (HAS_ZW) { zw = sh[zw_off + tt]; }
        for (var r = 0u; r < RT; r++) { zacc[r] += zw * av[r]; }
      }
    }
    workgroupBarrier();
  }

  let base = (bh * (p.nc + 1u) + c) * p.d * p.dv;
  for (var r = 0u; r < RT; r++) {
    let d = d0 + ty + T * r;
    if (d >= p.d) { continue; }
    for (var s = 0u; s < ST; s++) {
      let e = e0 + tx + T * s;
      if (e >= p.dv) { continue; }
      hs[(base + d * p.dv + e) * pairs()] = hacc[r * MAX_S + s];
      if (MOMENTUM) { hs[(base + d * p.dv + e) * 2u + 1u] = gacc[r * MAX_S + s]; }
    }
    if (tx == 0u && te == 0u) { zs[(bh * (p.nc + 1u) + c) * p.d + d] = zacc[r]; }
  }
}

// ---------------------------------------------------------------------------------------------
// scan: one thread per entry of (S, m) or of z, looping over the chunks in scan order. Slot c
// holds chunk c's sums on entry and the state carried into chunk c on exit; slot NC gets the
// state after the whole sequence (the non-causal state).
@compute @workgroup_size(WG1)
fn scan(@builtin(global_invocation_id) gid: vec3u) {
  let bh = gid.y;
  let idx = gid.x;
  let nst = p.d * p.dv;
  if (idx >= nst + p.d) { return; }
  // Coefficients of a full chunk and of the (possibly shorter) last one.
  let last_len = p.n - (p.nc - 1u) * C;
  var w_full = 1.0;
  var p_full = 1.0;
  var w_last = 1.0;
  var p_last = 1.0;
  if (MOMENTUM) {
    // W(L - 1) by Horner and beta^L, for L = C and L = last_len.
    for (var s = 1u; s < C; s++) {
      w_full = 1.0 + p.beta * w_full;
      if (s < last_len) { w_last = w_full; }
    }
    for (var s = 0u; s < C; s++) {
      p_full = p_full * p.beta;
      if (s < last_len) { p_last = p_full; }
    }
  }
  if (idx < nst) {
    var cs = 0.0;
    var cm = 0.0;
    for (var k = 0u; k < p.nc; k++) {
      let c = select(k, p.nc - 1u - k, REVERSE);
      let off = ((bh * (p.nc + 1u) + c) * nst + idx) * pairs();
      let h = hs[off];
      hs[off] = cs;
      if (MOMENTUM) {
        let g = hs[off + 1u];
        hs[off + 1u] = cm;
        let is_last = c == p.nc - 1u;
        let a_l = p.beta * select(w_full, w_last, is_last);
        let b_l = select(p_full, p_last, is_last);
        let ncs = cs - (p.gamma * a_l) * cm + p.gamma * h;
        cm = b_l * cm - g;
        cs = ncs;
      } else {
        cs = cs + h;
      }
    }
    let off = ((bh * (p.nc + 1u) + p.nc) * nst + idx) * pairs();
    hs[off] = cs;
    if (MOMENTUM) { hs[off + 1u] = cm; }
  } else {
    let d = idx - nst;
    var cz = 0.0;
    for (var k = 0u; k < p.nc; k++) {
      let c = select(k, p.nc - 1u - k, REVERSE);
      let off = (bh * (p.nc + 1u) + c) * p.d + d;
      let h = zs[off];
      zs[off] = cz;
      cz = cz + h;
    }
    zs[(bh * (p.nc + 1u) + p.nc) * p.d + d] = cz;
  }
}

// ---------------------------------------------------------------------------------------------
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

// r of a token: the last column of the g|r rows, on the query side (dq) or the key side (dk).
fn r_at(bh: u32, tok: u32) -> f32 {
  if (MODE == 1u) { return xq[(bh * p.n + tok) * p.sq + p.dq]; }
  return xk[(bh * p.n + tok) * p.sk + p.dq];
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
  let slot = select(p.nc, c, CAUSAL);
  let stbase = (bh * (p.nc + 1u) + slot) * p.d * p.dv;
  let zbase = (bh * (p.nc + 1u) + slot) * p.d;
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
  for (var x0 = 0u; x0 < p.dq; x0 += KS) {
    for (var idx = lid; idx < C * KS; idx += T * T) {
      let i = idx / KS;
      let x = idx % KS;
      var val = 0.0;
      if (i < L && x0 + x < p.dq) { val = xq_at(bh, s0 + i, x0 + x); }
      sh[idx] = val;
    }
    if (CAUSAL) {
      for (var idx = lid; idx < C * KS; idx += T * T) {
        let j = idx / KS;
        let x = idx % KS;
        var val = 0.0;
        if (j < L && x0 + x < p.dq) { val = xk_at(bh, s0 + j, x0 + x); }
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
      if (x0 + x < p.dq && o0 + o < p.dout) {
        var e: u32;
        if (TRANS) { e = (o0 + o) * p.dq + x0 + x; } else { e = (x0 + x) * p.dout + o0 + o; }
        sv = st[(stbase + e) * SP];
        if (MOMENTUM && CAUSAL) { mv = st[(stbase + e) * SP + 1u]; }
      }
      sh[ms_off + x * OB + o] = sv;
      if (MOMENTUM && CAUSAL) { sh[mm_off + x * OB + o] = mv; }
    }
    workgroupBarrier();
    let xn = min(KS, p.dq - x0);
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
        rk[u] = select(0.0, r_at(bh, s0 + j), j < L);
      }
    }
    for (var r = 0u; r < RT; r++) {
      let i = ty + T * r;
      var rq = 0.0;
      if (MODE == 1u && i < L) { rq = r_at(bh, s0 + i); }
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
        if (j0 + jj < L && o0 + o < p.dout) { val = xv_at(bh, s0 + j0 + jj, o0 + o); }
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

@compute @workgroup_size(T, T)
fn attend_fwd(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_core(lid, wid);
  let bh = wid.y;
  let c = wid.x / p.nblk;
  let ob = wid.x % p.nblk;
  let tx = lid % T;
  let ty = lid / T;
  let o0 = ob * T * ST;
  let L = chunk_len(c);
  for (var r = 0u; r < RT; r++) {
    let i = ty + T * r;
    if (i >= L) { continue; }
    let tok = bh * p.n + c * C + i;
    var dn = dz[r];
    if (CAUSAL) {
      var rs = 0.0;
      for (var t = 0u; t < T; t++) { rs += sh[C * C + i * T + t]; }
      dn = rs + dn;
    }
    if (tx == 0u && ob == 0u) { den[tok] = dn; }
    for (var s = 0u; s < ST; s++) {
      let o = o0 + tx + T * s;
      if (o >= p.dout) { continue; }
      var num = acc[r * MAX_S + s];
      if (CAUSAL) { num = num + intra[r * MAX_S + s]; }
      out[tok * p.dout + o] = num / dn;
    }
  }
}

@compute @workgroup_size(T, T)
fn attend_bwd(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_core(lid, wid);
  let bh = wid.y;
  let c = wid.x / p.nblk;
  let ob = wid.x % p.nblk;
  let tx = lid % T;
  let ty = lid / T;
  let o0 = ob * T * ST;
  let L = chunk_len(c);
  let slot = select(p.nc, c, CAUSAL);
  let zbase = (bh * (p.nc + 1u) + slot) * p.d;
  for (var r = 0u; r < RT; r++) {
    let i = ty + T * r;
    if (i >= L) { continue; }
    let tok = c * C + i;
    var scale = 1.0;
    if (NC_SCALE && MOMENTUM && !CAUSAL) { scale = p.gamma * weight_far(p.n - 1u - tok); }
    var rq = 0.0;
    if (MODE == 1u) { rq = r_at(bh, tok); }
    for (var s = 0u; s < ST; s++) {
      let o = o0 + tx + T * s;
      if (o >= p.dout) { continue; }
      var val = acc[r * MAX_S + s];
      if (NC_SCALE && MOMENTUM && !CAUSAL) { val = val * scale; }
      if (CAUSAL) { val = val + intra[r * MAX_S + s]; }
      if (MODE == 1u) { val = val + rq * zc[zbase + o]; }
      if (MODE == 2u) { val = val + zc[zbase + o]; }
      let at = (bh * p.n + tok) * p.dout + o;
      if (MODE == 1u || MODE == 2u) { val = val * dphi(xd[at]); }
      out[at] = val;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// bwd_prep: per token, g = dout / den and r = -(dout . out) / den, stored as one row [g | r].
@compute @workgroup_size(WG1)
fn bwd_prep(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  let tok = (wid.y * nwg.x + wid.x) * WG1 + lid;
  if (tok >= p.nbh * p.n) { return; }
  let inv = 1.0 / den_in[tok];
  var dot = 0.0;
  for (var e = 0u; e < p.dv; e++) {
    let g = dy[tok * p.dv + e];
    dot += g * y[tok * p.dv + e];
    gr[tok * (p.dv + 1u) + e] = g * inv;
  }
  gr[tok * (p.dv + 1u) + p.dv] = -dot * inv;
}

// ---------------------------------------------------------------------------------------------
// step: eq. (12) for one token, one workgroup per (batch, head), threads over value columns.
//   m = beta m - phi(k) v^T;  S = S - gamma m;  z = z + phi(k);  out = phi(q)^T S / phi(q)^T z.
@compute @workgroup_size(WG1)
fn step(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let bh = wid.x;
  var dn = 0.0;
  for (var d = 0u; d < p.d; d++) {
    dn += phi(q1[bh * p.d + d]) * (z1[bh * p.d + d] + phi(k1[bh * p.d + d]));
  }
  for (var e = lid; e < p.dv; e += WG1) {
    let ve = v1[bh * p.dv + e];
    var num = 0.0;
    for (var d = 0u; d < p.d; d++) {
      let u = phi(k1[bh * p.d + d]) * ve;
      let at = (bh * p.d + d) * p.dv + e;
      var sv: f32;
      if (MOMENTUM) {
        let mv = p.beta * m1[at] - u;
        m1[at] = mv;
        sv = s1[at] - p.gamma * mv;
      } else {
        sv = s1[at] + u;
      }
      s1[at] = sv;
      num += phi(q1[bh * p.d + d]) * sv;
    }
    o1[bh * p.dv + e] = num / dn;
  }
  // Every thread has read z for its normaliser before z moves on.
  workgroupBarrier();
  for (var d = lid; d < p.d; d += WG1) {
    z1[bh * p.d + d] = z1[bh * p.d + d] + phi(k1[bh * p.d + d]);
  }
}

// =============================================================================================
// The SwiftShader variant. SwiftShader runs invocations as CPU SIMD lanes and pays dearly for
// barriers and workgroup memory, so these kernels use neither: one thread per state row (sums) or
// per token (attend), reading rows straight from storage. phi(q), phi(k) come precomputed
// (`phi_map`), since each key row is read by up to C queries. The weights W and beta^lag are
// advanced by the same Horner step as the tables above, one lag at a time.
const MAX_DIM: u32 = 128u;   // largest D or Dv of the row kernels

@group(0) @binding(26) var<storage, read> src: array<f32>;
@group(0) @binding(27) var<storage, read_write> dst: array<f32>;

// dst = phi(src), elementwise over p.n values.
@compute @workgroup_size(WG1)
fn phi_map(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG1 + lid;
  if (i < p.n) { dst[i] = phi(src[i]); }
}

fn b4(base: u32, e: u32) -> vec4f {
  var r = vec4f(0.0);
  if (e < p.dv) { r.x = b[base + e]; }
  if (e + 1u < p.dv) { r.y = b[base + e + 1u]; }
  if (e + 2u < p.dv) { r.z = b[base + e + 2u]; }
  if (e + 3u < p.dv) { r.w = b[base + e + 3u]; }
  return r;
}

fn a4(base: u32, d: u32) -> vec4f {
  var r = vec4f(0.0);
  if (d < p.d) { r.x = a[base + d]; }
  if (d + 1u < p.d) { r.y = a[base + d + 1u]; }
  if (d + 2u < p.d) { r.z = a[base + d + 2u]; }
  if (d + 3u < p.d) { r.w = a[base + d + 3u]; }
  return r;
}

// Writes row d, columns e..e+3 of a state slot: (h, g) pairs with momentum, h alone without.
fn store_sums(base: u32, d: u32, e: u32, h: vec4f, g: vec4f) {
  if (d >= p.d) { return; }
  for (var k = 0u; k < 4u; k++) {
    if (e + k < p.dv) {
      let at = base + d * p.dv + e + k;
      hs[at * pairs()] = h[k];
      if (MOMENTUM) { hs[at * 2u + 1u] = g[k]; }
    }
  }
}

var<private> qrow: array<f32, MAX_DIM>;    // the thread's query-side row
var<private> prow: array<f32, MAX_CHUNK>;  // its weighted in-chunk scores, by lag
var<private> row_coef: f32;                // gamma alpha_t: the momentum state's share
var<private> row_scale: f32;               // non-causal dk, dv: gamma W(N - 1 - j)

const MAX_CHUNK: u32 = 64u;

// W(d) for any d: Horner below C (as the tables), the closed form beyond (see weight_far).
fn weight_any(d: u32) -> f32 {
  if (d < C) {
    var w = 1.0;
    for (var s = 0u; s < d; s++) { w = 1.0 + p.beta * w; }
    return w;
  }
  return (1.0 - beta_pow(d + 1u)) / (1.0 - p.beta);
}

// One token's row of attend (same modes and overrides as attend_core), in two steps: rows_prep
// loads the row, scores the in-chunk keys (by increasing lag) and returns the forward normaliser
// (MODE 0); rows_value(o) then gives output column o, so no output row is kept per thread.
fn rows_prep(bh: u32, i: u32) -> f32 {
  let c = i / C;
  let t = i - c * C;
  let L = chunk_len(c);
  let slot = select(p.nc, c, CAUSAL);
  let zbase = (bh * (p.nc + 1u) + slot) * p.d;
  let row = bh * p.n + i;
  for (var x = 0u; x < p.dq; x++) { qrow[x] = xq[row * p.sq + x]; }
  row_coef = 0.0;
  if (MOMENTUM && CAUSAL) { row_coef = p.gamma * (p.beta * weight_any(select(t, L - 1u - t, REVERSE))); }
  row_scale = 1.0;
  if (NC_SCALE && MOMENTUM && !CAUSAL) { row_scale = p.gamma * weight_any(p.n - 1u - i); }
  var dn = 0.0;
  if (MODE == 0u) {
    for (var x = 0u; x < p.dq; x++) { dn += qrow[x] * zc[zbase + x]; }
  }
  if (CAUSAL) {
    var rq = 0.0;
    if (MODE == 1u) { rq = r_at(bh, i); }
    var w = 1.0;
    let lags = select(t + 1u, L - t, REVERSE);
    for (var lag = 0u; lag < lags; lag++) {
      let j = select(i - lag, i + lag, REVERSE);
      let krow = bh * p.n + j;
      var s = 0.0;
      for (var x = 0u; x < p.dq; x++) { s += qrow[x] * xk[krow * p.sk + x]; }
      if (MODE == 0u) { dn += s; }
      var ps = s;
      if (MOMENTUM) {
        ps = s * (p.gamma * w);
        w = 1.0 + p.beta * w;
      }
      if (MODE == 1u) { ps += rq; }
      if (MODE == 2u) { ps += r_at(bh, j); }
      prow[lag] = ps;
    }
  }
  return dn;
}

// The carried state's entry at `at` as row i sees it: S - gamma alpha_t m (momentum), else S.
fn state_at(at: u32) -> f32 {
  if (MOMENTUM && CAUSAL) {
    let sm = st2[at];
    return sm.x - row_coef * sm.y;
  }
  return st[at * SP];
}

// Each thread of attend_rows_* owns two neighbouring tokens of one chunk (2k, 2k + 1; the second
// repeats the first past the end of the sequence, and writes the same values), so every state
// entry it loads serves both: on the momentum path the (S, m) pair is read once and combined with
// each row's coefficient. rows_prep fills the row slot (qrow, prow, row_coef, row_scale);
// stash_row moves it to the second slot first.
var<private> qrowB: array<f32, MAX_DIM>;
var<private> prowB: array<f32, MAX_CHUNK>;
var<private> coefB: f32;
var<private> scaleB: f32;

fn stash_row() {
  for (var x = 0u; x < p.dq; x++) { qrowB[x] = qrow[x]; }
  for (var l = 0u; l < C; l++) { prowB[l] = prow[l]; }
  coefB = row_coef;
  scaleB = row_scale;
}

struct Pair4 {
  a: vec4f,
  b: vec4f,
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
  let slot = select(p.nc, iA / C, CAUSAL);
  let stbase = (bh * (p.nc + 1u) + slot) * p.d * p.dv;
  let last = p.dout - 1u;
  let cols = vec4u(o, min(o + 1u, last), min(o + 2u, last), min(o + 3u, last));
  var va = vec4f(0.0);
  var vb = vec4f(0.0);
  for (var x = 0u; x < p.dq; x++) {
    var at: vec4u;
    if (TRANS) {
      at = stbase + cols * p.dq + x;
    } else {
      at = stbase + x * p.dout + cols;
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

// (batch * head, first token, second token) of thread g of attend_rows_*.
fn row_pair(g: u32) -> vec3u {
  let np = (p.n + 1u) / 2u;
  let bh = g / np;
  let iA = (g % np) * 2u;
  return vec3u(bh, iA, min(iA + 1u, p.n - 1u));
}

@compute @workgroup_size(WG1)
fn attend_rows_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * WG1 + lid;
  if (g >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(g);
  let bh = pr.x;
  let gA = bh * p.n + pr.y;
  let gB = bh * p.n + pr.z;
  let dnB = rows_prep(bh, pr.z);
  stash_row();
  let dnA = rows_prep(bh, pr.y);
  den[gA] = dnA;
  den[gB] = dnB;
  for (var o = 0u; o < p.dout; o += 4u) {
    let v = rows_value4(bh, pr.y, pr.z, o);
    let va = v.a / dnA;
    let vb = v.b / dnB;
    for (var k = 0u; k < min(4u, p.dout - o); k++) {
      out[gA * p.dout + o + k] = va[k];
      out[gB * p.dout + o + k] = vb[k];
    }
  }
}

// One backward output value at column col of token g, from its state and in-chunk part v.
fn bwd_value(g: u32, zbase: u32, rq: f32, col: u32, v: f32) -> f32 {
  var val = v;
  if (MODE == 1u) { val = val + rq * zc[zbase + col]; }
  if (MODE == 2u) { val = val + zc[zbase + col]; }
  if (MODE == 1u || MODE == 2u) { val = val * dphi(xd[g * p.dout + col]); }
  return val;
}

@compute @workgroup_size(WG1)
fn attend_rows_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * WG1 + lid;
  if (g >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(g);
  let bh = pr.x;
  let gA = bh * p.n + pr.y;
  let gB = bh * p.n + pr.z;
  let slot = select(p.nc, pr.y / C, CAUSAL);
  let zbase = (bh * (p.nc + 1u) + slot) * p.d;
  _ = rows_prep(bh, pr.z);
  stash_row();
  _ = rows_prep(bh, pr.y);
  var rqA = 0.0;
  var rqB = 0.0;
  if (MODE == 1u) {
    rqA = r_at(bh, pr.y);
    rqB = r_at(bh, pr.z);
  }
  for (var o = 0u; o < p.dout; o += 4u) {
    let v = rows_value4(bh, pr.y, pr.z, o);
    for (var k = 0u; k < min(4u, p.dout - o); k++) {
      out[gA * p.dout + o + k] = bwd_value(gA, zbase, rqA, o + k, v.a[k]);
      out[gB * p.dout + o + k] = bwd_value(gB, zbase, rqB, o + k, v.b[k]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// attend_rows_dkv: dk (MODE 2) and dv (MODE 3) of one key token in a single pass, so the reverse
// state (R, mu) is read, and on the momentum path combined to R - gamma alpha_t mu, once for both:
// entry R'[x][o] feeds dv_i[o] += phi(k_i)[x] R'[x][o] and dk_i[x] += R'[x][o] v_i[o]. The in-chunk
// scores of both modes come from one loop over the later keys. Bindings as attend_rows_bwd's
// MODE 2 call (xq = v, xk = g|r, xv = phi(q), xd = k, out = dk), plus xw = phi(k) and out2 = dv.
@group(0) @binding(28) var<storage, read> xw: array<f32>;           // [BH, N, D] phi(k)
@group(0) @binding(29) var<storage, read_write> out2: array<f32>;   // [BH, N, Dv] dv

var<private> vrow: array<f32, MAX_DIM>;     // v_i
var<private> prow3: array<f32, MAX_CHUNK>;  // dv's weighted in-chunk scores, by lag
var<private> dkst: array<f32, MAX_DIM>;     // dk's state term, by feature
var<private> vrowB: array<f32, MAX_DIM>;    // the same for the thread's second token
var<private> prow3B: array<f32, MAX_CHUNK>;
var<private> dkstB: array<f32, MAX_DIM>;

// Loads key token i's rows into slot A (qrow = phi(k_i), vrow, prow, prow3, row_coef, row_scale).
fn dkv_prep(bh: u32, i: u32) {
  let g = bh * p.n + i;
  let c = i / C;
  let t = i - c * C;
  let L = chunk_len(c);
  for (var x = 0u; x < p.d; x++) { qrow[x] = xw[g * p.d + x]; }
  for (var e = 0u; e < p.dv; e++) { vrow[e] = xq[g * p.sq + e]; }
  row_coef = 0.0;
  if (MOMENTUM && CAUSAL) { row_coef = p.gamma * (p.beta * weight_any(L - 1u - t)); }
  row_scale = 1.0;
  if (NC_SCALE && MOMENTUM && !CAUSAL) { row_scale = p.gamma * weight_any(p.n - 1u - i); }
  if (CAUSAL) {
    let lags = L - t;
    var w = 1.0;
    for (var lag = 0u; lag < lags; lag++) {
      let krow = g + lag;
      var s2 = 0.0;
      for (var e = 0u; e < p.dv; e++) { s2 += vrow[e] * xk[krow * p.sk + e]; }
      var s3 = 0.0;
      for (var x = 0u; x < p.d; x++) { s3 += qrow[x] * xv[krow * p.sv + x]; }
      if (MOMENTUM) {
        let f = p.gamma * w;
        s2 = s2 * f;
        s3 = s3 * f;
        w = 1.0 + p.beta * w;
      }
      prow[lag] = s2 + xk[krow * p.sk + p.dv];
      prow3[lag] = s3;
    }
  }
}

// In-chunk part of dv columns cols of key token i (row g) from its scores pr (prow3 or prow3B).
fn dkv_intra_dv(g: u32, lags: u32, cols: vec4u, pr: ptr<private, array<f32, MAX_CHUNK>>) -> vec4f {
  var dv4 = vec4f(0.0);
  for (var lag = 0u; lag < lags; lag++) {
    let row = (g + lag) * p.sk;
    dv4 += (*pr)[lag] * vec4f(xk[row + cols.x], xk[row + cols.y], xk[row + cols.z], xk[row + cols.w]);
  }
  return dv4;
}

// In-chunk part of dk features xs of key token i (row g) from its scores pr (prow or prowB).
fn dkv_intra_dk(g: u32, lags: u32, xs: vec4u, pr: ptr<private, array<f32, MAX_CHUNK>>) -> vec4f {
  var dk4 = vec4f(0.0);
  for (var lag = 0u; lag < lags; lag++) {
    let row = (g + lag) * p.sv;
    dk4 += (*pr)[lag] * vec4f(xv[row + xs.x], xv[row + xs.y], xv[row + xs.z], xv[row + xs.w]);
  }
  return dk4;
}

// Each thread owns two neighbouring key tokens (2k, 2k + 1: one chunk, as C is even; the second
// repeats the first past the end of the sequence and is masked from the stores), so every reverse
// state entry (pair) it loads serves both.
@compute @workgroup_size(WG1)
fn attend_rows_dkv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let gt = (wid.y * nwg.x + wid.x) * WG1 + lid;
  let np = (p.n + 1u) / 2u;
  if (gt >= p.nbh * np) { return; }
  let bh = gt / np;
  let iA = (gt % np) * 2u;
  let hasB = iA + 1u < p.n;
  let iB = min(iA + 1u, p.n - 1u);
  let gA = bh * p.n + iA;
  let gB = bh * p.n + iB;
  let c = iA / C;
  let L = chunk_len(c);
  let slot = select(p.nc, c, CAUSAL);
  let zbase = (bh * (p.nc + 1u) + slot) * p.d;
  let stbase = zbase * p.dv;
  dkv_prep(bh, iB);
  for (var x = 0u; x < p.d; x++) { qrowB[x] = qrow[x]; dkstB[x] = 0.0; dkst[x] = 0.0; }
  for (var e = 0u; e < p.dv; e++) { vrowB[e] = vrow[e]; }
  for (var l = 0u; l < C; l++) { prowB[l] = prow[l]; prow3B[l] = prow3[l]; }
  let coefB = row_coef;
  let scaleB = row_scale;
  dkv_prep(bh, iA);
  let lagsA = L - (iA - c * C);
  let lagsB = L - (iB - c * C);
  // dv, four columns per pass over the state; dk's state term accumulates beside it.
  let lastv = p.dv - 1u;
  for (var o = 0u; o < p.dv; o += 4u) {
    let cols = vec4u(o, min(o + 1u, lastv), min(o + 2u, lastv), min(o + 3u, lastv));
    // Columns past Dv repeat the last one: keep them out of dk's dot product.
    let live = vec4<bool>(true, o + 1u < p.dv, o + 2u < p.dv, o + 3u < p.dv);
    let vA = select(vec4f(0.0), vec4f(vrow[cols.x], vrow[cols.y], vrow[cols.z], vrow[cols.w]), live);
    let vB = select(vec4f(0.0), vec4f(vrowB[cols.x], vrowB[cols.y], vrowB[cols.z], vrowB[cols.w]), live);
    var dvA = vec4f(0.0);
    var dvB = vec4f(0.0);
    for (var x = 0u; x < p.d; x++) {
      let at = stbase + x * p.dv + cols;
      var sA: vec4f;
      var sB: vec4f;
      if (MOMENTUM && CAUSAL) {
        // The reverse state as each key sees it: R - gamma alpha_t mu.
        let e0 = st2[at.x];
        let e1 = st2[at.y];
        let e2 = st2[at.z];
        let e3 = st2[at.w];
        let sv = vec4f(e0.x, e1.x, e2.x, e3.x);
        let mv = vec4f(e0.y, e1.y, e2.y, e3.y);
        sA = sv - row_coef * mv;
        sB = sv - coefB * mv;
      } else {
        sA = vec4f(st[at.x * SP], st[at.y * SP], st[at.z * SP], st[at.w * SP]);
        sB = sA;
      }
      dvA += qrow[x] * sA;
      dvB += qrowB[x] * sB;
      dkst[x] += dot(sA, vA);
      dkstB[x] += dot(sB, vB);
    }
    if (NC_SCALE && MOMENTUM && !CAUSAL) {
      dvA = dvA * row_scale;
      dvB = dvB * scaleB;
    }
    if (CAUSAL) {
      dvA += dkv_intra_dv(gA, lagsA, cols, &prow3);
      dvB += dkv_intra_dv(gB, lagsB, cols, &prow3B);
    }
    for (var k = 0u; k < min(4u, p.dv - o); k++) {
      out2[gA * p.dv + o + k] = dvA[k];
      if (hasB) { out2[gB * p.dv + o + k] = dvB[k]; }
    }
  }
  // dk, four features per pass over the later keys.
  let lastd = p.d - 1u;
  for (var x0 = 0u; x0 < p.d; x0 += 4u) {
    let xs = vec4u(x0, min(x0 + 1u, lastd), min(x0 + 2u, lastd), min(x0 + 3u, lastd));
    var dkA = vec4f(dkst[xs.x], dkst[xs.y], dkst[xs.z], dkst[xs.w]);
    var dkB = vec4f(dkstB[xs.x], dkstB[xs.y], dkstB[xs.z], dkstB[xs.w]);
    if (NC_SCALE && MOMENTUM && !CAUSAL) {
      dkA = dkA * row_scale;
      dkB = dkB * scaleB;
    }
    if (CAUSAL) {
      dkA += dkv_intra_dk(gA, lagsA, xs, &prow);
      dkB += dkv_intra_dk(gB, lagsB, xs, &prowB);
    }
    for (var k = 0u; k < min(4u, p.d - x0); k++) {
      let x = x0 + k;
      out[gA * p.d + x] = (dkA[k] + zc[zbase + x]) * dphi(xd[gA * p.d + x]);
      if (hasB) { out[gB * p.d + x] = (dkB[k] + zc[zbase + x]) * dphi(xd[gB * p.d + x]); }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// sums_scan_rows: chunk_sums and scan in one pass, one thread per (batch * head, 4 rows d,
// 4 columns e of the state) walking every chunk in scan order: it writes the state carried into
// the chunk, forms the chunk's sums in registers (tokens by increasing lag, so W and beta^lag
// advance by one Horner step each) and advances the carried state by them exactly as `scan` does,
// so the sums never go through memory and no second pass reads them back.
@compute @workgroup_size(WG1)
fn sums_scan_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * WG1 + lid;
  let egroups = (p.dv + 3u) / 4u;
  let dgroups = (p.d + 3u) / 4u;
  if (idx >= p.nbh * dgroups * egroups) { return; }
  let e = (idx % egroups) * 4u;
  let rest = idx / egroups;
  let d = (rest % dgroups) * 4u;
  let bh = rest / dgroups;
  // Carried (S, m) rows d..d+3 over columns e..e+3, and z rows d..d+3.
  var cs0 = vec4f(0.0);
  var cs1 = vec4f(0.0);
  var cs2 = vec4f(0.0);
  var cs3 = vec4f(0.0);
  var cm0 = vec4f(0.0);
  var cm1 = vec4f(0.0);
  var cm2 = vec4f(0.0);
  var cm3 = vec4f(0.0);
  var cz = vec4f(0.0);
  for (var k = 0u; k < p.nc; k++) {
    let c = select(k, p.nc - 1u - k, REVERSE);
    let L = chunk_len(c);
    let base = (bh * (p.nc + 1u) + c) * p.d * p.dv;
    store_sums(base, d, e, cs0, cm0);
    store_sums(base, d + 1u, e, cs1, cm1);
    store_sums(base, d + 2u, e, cs2, cm2);
    store_sums(base, d + 3u, e, cs3, cm3);
    if (e == 0u) {
      for (var r = 0u; r < 4u; r++) {
        if (d + r < p.d) { zs[(bh * (p.nc + 1u) + c) * p.d + d + r] = cz[r]; }
      }
    }
    var h0 = vec4f(0.0);
    var h1 = vec4f(0.0);
    var h2 = vec4f(0.0);
    var h3 = vec4f(0.0);
    var g0 = vec4f(0.0);
    var g1 = vec4f(0.0);
    var g2 = vec4f(0.0);
    var g3 = vec4f(0.0);
    var zsum = vec4f(0.0);
    var w = 1.0;
    var wl = 1.0;   // W(L - 1) once the loop ends
    var pw = 1.0;
    for (var lag = 0u; lag < L; lag++) {
      let tau = select(L - 1u - lag, lag, REVERSE);
      let tok = bh * p.n + c * C + tau;
      let av = a4(tok * p.sq, d);
      let bv = b4(tok * p.sk, e);
      if (MOMENTUM) {
        let ah = w * av;
        let ag = pw * av;
        h0 += ah.x * bv;
        h1 += ah.y * bv;
        h2 += ah.z * bv;
        h3 += ah.w * bv;
        g0 += ag.x * bv;
        g1 += ag.y * bv;
        g2 += ag.z * bv;
        g3 += ag.w * bv;
        wl = w;
        w = 1.0 + p.beta * w;
        pw = pw * p.beta;
      } else {
        h0 += av.x * bv;
        h1 += av.y * bv;
        h2 += av.z * bv;
        h3 += av.w * bv;
      }
      if (e == 0u) {
        var zw = 1.0;
        if (HAS_ZW) { zw = b[tok * p.sk + p.dv]; }
        zsum += zw * av;
      }
    }
    if (MOMENTUM) {
      // As scan: S' = S - gamma beta W(L - 1) m + gamma H, m' = beta^L m - G.
      let ca = p.gamma * (p.beta * wl);
      cs0 = cs0 - ca * cm0 + p.gamma * h0;
      cs1 = cs1 - ca * cm1 + p.gamma * h1;
      cs2 = cs2 - ca * cm2 + p.gamma * h2;
      cs3 = cs3 - ca * cm3 + p.gamma * h3;
      cm0 = pw * cm0 - g0;
      cm1 = pw * cm1 - g1;
      cm2 = pw * cm2 - g2;
      cm3 = pw * cm3 - g3;
    } else {
      cs0 = cs0 + h0;
      cs1 = cs1 + h1;
      cs2 = cs2 + h2;
      cs3 = cs3 + h3;
    }
    cz = cz + zsum;
  }
  let base = (bh * (p.nc + 1u) + p.nc) * p.d * p.dv;
  store_sums(base, d, e, cs0, cm0);
  store_sums(base, d + 1u, e, cs1, cm1);
  store_sums(base, d + 2u, e, cs2, cm2);
  store_sums(base, d + 3u, e, cs3, cm3);
  if (e == 0u) {
    for (var r = 0u; r < 4u; r++) {
      if (d + r < p.d) { zs[(bh * (p.nc + 1u) + p.nc) * p.d + d + r] = cz[r]; }
    }
  }
}
