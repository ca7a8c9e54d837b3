// Momentum connection across layers (MATH.md sections 5 and 6), forward and backward side by side.
//
// Fixed form, elementwise over the n = R*C values of one layer:
//   m = beta~ m_prev + g ;  out = x + gamma~ m
// Adaptive form (eq. 18), per row t (a token) with norms over the C features:
//   r = ||g_t - gp_t|| / max(||gp_t||, eps) ;  beta~_t = proj_[0, 1-delta]((1 - sqrt r)^2)
//   m_t = beta~_t m_prev_t + g_t ;  out_t = x_t + gamma~ m_t
// The row norms need a reduction over C: a workgroup is TY rows of TX threads each; a row's TX
// threads stride over its columns (coalesced on a GPU) and meet in a fixed-order tree, so results
// repeat bit for bit. On SwiftShader TX = 1 (a thread walks a row alone, no barrier work).
// Each entry point binds at most 8 storage buffers, the WebGPU default limit.

// ---------------------------------------------------------------------------------------------
// Fixed form
// ---------------------------------------------------------------------------------------------

struct FixedParams {
  n: u32,          // R * C values
  beta: f32,       // beta~ in [0, 1)
  gamma: f32,      // gamma~ > 0
  has_dout: u32,   // 1 if out has a gradient (else d_out is a stand-in binding, never read)
  has_dm: u32,     // 1 if m has a gradient (the last layer's m usually has none)
}

@group(0) @binding(0) var<uniform> pf: FixedParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> m_prev: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> m: array<f32>;
@group(0) @binding(6) var<storage, read> d_out: array<f32>;
@group(0) @binding(7) var<storage, read> d_m: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;
@group(0) @binding(9) var<storage, read_write> dg: array<f32>;
@group(0) @binding(10) var<storage, read_write> dm_prev: array<f32>;

override WG: u32 = 256;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return grid_index(wid, nwg) * WG + lid;
}

/// The total gradient reaching m: its own (from the next layer) plus gamma~ times out's.
fn fixed_dm(i: u32) -> f32 {
  var d = 0.0;
  if (pf.has_dm != 0u) { d = d_m[i]; }
  if (pf.has_dout != 0u) { d += pf.gamma * d_out[i]; }
  return d;
}

@compute @workgroup_size(WG)
fn fixed_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= pf.n) { return; }
  let mi = pf.beta * m_prev[i] + g[i];
  m[i] = mi;
  out[i] = x[i] + pf.gamma * mi;
}

/// Layer 1: m_0 = 0, so m = g and beta~ plays no part.
@compute @workgroup_size(WG)
fn fixed_forward_first(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= pf.n) { return; }
  let gi = g[i];
  m[i] = gi;
  out[i] = x[i] + pf.gamma * gi;
}

@compute @workgroup_size(WG)
fn fixed_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= pf.n) { return; }
  let d = fixed_dm(i);
  var dxi = 0.0;
  if (pf.has_dout != 0u) { dxi = d_out[i]; }
  dx[i] = dxi;
  dg[i] = d;
  dm_prev[i] = pf.beta * d;
}

@compute @workgroup_size(WG)
fn fixed_backward_first(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= pf.n) { return; }
  var dxi = 0.0;
  if (pf.has_dout != 0u) { dxi = d_out[i]; }
  dx[i] = dxi;
  dg[i] = fixed_dm(i);
}

// ---------------------------------------------------------------------------------------------
// Adaptive form
// ---------------------------------------------------------------------------------------------

struct AdaptiveParams {
  rows: u32,       // R tokens
  cols: u32,       // C features
  gamma: f32,      // gamma~ > 0
  delta: f32,      // beta~ <= 1 - delta
  eps: f32,        // floor on ||gp|| (see adaptive_raw)
  has_dout: u32,
  has_dm: u32,
  has_dbeta: u32,  // 1 if the beta~ output itself has a gradient
}

@group(0) @binding(19) var<uniform> pa: AdaptiveParams;
// x, g, m_prev, out, m as above.
@group(0) @binding(11) var<storage, read> g_prev: array<f32>;
@group(0) @binding(12) var<storage, read_write> beta: array<f32>;    // [R]
@group(0) @binding(13) var<storage, read_write> norms: array<f32>;   // [R, 2]: ||g - gp||, ||gp||
@group(0) @binding(14) var<storage, read> saved_norms: array<f32>;   // [R, 2], the forward's norms
@group(0) @binding(15) var<storage, read> d_beta: array<f32>;        // [R]
@group(0) @binding(16) var<storage, read_write> coef: array<f32>;    // [R, COEF]: beta~, ca, cp
@group(0) @binding(17) var<storage, read> coef_in: array<f32>;       // [R, COEF]
@group(0) @binding(18) var<storage, read_write> dg_prev: array<f32>;

/// Threads per row (a power of two) and rows per workgroup.
override TX: u32 = 64;
override TY: u32 = 4;
/// Per-row coefficients the backward's row pass hands to its elementwise pass.
const COEF: u32 = 3u;

var<workgroup> partial2: array<vec2f, TX * TY>;
var<workgroup> partial1: array<f32, TX * TY>;

fn row_of(wid: vec3u, nwg: vec3u, ly: u32) -> u32 {
  return grid_index(wid, nwg) * TY + ly;
}

/// (1 - sqrt r)^2 before the projection. ||gp|| is floored at eps so a zero row gives a finite r.
fn adaptive_raw(nd: f32, np: f32) -> f32 {
  let r = nd / max(np, pa.eps);
  let s = 1.0 - sqrt(r);
  return s * s;
}

/// proj_[0, 1-delta]; the lower bound never binds ((1 - sqrt r)^2 >= 0) but is kept as written.
fn project(raw: f32) -> f32 {
  return max(0.0, min(1.0 - pa.delta, raw));
}

/// Sums partial2[slot .. slot + TX) into partial2[slot] in a fixed order. Called by every thread.
fn tree_sum2(slot: u32, lx: u32) {
  workgroupBarrier();
  for (var s = TX / 2u; s > 0u; s = s >> 1u) {
    if (lx < s) { partial2[slot + lx] += partial2[slot + lx + s]; }
    workgroupBarrier();
  }
}

fn tree_sum1(slot: u32, lx: u32) {
  workgroupBarrier();
  for (var s = TX / 2u; s > 0u; s = s >> 1u) {
    if (lx < s) { partial1[slot + lx] += partial1[slot + lx + s]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(TX, TY)
fn adaptive_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_id) lid: vec3u) {
  let row = row_of(wid, nwg, lid.y);
  let live = row < pa.rows;
  let base = row * pa.cols;
  var acc = vec2f(0.0);
  if (live) {
    for (var c = lid.x; c < pa.cols; c += TX) {
      let gp = g_prev[base + c];
      let d = g[base + c] - gp;
      acc += vec2f(d * d, gp * gp);
    }
  }
  let slot = lid.y * TX;
  partial2[slot + lid.x] = acc;
  tree_sum2(slot, lid.x);
  if (!live) { return; }
  let sums = partial2[slot];
  let nd = sqrt(sums.x);
  let np = sqrt(sums.y);
  let b = project(adaptive_raw(nd, np));
  if (lid.x == 0u) {
    beta[row] = b;
    norms[2u * row] = nd;
    norms[2u * row + 1u] = np;
  }
  for (var c = lid.x; c < pa.cols; c += TX) {
    let i = base + c;
    let mi = b * m_prev[i] + g[i];
    m[i] = mi;
    out[i] = x[i] + pa.gamma * mi;
  }
}

fn adaptive_dm(i: u32) -> f32 {
  var d = 0.0;
  if (pa.has_dm != 0u) { d = d_m[i]; }
  if (pa.has_dout != 0u) { d += pa.gamma * d_out[i]; }
  return d;
}

/// Backward, row pass: dx = d_out, and per row d beta~ = sum_c dm_c m_prev_c (+ d_beta), turned
/// into the coefficients of the gradient through beta~:
///   dg += ca (g - gp) ;  dgp += -ca (g - gp) + cp gp
/// with ca = dr / (den nd), cp = -dr r / (den np), dr = d beta~ * d(1 - sqrt r)^2/dr.
/// Where the projection clamps (raw > 1 - delta) or ||gp|| < eps, the respective paths carry zero.
@compute @workgroup_size(TX, TY)
fn adaptive_backward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                          @builtin(local_invocation_id) lid: vec3u) {
  let row = row_of(wid, nwg, lid.y);
  let live = row < pa.rows;
  let base = row * pa.cols;
  var acc = 0.0;
  if (live) {
    for (var c = lid.x; c < pa.cols; c += TX) {
      let i = base + c;
      acc += adaptive_dm(i) * m_prev[i];
      var dxi = 0.0;
      if (pa.has_dout != 0u) { dxi = d_out[i]; }
      dx[i] = dxi;
    }
  }
  let slot = lid.y * TX;
  partial1[slot + lid.x] = acc;
  tree_sum1(slot, lid.x);
  if (!live || lid.x != 0u) { return; }
  var dbeta = partial1[slot];
  if (pa.has_dbeta != 0u) { dbeta += d_beta[row]; }
  let nd = saved_norms[2u * row];
  let np = saved_norms[2u * row + 1u];
  let raw = adaptive_raw(nd, np);
  var ca = 0.0;
  var cp = 0.0;
  // Inclusive at the kink (raw == 1 - delta passes, as PyTorch's clamp does); nd > 0 holds there.
  if (raw <= 1.0 - pa.delta && nd > 0.0) {
    let den = max(np, pa.eps);
    let r = nd / den;
    let s = sqrt(r);
    let dr = -dbeta * (1.0 - s) / s;
    ca = dr / (den * nd);
    if (np >= pa.eps) { cp = -dr * r / (den * np); }
  }
  coef[COEF * row] = project(raw);
  coef[COEF * row + 1u] = ca;
  coef[COEF * row + 2u] = cp;
}

override WE: u32 = 256;

/// Backward, elementwise pass over all R*C values.
@compute @workgroup_size(WE)
fn adaptive_backward_elems(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                           @builtin(local_invocation_index) lid: u32) {
  let i = grid_index(wid, nwg) * WE + lid;
  if (i >= pa.rows * pa.cols) { return; }
  let row = i / pa.cols;
  let b = coef_in[COEF * row];
  let ca = coef_in[COEF * row + 1u];
  let cp = coef_in[COEF * row + 2u];
  let d = adaptive_dm(i);
  let gp = g_prev[i];
  let a = g[i] - gp;
  dg[i] = d + ca * a;
  dg_prev[i] = cp * gp - ca * a;
  dm_prev[i] = b * d;
}
