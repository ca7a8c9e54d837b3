// shaders/loss/dmol.wgsl: what the mixture-of-logistics kernels share: its constants, one
// component's log mass of a pixel's bin, the mixture's log-sum-exps, the row tile.
const PIXEL_MAX: u32 = 255u;
const HALF_BIN: f32 = 1.0 / 255.0;          // half the width 2/255 of a pixel's bin in [-1, 1]
const LOG_SCALE_MIN: f32 = -7.0;             // PixelCNN++ clamps log-scales from below
const CDF_DELTA_MIN: f32 = 1e-5;             // below it the bin mass is taken from the pdf
const LOG_HALF_LEVELS: f32 = 4.848116364598481;   // log(127.5): the pdf times the bin width 1/127.5

override DWG: u32 = 64;   // rows per workgroup of the mixture kernels
override K: u32 = 10;     // mixture components

var<workgroup> tile: array<f32, DWG * 3u * K>;

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
