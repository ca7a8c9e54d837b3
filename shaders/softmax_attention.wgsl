// Multi-head softmax attention, MATH.md eq. (1): out_i = sum_j softmax_j(q_i . k_j / sqrt(D)) v_j,
// causal (j <= i) or not. q, k: [BH, N, D], v, out, dOut: [BH, N, Dv], lse, delta: [BH, N], all
// row-major with BH = batch * heads.
//
// Two variants of every pass, picked by the host (kernels/softmaxAttention.ts):
// - tiled (real GPUs), FlashAttention-2 style. The forward streams key/value blocks through
//   workgroup memory with an online softmax and keeps only the row's logsumexp, never an N x N
//   matrix. The backward recomputes the probabilities from that logsumexp: `backward_dkdv` walks
//   the query blocks for one key block, `backward_dq` the key blocks for one query block, so each
//   output element has exactly one writer (no atomics, fixed summation order, deterministic).
//   TPR threads share a tile row: they split the score columns, then the output columns.
// - rows (SwiftShader): one thread per query (or key) row and no workgroup memory or barriers,
//   which SwiftShader runs several times faster than the tiled kernels.
// Plus `step`, the single-token decoder over a KV cache, and `backward_delta`, shared by both.

struct AttnParams {
  bh: u32,       // batch * heads
  n: u32,        // sequence length (queries and keys)
  d: u32,        // query/key head size
  dv: u32,       // value head size
  causal: u32,   // 1: query i sees keys j <= i only
  scale: f32,    // 1 / sqrt(d)
}

struct KvParams {
  d: u32,
  dv: u32,
  max_seq: u32,  // rows per head in the cache
  pos: u32,      // the new token's row; it attends to rows 0..pos
  scale: f32,
}

// Every variable has its own binding so that any entry point's set is valid (some alias by role).
@group(0) @binding(0) var<uniform> p: AttnParams;
@group(0) @binding(1) var<storage, read> q: array<f32>;            // [BH, N, D]
@group(0) @binding(2) var<storage, read> k: array<f32>;            // [BH, N, D]
@group(0) @binding(3) var<storage, read> v: array<f32>;            // [BH, N, Dv]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;    // [BH, N]
@group(0) @binding(6) var<storage, read> o_saved: array<f32>;      // forward's out [BH, N, Dv]
@group(0) @binding(7) var<storage, read> lse_saved: array<f32>;    // forward's lse [BH, N]
@group(0) @binding(8) var<storage, read> dout: array<f32>;         // [BH, N, Dv]
@group(0) @binding(9) var<storage, read_write> delta: array<f32>;  // [BH, N]
@group(0) @binding(10) var<storage, read> delta_in: array<f32>;    // [BH, N]
@group(0) @binding(11) var<storage, read_write> dq: array<f32>;    // [BH, N, D]
@group(0) @binding(12) var<storage, read_write> dk: array<f32>;    // [BH, N, D]
@group(0) @binding(13) var<storage, read_write> dv: array<f32>;    // [BH, N, Dv]
@group(0) @binding(14) var<uniform> kp: KvParams;
@group(0) @binding(15) var<storage, read_write> k_cache: array<f32>;  // [BH, maxSeq, D]
@group(0) @binding(16) var<storage, read_write> v_cache: array<f32>;  // [BH, maxSeq, Dv]

// Stands in for -infinity (WGSL has no literal for it) and marks masked scores; finite, so
// m - m_new stays finite while a row has seen no key yet.
const NEG: f32 = -1e30;
// Longest head (D or Dv) the kernels accept; the rows variant keeps rows of this length privately.
const MAX_DIM: u32 = 128u;
// Per-thread accumulator slots of the tiled kernels: NK, NV <= ACC (the host checks it).
const ACC: u32 = 16u;

override TPR: u32 = 8u;   // threads sharing one tile row
override BQ: u32 = 32u;   // query rows per tile
override BK: u32 = 32u;   // key rows per tile
override KS: u32 = 33u;   // row stride of q/k tiles, >= d and odd so column reads hit distinct banks
override VS: u32 = 33u;   // row stride of v/dOut tiles, >= dv and odd
override NK: u32 = 1u;    // ceil(d / TPR): d-columns per thread; a constant so loops unroll
override NV: u32 = 1u;    // ceil(dv / TPR)
override NS: u32 = 4u;    // ceil(BK / TPR): score columns per thread in the forward
override WG: u32 = 64u;   // threads per workgroup of the rows kernels and of `step`
override STEP_NV: u32 = 2u;  // ceil(dv / WG)
// Threads of the tiled kernels: a tile row of queries (forward, dq) or keys (dkdv) per TPR threads.
// Derived overrides, not expressions in @workgroup_size, which webgpu-utils' parser rejects.
override Q_THREADS: u32 = BQ * TPR;
override K_THREADS: u32 = BK * TPR;

var<workgroup> q_tile: array<f32, BQ * KS>;          // [BQ, d]
var<workgroup> do_tile: array<f32, BQ * VS>;         // [BQ, dv]
var<workgroup> k_tile: array<f32, BK * KS>;          // [BK, d]
var<workgroup> v_tile: array<f32, BK * VS>;          // [BK, dv]
var<workgroup> s_tile: array<f32, BQ * (BK + 1u)>;   // [BQ, BK] probabilities (forward) or dS (dq); +1 pads banks
var<workgroup> red_tile: array<f32, BQ * TPR>;       // per-thread partial row maxima (forward)
var<workgroup> pt_tile: array<f32, BK * (BQ + 1u)>;  // [BK, BQ] probabilities, transposed (dkdv)
var<workgroup> dst_tile: array<f32, BK * (BQ + 1u)>; // [BK, BQ] dS, transposed (dkdv)
var<workgroup> lse_tile: array<f32, BQ>;
var<workgroup> delta_tile: array<f32, BQ>;
var<workgroup> step_q: array<f32, MAX_DIM>;
var<workgroup> step_s: array<f32, WG>;  // scores of one block of keys
var<workgroup> step_p: array<f32, WG>;  // their probabilities, each computed once

fn allowed(i: u32, j: u32) -> bool {
  return i < p.n && j < p.n && (p.causal == 0u || j <= i);
}

// One past the last key that query rows [i0, i0 + rows) may see.
fn key_end(i0: u32, rows: u32) -> u32 {
  if (p.causal != 0u) { return min(p.n, i0 + rows); }
  return p.n;
}

// The tile loaders copy rows [r0, r0 + rows) of one head (zeros past n) with all `threads` threads;
// consecutive threads read consecutive addresses since the rows are contiguous in memory.
fn load_q(bh: u32, r0: u32, lid: u32, threads: u32) {
  let base = (bh * p.n + r0) * p.d;
  let avail = min(BQ, p.n - r0) * p.d;
  for (var e = lid; e < BQ * p.d; e += threads) {
    let r = e / p.d;
    var x = 0.0;
    if (e < avail) { x = q[base + e]; }
    q_tile[r * KS + e - r * p.d] = x;
  }
}

fn load_do(bh: u32, r0: u32, lid: u32, threads: u32) {
  let base = (bh * p.n + r0) * p.dv;
  let avail = min(BQ, p.n - r0) * p.dv;
  for (var e = lid; e < BQ * p.dv; e += threads) {
    let r = e / p.dv;
    var x = 0.0;
    if (e < avail) { x = dout[base + e]; }
    do_tile[r * VS + e - r * p.dv] = x;
  }
}

fn load_k(bh: u32, r0: u32, lid: u32, threads: u32) {
  let base = (bh * p.n + r0) * p.d;
  let avail = min(BK, p.n - r0) * p.d;
  for (var e = lid; e < BK * p.d; e += threads) {
    let r = e / p.d;
    var x = 0.0;
    if (e < avail) { x = k[base + e]; }
    k_tile[r * KS + e - r * p.d] = x;
  }
}

fn load_v(bh: u32, r0: u32, lid: u32, threads: u32) {
  let base = (bh * p.n + r0) * p.dv;
  let avail = min(BK, p.n - r0) * p.dv;
  for (var e = lid; e < BK * p.dv; e += threads) {
    let r = e / p.dv;
    var x = 0.0;
    if (e < avail) { x = v[base + e]; }
    v_tile[r * VS + e - r * p.dv] = x;
  }
}

// ---------------------------------------------------------------------------------------------
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
  let kend = key_end(i0, BQ);
  for (var j0 = 0u; j0 < kend; j0 += BK) {
    load_k(bh, j0, lid, threads);
    load_v(bh, j0, lid, threads);
    workgroupBarrier();
    var sc: array<f32, ACC>;  // scores of columns t + u * TPR
    var local_max = NEG;
    for (var u = 0u; u < NS; u++) {
      let jj = t + u * TPR;
      var s = NEG;
      if (jj < BK && allowed(i, j0 + jj)) {
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
    let inv = 1.0 / l;
    for (var u = 0u; u < NV; u++) {
      let c = t + u * TPR;
      if (c < p.dv) { out[g * p.dv + c] = acc[u] * inv; }
    }
    if (t == 0u) { lse[g] = m + log(l); }
  }
}

// Rows forward: one thread per query row, online softmax one key at a time.
@compute @workgroup_size(WG)
fn forward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * WG + lid;
  if (g >= p.bh * p.n) { return; }
  let bh = g / p.n;
  let i = g - bh * p.n;
  var qs: array<f32, MAX_DIM>;   // q_i * scale
  var acc: array<f32, MAX_DIM>;  // sum_j exp(s_ij - m) v_j
  for (var c = 0u; c < p.d; c++) { qs[c] = q[g * p.d + c] * p.scale; }
  var m = NEG;
  var l = 0.0;
  var jend = p.n;
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

// ---------------------------------------------------------------------------------------------
// Backward, with P_ij = exp(s_ij - lse_i), dP_ij = dO_i . v_j, dS_ij = P_ij (dP_ij - delta_i):
//   dv_j = sum_i P_ij dO_i,  dk_j = scale sum_i dS_ij q_i,  dq_i = scale sum_j dS_ij k_j.

// delta_i = dO_i . O_i (= sum_j P_ij dP_ij), one thread per row.
@compute @workgroup_size(WG)
fn backward_delta(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * WG + lid;
  if (g >= p.bh * p.n) { return; }
  var s = 0.0;
  for (var c = 0u; c < p.dv; c++) { s += dout[g * p.dv + c] * o_saved[g * p.dv + c]; }
  delta[g] = s;
}

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
  let kend = key_end(i0, BQ);
  for (var j0 = 0u; j0 < kend; j0 += BK) {
    load_k(bh, j0, lid, threads);
    load_v(bh, j0, lid, threads);
    workgroupBarrier();
    for (var jj = t; jj < BK; jj += TPR) {
      var ds = 0.0;
      if (allowed(i, j0 + jj)) {
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

// Tiled dk, dv: workgroup (key block, bh); BK rows x TPR threads; walks the query blocks.
@compute @workgroup_size(K_THREADS)
fn backward_dkdv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let threads = K_THREADS;
  let bh = wid.y;
  let j0 = wid.x * BK;
  let r = lid / TPR;
  let t = lid - r * TPR;
  let j = j0 + r;
  load_k(bh, j0, lid, threads);
  load_v(bh, j0, lid, threads);
  var acc_k: array<f32, ACC>;  // dk columns t + u * TPR, before the final scale
  var acc_v: array<f32, ACC>;  // dv columns t + u * TPR
  let prow = r * (BQ + 1u);
  var i_start = 0u;
  // Causal: query blocks wholly above this key block see none of its keys.
  if (p.causal != 0u) { i_start = (j0 / BQ) * BQ; }
  for (var i0 = i_start; i0 < p.n; i0 += BQ) {
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
      if (allowed(i0 + ii, j)) {
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

// Rows dq: one thread per query row, walking its keys.
@compute @workgroup_size(WG)
fn backward_dq_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * WG + lid;
  if (g >= p.bh * p.n) { return; }
  let bh = g / p.n;
  let i = g - bh * p.n;
  var qs: array<f32, MAX_DIM>;   // q_i * scale
  var dor: array<f32, MAX_DIM>;  // dO_i
  var acc: array<f32, MAX_DIM>;  // dq_i / scale
  for (var c = 0u; c < p.d; c++) { qs[c] = q[g * p.d + c] * p.scale; }
  for (var c = 0u; c < p.dv; c++) { dor[c] = dout[g * p.dv + c]; }
  let lse_i = lse_saved[g];
  let delta_i = delta_in[g];
  var jend = p.n;
  if (p.causal != 0u) { jend = i + 1u; }
  for (var j = 0u; j < jend; j++) {
    let kr = (bh * p.n + j) * p.d;
    let vr = (bh * p.n + j) * p.dv;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s += qs[c] * k[kr + c]; }
    var dp = 0.0;
    for (var c = 0u; c < p.dv; c++) { dp += dor[c] * v[vr + c]; }
    let ds = exp(s - lse_i) * (dp - delta_i);
    for (var c = 0u; c < p.d; c++) { acc[c] += ds * k[kr + c]; }
  }
  for (var c = 0u; c < p.d; c++) { dq[g * p.d + c] = acc[c] * p.scale; }
}

// Rows dk, dv: one thread per key row, walking the queries that see it.
@compute @workgroup_size(WG)
fn backward_dkdv_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * WG + lid;
  if (g >= p.bh * p.n) { return; }
  let bh = g / p.n;
  let j = g - bh * p.n;
  var ks: array<f32, MAX_DIM>;     // k_j * scale
  var vr: array<f32, MAX_DIM>;     // v_j
  var acc_k: array<f32, MAX_DIM>;  // dk_j / scale
  var acc_v: array<f32, MAX_DIM>;  // dv_j
  for (var c = 0u; c < p.d; c++) { ks[c] = k[g * p.d + c] * p.scale; }
  for (var c = 0u; c < p.dv; c++) { vr[c] = v[g * p.dv + c]; }
  var i = 0u;
  if (p.causal != 0u) { i = j; }
  for (; i < p.n; i++) {
    let gi = bh * p.n + i;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s += q[gi * p.d + c] * ks[c]; }
    var dp = 0.0;
    for (var c = 0u; c < p.dv; c++) { dp += dout[gi * p.dv + c] * vr[c]; }
    let pr = exp(s - lse_saved[gi]);
    let ds = pr * (dp - delta_in[gi]);
    for (var c = 0u; c < p.dv; c++) { acc_v[c] += pr * dout[gi * p.dv + c]; }
    for (var c = 0u; c < p.d; c++) { acc_k[c] += ds * q[gi * p.d + c]; }
  }
  for (var c = 0u; c < p.d; c++) { dk[g * p.d + c] = acc_k[c] * p.scale; }
  for (var c = 0u; c < p.dv; c++) { dv[g * p.dv + c] = acc_v[c]; }
}

// ---------------------------------------------------------------------------------------------
// Decoding step: workgroup per bh. Writes the new k, v (q, k, v: [BH, 1, D|Dv]) into cache row
// `pos`, then attends q over rows 0..pos: WG keys at a time, one score per thread, then each
// thread folds the block into its output columns lid + u * WG.
@compute @workgroup_size(WG)
fn step(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bh = wid.x;
  let row0 = bh * kp.max_seq;  // first cache row of this head
  for (var c = lid; c < kp.d; c += WG) {
    k_cache[(row0 + kp.pos) * kp.d + c] = k[bh * kp.d + c];
    step_q[c] = q[bh * kp.d + c] * kp.scale;
  }
  for (var c = lid; c < kp.dv; c += WG) { v_cache[(row0 + kp.pos) * kp.dv + c] = v[bh * kp.dv + c]; }
  // Other threads of this workgroup read the row just written.
  storageBarrier();
  workgroupBarrier();
  let len = kp.pos + 1u;
  var m = NEG;
  var l = 0.0;
  var acc: array<f32, ACC>;
  for (var j0 = 0u; j0 < len; j0 += WG) {
    let j = j0 + lid;
    var s = NEG;
    if (j < len) {
      s = 0.0;
      for (var c = 0u; c < kp.d; c++) { s += step_q[c] * k_cache[(row0 + j) * kp.d + c]; }
    }
    step_s[lid] = s;
    workgroupBarrier();
    let count = min(WG, len - j0);
    var bm = NEG;
    for (var jj = 0u; jj < count; jj++) { bm = max(bm, step_s[jj]); }
    let m_new = max(m, bm);
    var e = 0.0;
    if (j < len) { e = exp(s - m_new); }
    step_p[lid] = e;
    workgroupBarrier();
    let alpha = exp(m - m_new);
    l *= alpha;
    for (var u = 0u; u < STEP_NV; u++) { acc[u] *= alpha; }
    for (var jj = 0u; jj < count; jj++) {
      let pj = step_p[jj];
      l += pj;
      let vr = (row0 + j0 + jj) * kp.dv;
      for (var u = 0u; u < STEP_NV; u++) {
        let c = lid + u * WG;
        if (c < kp.dv) { acc[u] += pj * v_cache[vr + c]; }
      }
    }
    m = m_new;
    workgroupBarrier();  // step_s and step_p are rewritten by the next block
  }
  let inv = 1.0 / l;
  for (var u = 0u; u < STEP_NV; u++) {
    let c = lid + u * WG;
    if (c < kp.dv) { out[bh * kp.dv + c] = acc[u] * inv; }
  }
}
