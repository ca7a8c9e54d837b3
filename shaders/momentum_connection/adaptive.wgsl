// shaders/momentum_connection/adaptive.wgsl: the prelude of the adaptive form's kernels (eq. 18),
// per row t (a token) with norms over the C features:
//   r = ||g_t - gp_t|| / max(||gp_t||, eps) ;  beta~_t = proj_[0, 1-delta]((1 - sqrt r)^2)
//   m_t = beta~_t m_prev_t + g_t ;  out_t = x_t + gamma~ m_t
// Each entry point binds at most 8 storage buffers, the WebGPU default limit.

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

@group(0) @binding(0) var<uniform> p: AdaptiveParams;

/// Per-row coefficients the backward's row pass hands to its elementwise pass: beta~, ca, cp.
const COEF: u32 = 3u;

/// (1 - sqrt r)^2 before the projection. ||gp|| is floored at eps so a zero row gives a finite r.
fn adaptive_raw(nd: f32, np: f32) -> f32 {
  let r = nd / max(np, p.eps);
  let s = 1.0 - sqrt(r);
  return s * s;
}

/// proj_[0, 1-delta]; the lower bound never binds ((1 - sqrt r)^2 >= 0) but is kept as written.
fn project(raw: f32) -> f32 {
  return max(0.0, min(1.0 - p.delta, raw));
}
