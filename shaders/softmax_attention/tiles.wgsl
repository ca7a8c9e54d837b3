// shaders/softmax_attention/tiles.wgsl: what the tiled kernels ('gpu' variant) share: tile
// overrides, workgroup tiles and the loaders of q, k, v tiles.

override TPR: u32 = 8u;   // threads sharing one tile row
override BQ: u32 = 32u;   // query rows per tile
override BK: u32 = 32u;   // key rows per tile
override KS: u32 = 33u;   // row stride of q/k tiles, >= d and odd so column reads hit distinct banks
override VS: u32 = 33u;   // row stride of v/dOut tiles, >= dv and odd
override NK: u32 = 1u;    // ceil(d / TPR): d-columns per thread; a constant so loops unroll
override NV: u32 = 1u;    // ceil(dv / TPR)
override NS: u32 = 4u;    // ceil(BK / TPR): score columns per thread in the forward
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
