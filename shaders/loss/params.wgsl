// shaders/loss/params.wgsl: the prelude of every loss kernel (after shaders/common.wgsl). The
// family's kernels, one file each (src/engine/kernels/loss.ts): cross_entropy_forward.wgsl,
// cross_entropy_backward.wgsl, masked_mean.wgsl, dmol_forward.wgsl and dmol_backward.wgsl (on
// dmol.wgsl).
//
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

@group(0) @binding(0) var<uniform> p: LossParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;             // logits [R, V] or mixture params [R, 3K]
@group(0) @binding(2) var<storage, read> targets: array<u32>;       // [R]
@group(0) @binding(3) var<storage, read> mask: array<f32>;          // [R]

override WG: u32 = 256;   // threads of the one-row-per-thread and elementwise entry points

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
