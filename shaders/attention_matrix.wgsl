// The effective attention matrix A [BH, N, N] (MATH.md section 11): the weight query i puts on
// value j, so that attention's output is out_i = sum_j A_ij v_j. For the inspector only: it is an
// N x N matrix on purpose, for N up to a few thousand (the host refuses more).
//   kind 0, softmax:  A_ij = exp(s_ij - m_i) / l_i,  s_ij = q_i . k_j / sqrt(D)
//   kind 1, linear:   A_ij = phi(q_i) . phi(k_j) / (phi(q_i) . z_i)
//   kind 2, momentum: A_ij = gamma w_ij phi(q_i) . phi(k_j) / (phi(q_i) . z_i), with
//                     w_ij = (1 - beta^(i-j+1)) / (1 - beta) (causal, eq. 13) or
//                     w_j  = (1 - beta^(N-j+1)) / (1 - beta) (non-causal, eq. 14; j 1-based)
// phi = elu + 1; z_i = sum of phi(k_j) over the keys query i sees, so phi(q_i) . z_i is the sum of
// the row's unweighted scores, which the first pass accumulates. Causal: A_ij = 0 for j > i.
//
// One workgroup per block of BQ query rows of one (batch, head), BQ x BK threads: thread (r, c)
// owns entry (row r, key c) of each BQ x BK tile. q and k tiles go through workgroup memory in
// chunks of DC columns, so any head size works. Pass 1 walks the key tiles for each row's
// statistics (softmax: running max and sum of exponentials; linear/momentum: the normaliser),
// summed by one thread per row in a fixed order (no atomics, deterministic); pass 2 recomputes the
// same scores and writes the weights. Rows or keys past N are masked (any shape works), and so
// are those past an example's length: seq_len(bh) comes from attention_matrix_lengths_full.wgsl
// (N) or, with key-padding lengths, attention_matrix_lengths_masked.wgsl, joined after this file.

struct MatrixParams {
  bh: u32,       // batch * heads
  heads: u32,    // heads per example (lengths are per example)
  n: u32,        // sequence length
  d: u32,        // query/key head size
  kind: u32,     // 0 softmax, 1 linear, 2 momentum
  causal: u32,   // 1: query i sees keys j <= i only
  scale: f32,    // 1 / sqrt(d) (softmax)
  beta: f32,     // momentum in [0, 1)
  gamma: f32,    // momentum step size
}

@group(0) @binding(0) var<uniform> p: MatrixParams;
@group(0) @binding(1) var<storage, read> q: array<f32>;           // [BH, N, D]
@group(0) @binding(2) var<storage, read> k: array<f32>;           // [BH, N, D]
@group(0) @binding(3) var<storage, read_write> weights: array<f32>;  // [BH, N, N]

// Stands in for -infinity for masked softmax scores; finite, so m - m_new stays finite.
const NEG: f32 = -1e30;

override BQ: u32 = 16u;   // query rows per tile
override BK: u32 = 16u;   // key rows per tile
override DC: u32 = 16u;   // head columns per chunk of the q/k tiles
override THREADS: u32 = 256u;  // BQ * BK (a derived override: webgpu-utils rejects expressions in @workgroup_size)

var<workgroup> q_tile: array<f32, BQ * (DC + 1u)>;   // [BQ, DC] (+1 pads banks)
var<workgroup> k_tile: array<f32, BK * (DC + 1u)>;   // [BK, DC]
var<workgroup> s_tile: array<f32, BQ * (BK + 1u)>;   // [BQ, BK] masked scores of one tile
var<workgroup> row_m: array<f32, BQ>;                // softmax: the row's max score
var<workgroup> row_l: array<f32, BQ>;                // softmax: sum of exp(s - m); else the normaliser

// Whether query i sees key j in a head whose valid tokens are 0..nb-1 (nb = seq_len(bh)).
fn visible(i: u32, j: u32, nb: u32) -> bool {
  return i < nb && j < nb && (p.causal == 0u || j <= i);
}

// The score of (row0 + r, col0 + c): every thread of the workgroup must call it (it has barriers).
fn tile_score(base: u32, row0: u32, col0: u32, r: u32, c: u32, lid: u32) -> f32 {
  var acc = 0.0;
  let linear = p.kind != 0u;
  for (var d0 = 0u; d0 < p.d; d0 += DC) {
    // BQ * DC and BK * DC elements, loaded by the BQ * BK threads in turn.
    for (var e = lid; e < BQ * DC; e += THREADS) {
      let rr = e / DC;
      let cc = e % DC;
      let row = row0 + rr;
      var x = 0.0;
      if (row < p.n && d0 + cc < p.d) {
        x = q[(base + row) * p.d + d0 + cc];
        if (linear) { x = phi(x); }
      }
      q_tile[rr * (DC + 1u) + cc] = x;
    }
    for (var e = lid; e < BK * DC; e += THREADS) {
      let rr = e / DC;
      let cc = e % DC;
      let row = col0 + rr;
      var x = 0.0;
      if (row < p.n && d0 + cc < p.d) {
        x = k[(base + row) * p.d + d0 + cc];
        if (linear) { x = phi(x); }
      }
      k_tile[rr * (DC + 1u) + cc] = x;
    }
    workgroupBarrier();
    for (var cc = 0u; cc < DC; cc++) {
      acc += q_tile[r * (DC + 1u) + cc] * k_tile[c * (DC + 1u) + cc];
    }
    workgroupBarrier();
  }
  return select(acc, acc * p.scale, p.kind == 0u);
}

// Lags below this use Horner (no cancellation as beta -> 1), as the attention kernels' chunks do.
const SHORT_LAG: u32 = 16u;

// gamma W(d), W(d) = (1 - beta^(d+1)) / (1 - beta) (common.wgsl): d = i - j causal (eq. 13),
// nb - 1 - j non-causal (eq. 14, 0-based j, nb the example's length).
fn momentum_weight(i: u32, j: u32, nb: u32) -> f32 {
  let d = select(nb - 1u - j, i - j, p.causal == 1u);
  return p.gamma * select(weight_closed(p.beta, d), weight_horner(p.beta, d), d < SHORT_LAG);
}

@compute @workgroup_size(THREADS)
fn matrix(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row0 = wid.x * BQ;
  let base = wid.y * p.n;   // first row of this (batch, head)
  let r = lid / BK;
  let c = lid % BK;
  let i = row0 + r;
  let nb = seq_len(wid.y);
  let tiles = (p.n + BK - 1u) / BK;
  // Causal rows of this block see no key past its last row.
  let seen = select(tiles, min(tiles, (row0 + BQ + BK - 1u) / BK), p.causal == 1u);

  // Pass 1: the row statistics.
  var m = NEG;
  var l = 0.0;
  for (var t = 0u; t < seen; t++) {
    let j = t * BK + c;
    let s = tile_score(base, row0, t * BK, r, c, lid);
    let masked = select(0.0, NEG, p.kind == 0u);
    s_tile[r * (BK + 1u) + c] = select(masked, s, visible(i, j, nb));
    workgroupBarrier();
    if (c == 0u) {
      for (var cc = 0u; cc < BK; cc++) {
        let x = s_tile[r * (BK + 1u) + cc];
        if (p.kind == 0u) {
          let m_new = max(m, x);
          l = l * exp(m - m_new) + select(0.0, exp(x - m_new), x > NEG);
          m = m_new;
        } else {
          l += x;
        }
      }
    }
    workgroupBarrier();
  }
  if (c == 0u) {
    row_m[r] = m;
    row_l[r] = l;
  }
  workgroupBarrier();

  // Pass 2: the weights, with the same scores; zeros above the diagonal.
  let mi = row_m[r];
  let li = row_l[r];
  for (var t = 0u; t < tiles; t++) {
    let j = t * BK + c;
    var a = 0.0;
    if (t < seen) {
      let s = tile_score(base, row0, t * BK, r, c, lid);
      if (visible(i, j, nb)) {
        if (p.kind == 0u) {
          a = exp(s - mi) / li;
        } else if (p.kind == 1u) {
          a = s / li;
        } else {
          a = momentum_weight(i, j, nb) * s / li;
        }
      }
    }
    if (i < p.n && j < p.n) { weights[(base + i) * p.n + j] = a; }
  }
}
