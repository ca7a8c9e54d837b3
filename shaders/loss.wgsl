// The two output losses and their shared masked mean.
//
// Softmax cross-entropy over V classes: nll_r = log sum_v exp(x_rv) - x_r,t, max-subtracted, with
// the row's max and log-sum saved for the backward (stats [R, 2]) and its argmax for accuracy.
// Discretized mixture of K logistics (PixelCNN++, Salimans et al. 2017) for one channel: row r
// holds [K logits, K means, K log-scales]; its target pixel t in 0..255 is x = 2t/255 - 1, the
// bin is [x - 1/255, x + 1/255], opened to -inf at t = 0 and +inf at t = 255.
// The loss is sum_r m_r nll_r / max(sum_r m_r, 1), the mean over unmasked rows, added in a fixed
// order by one workgroup (no atomics: repeatable bit for bit). Rows with m_r = 0 are left out
// exactly, so their targets may be anything and a NaN there does not reach the loss.
//
// Workgroups are numbered over a 2-D grid (grid_index, shaders/common.wgsl), so R may exceed 65535.

struct LossParams {
  rows: u32,      // R
  classes: u32,   // V for the cross-entropy, K for the mixture (equal to the override K)
  has_mask: u32,  // 0: every row counts with weight 1 (mask is then an unread stand-in)
}

const NEG_FLT_MAX: f32 = -3.4028234663852886e38;
const QUIET_NAN_BITS: u32 = 0x7fc00000u;
const PIXEL_MAX: u32 = 255u;
const HALF_BIN: f32 = 1.0 / 255.0;          // half the width 2/255 of a pixel's bin in [-1, 1]
const LOG_SCALE_MIN: f32 = -7.0;             // PixelCNN++ clamps log-scales from below
const CDF_DELTA_MIN: f32 = 1e-5;             // below it the bin mass is taken from the pdf
const LOG_HALF_LEVELS: f32 = 4.848116364598481;   // log(127.5): the pdf times the bin width 1/127.5

@group(0) @binding(0) var<uniform> p: LossParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;             // logits [R, V] or mixture params [R, 3K]
@group(0) @binding(2) var<storage, read> targets: array<u32>;       // [R]
@group(0) @binding(3) var<storage, read> mask: array<f32>;          // [R]
@group(0) @binding(4) var<storage, read_write> nll: array<f32>;     // [R]
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;   // [R, 2]: row max, log sum exp(x - max)
@group(0) @binding(6) var<storage, read_write> argmax: array<u32>;  // [R]
@group(0) @binding(7) var<storage, read_write> loss: array<f32>;    // [1]
@group(0) @binding(8) var<storage, read_write> denom: array<f32>;   // [1]: max(sum of the mask, 1)
@group(0) @binding(9) var<storage, read> dloss: array<f32>;         // [1]
@group(0) @binding(10) var<storage, read_write> dx: array<f32>;     // like x
// nll again, read-only for the mean, so it can also stand in for an absent mask.
@group(0) @binding(11) var<storage, read> nll_in: array<f32>;       // [R]

override WG: u32 = 256;   // threads of the one-row-per-thread and elementwise entry points
override CWG: u32 = 64;   // threads sharing one row in ce_forward (a power of two)
override MWG: u32 = 256;  // threads of the masked mean (a power of two)
override DWG: u32 = 64;   // rows per workgroup of the mixture kernels
override K: u32 = 10;     // mixture components

var<workgroup> red_max: array<f32, CWG>;
var<workgroup> red_arg: array<u32, CWG>;
var<workgroup> red_sum: array<f32, CWG>;
var<workgroup> mean_sum: array<f32, MWG>;
var<workgroup> mean_count: array<f32, MWG>;
var<workgroup> tile: array<f32, DWG * 3u * K>;

fn flat_group(wid: vec3u, nwg: vec3u) -> u32 {
  return grid_index(wid, nwg);
}

// A NaN built at run time: a constant NaN is a shader-creation error in WGSL.
fn runtime_nan(seed: u32) -> f32 {
  return bitcast<f32>(QUIET_NAN_BITS | (seed & 0u));
}

fn row_weight(r: u32) -> f32 {
  return select(1.0, mask[r], p.has_mask != 0u);
}

// ================= softmax cross-entropy =================

// Writes a row's outputs from its max m (first index arg) and s = sum exp(x - m).
fn ce_finish(r: u32, m: f32, arg: u32, s: f32) {
  let t = targets[r];
  let log_s = log(s);
  // (m - x_t) + log s rather than lse - x_t: no cancellation when the logits are large.
  nll[r] = select(runtime_nan(t), (m - x[r * p.classes + min(t, p.classes - 1u)]) + log_s, t < p.classes);
  stats[2u * r] = m;
  stats[2u * r + 1u] = log_s;
  argmax[r] = arg;
}

// Real GPUs: one workgroup per row, coalesced loads, tree reductions in workgroup memory.
@compute @workgroup_size(CWG)
fn ce_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let r = flat_group(wid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.classes;
  var m = NEG_FLT_MAX;
  var arg = p.classes;
  for (var v = lid; v < p.classes; v += CWG) {
    let z = x[base + v];
    if (z > m) { m = z; arg = v; }
  }
  red_max[lid] = m;
  red_arg[lid] = arg;
  workgroupBarrier();
  for (var half = CWG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let om = red_max[lid + half];
      let oa = red_arg[lid + half];
      // Ties go to the lower index, as a sequential scan would give.
      if (om > red_max[lid] || (om == red_max[lid] && oa < red_arg[lid])) {
        red_max[lid] = om;
        red_arg[lid] = oa;
      }
    }
    workgroupBarrier();
  }
  let row_max = red_max[0];
  var s = 0.0;
  for (var v = lid; v < p.classes; v += CWG) { s += exp(x[base + v] - row_max); }
  red_sum[lid] = s;
  workgroupBarrier();
  for (var half = CWG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red_sum[lid] += red_sum[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { ce_finish(r, row_max, red_arg[0], red_sum[0]); }
}

// SwiftShader: one thread per row, no barriers (each barrier costs a CPU thread switch there).
@compute @workgroup_size(WG)
fn ce_forward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let r = flat_group(wid, nwg) * WG + lid;
  if (r >= p.rows) { return; }
  let base = r * p.classes;
  var m = x[base];
  var arg = 0u;
  for (var v = 1u; v < p.classes; v++) {
    let z = x[base + v];
    if (z > m) { m = z; arg = v; }
  }
  var s = 0.0;
  for (var v = 0u; v < p.classes; v++) { s += exp(x[base + v] - m); }
  ce_finish(r, m, arg, s);
}

// dx = (softmax - onehot) * dloss * m_r / denom, one thread per logit.
@compute @workgroup_size(WG)
fn ce_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  if (i >= p.rows * p.classes) { return; }
  let r = i / p.classes;
  let v = i % p.classes;
  let w = row_weight(r);
  var g = 0.0;
  if (w != 0.0) {
    let prob = exp((x[i] - stats[2u * r]) - stats[2u * r + 1u]);
    g = (prob - select(0.0, 1.0, v == targets[r])) * (dloss[0] * w / denom[0]);
  }
  dx[i] = g;
}

// ================= the masked mean (one workgroup) =================

@compute @workgroup_size(MWG)
fn masked_mean(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var c = 0.0;
  for (var r = lid; r < p.rows; r += MWG) {
    let w = row_weight(r);
    if (w != 0.0) {
      s += w * nll_in[r];
      c += w;
    }
  }
  mean_sum[lid] = s;
  mean_count[lid] = c;
  workgroupBarrier();
  for (var half = MWG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      mean_sum[lid] += mean_sum[lid + half];
      mean_count[lid] += mean_count[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let d = max(mean_count[0], 1.0);
    denom[0] = d;
    loss[0] = mean_sum[0] / d;
  }
}

// ================= discretized mixture of logistics =================

fn softplus(z: f32) -> f32 {
  return max(z, 0.0) + log(1.0 + exp(-abs(z)));
}

// Written so that no exp overflows, whatever z.
fn sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}

fn dsigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return e / ((1.0 + e) * (1.0 + e));
}

// One component's log mass of pixel t's bin and its derivatives by the mean and the raw log-scale.
struct Component {
  lp: f32,
  d_mean: f32,
  d_log_scale: f32,
}

fn dmol_component(t: u32, mean: f32, raw_log_scale: f32) -> Component {
  let log_scale = max(raw_log_scale, LOG_SCALE_MIN);
  let inv_s = exp(-log_scale);
  let c = f32(t) * (2.0 * HALF_BIN) - 1.0 - mean;
  let plus = inv_s * (c + HALF_BIN);
  let minus = inv_s * (c - HALF_BIN);
  let mid = inv_s * c;
  // lp's partial derivatives by plus, minus, mid, and by log_scale beyond those.
  var lp = 0.0;
  var g_plus = 0.0;
  var g_minus = 0.0;
  var g_mid = 0.0;
  var g_ls = 0.0;
  if (t > PIXEL_MAX) {
    lp = runtime_nan(t);
  } else if (t == 0u) {
    lp = -softplus(-plus);                    // log cdf(plus)
    g_plus = sigmoid(-plus);
  } else if (t == PIXEL_MAX) {
    lp = -softplus(minus);                    // log (1 - cdf(minus))
    g_minus = -sigmoid(minus);
  } else {
    // Differences of the tails that are small, so the right half does not cancel near 1.
    let delta = select(sigmoid(plus) - sigmoid(minus), sigmoid(-minus) - sigmoid(-plus), mid > 0.0);
    if (delta > CDF_DELTA_MIN) {
      lp = log(delta);
      g_plus = dsigmoid(plus) / delta;
      g_minus = -dsigmoid(minus) / delta;
    } else {
      // PixelCNN++'s fallback: log pdf at the centre times the bin width.
      lp = -abs(mid) - 2.0 * log(1.0 + exp(-abs(mid))) - log_scale - LOG_HALF_LEVELS;
      g_mid = 1.0 - 2.0 * sigmoid(mid);
      g_ls = -1.0;
    }
  }
  // plus, minus and mid are inv_s * (...): d/d mean = -inv_s, d/d log_scale = -(themselves).
  let d_mean = -inv_s * (g_plus + g_minus + g_mid);
  let d_ls = g_ls - (plus * g_plus + minus * g_minus + mid * g_mid);
  return Component(lp, d_mean, select(0.0, d_ls, raw_log_scale >= LOG_SCALE_MIN));
}

// Log-sum-exps of the logits and of logits + component log masses, for the row at tile[base].
struct MixtureSums {
  max_a: f32,
  log_sum_a: f32,
  max_b: f32,
  log_sum_b: f32,
}

fn dmol_sums(base: u32, t: u32) -> MixtureSums {
  var ma = tile[base];
  var mb = ma + dmol_component(t, tile[base + K], tile[base + 2u * K]).lp;
  var sa = 1.0;
  var sb = 1.0;
  for (var k = 1u; k < K; k++) {
    let a = tile[base + k];
    let b = a + dmol_component(t, tile[base + K + k], tile[base + 2u * K + k]).lp;
    let na = max(ma, a);
    sa = sa * exp(ma - na) + exp(a - na);
    ma = na;
    let nb = max(mb, b);
    sb = sb * exp(mb - nb) + exp(b - nb);
    mb = nb;
  }
  return MixtureSums(ma, log(sa), mb, log(sb));
}

// Coalesced copies between x (or dx) and the rows of this workgroup in `tile`.
fn rows_in_group(r0: u32) -> u32 {
  return min(DWG, p.rows - r0) * 3u * K;
}

@compute @workgroup_size(DWG)
fn dmol_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let r0 = flat_group(wid, nwg) * DWG;
  if (r0 >= p.rows) { return; }
  let n = rows_in_group(r0);
  for (var j = lid; j < n; j += DWG) { tile[j] = x[r0 * 3u * K + j]; }
  workgroupBarrier();
  let r = r0 + lid;
  if (r < p.rows) {
    let sums = dmol_sums(lid * 3u * K, targets[r]);
    // nll = lse(a) - lse(a + lp), the maxima and log-sums subtracted pairwise.
    nll[r] = (sums.max_a - sums.max_b) + (sums.log_sum_a - sums.log_sum_b);
  }
}

// d nll / d logit_k = pi_k - w_k, d nll / d (mean, log-scale)_k = -w_k d lp_k, where pi is the
// softmax of the logits and w the posterior softmax(logit + lp); scaled by dloss * m_r / denom.
@compute @workgroup_size(DWG)
fn dmol_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let r0 = flat_group(wid, nwg) * DWG;
  if (r0 >= p.rows) { return; }
  let n = rows_in_group(r0);
  for (var j = lid; j < n; j += DWG) { tile[j] = x[r0 * 3u * K + j]; }
  workgroupBarrier();
  let r = r0 + lid;
  let base = lid * 3u * K;
  if (r < p.rows) {
    let w = row_weight(r);
    if (w != 0.0) {
      let g = dloss[0] * w / denom[0];
      let t = targets[r];
      let sums = dmol_sums(base, t);
      // Each thread overwrites only its own row, after reading that component's values.
      for (var k = 0u; k < K; k++) {
        let a = tile[base + k];
        let comp = dmol_component(t, tile[base + K + k], tile[base + 2u * K + k]);
        let post = exp((a + comp.lp - sums.max_b) - sums.log_sum_b);
        let prior = exp((a - sums.max_a) - sums.log_sum_a);
        tile[base + k] = g * (prior - post);
        tile[base + K + k] = -g * post * comp.d_mean;
        tile[base + 2u * K + k] = -g * post * comp.d_log_scale;
      }
    } else {
      for (var j = 0u; j < 3u * K; j++) { tile[base + j] = 0.0; }
    }
  }
  workgroupBarrier();
  for (var j = lid; j < n; j += DWG) { dx[r0 * 3u * K + j] = tile[j]; }
}
