// Fused optimizer updates, one entry point per kind: each thread reads one parameter, its gradient
// and both moments once, and writes them back once. Per-step scalars (bias corrections, RAdam's
// rectification) are computed on the CPU in float64 and arrive in the uniform struct. Gradient
// clipping reads the global gradient norm from a 1-element buffer written earlier in the same
// command buffer, so no value ever travels to the CPU during a step.

struct OptimParams {
  n: u32,             // elements of this parameter
  beta1: f32,
  beta2: f32,
  // 1 - beta computed in float64: 1.0 - 0.999 in float32 is off by 1.3e-5 relative, enough to
  // bias v visibly against the reference (and torch, which also forms 1 - beta2 in double).
  oneMinusBeta1: f32,
  oneMinusBeta2: f32,
  eps: f32,
  weightDecay: f32,   // Adam: L2 penalty added to the gradient
  decay: f32,         // AdamW, RAdam: lr * weightDecay, the decoupled shrink p -= decay * p
  stepSize: f32,      // Adam(W): lr / (1 - beta1^t); RAdam: the same times r_t sqrt(1 - beta2^t) when rectified
  bc2Sqrt: f32,       // sqrt(1 - beta2^t)
  clip: f32,          // maximum global gradient norm; 0 turns clipping off
  rectified: u32,     // RAdam: 1 when rho_t > 5 (adaptive step), 0 for the momentum-only step
}

@group(0) @binding(0) var<uniform> p: OptimParams;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> gradNorm: array<f32>;  // [1]: the global norm of all gradients

override WG: u32 = 256;

// Keeps the clipping scale finite when every gradient is zero (as PyTorch's clip_grad_norm_).
const CLIP_EPS: f32 = 1e-6;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return grid_index(wid, nwg) * WG + lid;
}

// The gradient scaled by min(1, clip / (norm + CLIP_EPS)) when clipping is on.
fn clippedGrad(i: u32) -> f32 {
  var scale = 1.0;
  if (p.clip > 0.0) { scale = min(1.0, p.clip / (gradNorm[0] + CLIP_EPS)); }
  return grad[i] * scale;
}

// Updates both moments in place and returns the new first moment and sqrt of the second.
fn moments(i: u32, g: f32) -> vec2f {
  let mi = p.beta1 * m[i] + p.oneMinusBeta1 * g;
  let vi = p.beta2 * v[i] + p.oneMinusBeta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  return vec2f(mi, sqrt(vi));
}

// Adam (Kingma and Ba 2015) with L2 weight decay folded into the gradient, as torch.optim.Adam:
// p -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat / v_hat bias-corrected.
@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = param[i];
  let g = clippedGrad(i) + p.weightDecay * w;
  let mv = moments(i, g);
  param[i] = w - p.stepSize * mv.x / (mv.y / p.bc2Sqrt + p.eps);
}

// AdamW (Loshchilov and Hutter 2019): the decay shrinks the weight directly, outside the moments.
@compute @workgroup_size(WG)
fn adamw(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = param[i] - p.decay * param[i];
  let mv = moments(i, clippedGrad(i));
  param[i] = w - p.stepSize * mv.x / (mv.y / p.bc2Sqrt + p.eps);
}

// RAdam (Liu et al. 2020) with decoupled weight decay. Rectified: p -= lr r_t sqrt(1 - beta2^t) /
// (1 - beta1^t) * m / (sqrt(v) + eps), all scalars folded into stepSize on the CPU (eps is added to
// the uncorrected sqrt(v), as in the authors' code and torch.optim.RAdam). Otherwise the
// momentum-only step p -= lr * m_hat; v is updated in both cases.
@compute @workgroup_size(WG)
fn radam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = param[i] - p.decay * param[i];
  let mv = moments(i, clippedGrad(i));
  var delta = p.stepSize * mv.x;
  if (p.rectified == 1u) { delta = delta / (mv.y + p.eps); }
  param[i] = w - delta;
}
