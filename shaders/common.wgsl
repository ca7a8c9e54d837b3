// shaders/common.wgsl: prepended by src/engine/kernel.ts to every kernel's source, so these
// helpers are defined once. Only pure functions here (no bindings, no overrides).

// The flat index of this workgroup in a 2-D dispatch grid: more than 65535 workgroups are split
// over x and y by `gpu.grid(n)` (src/engine/gpu.ts), and the shader numbers them back in order.
fn grid_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.y * nwg.x + wid.x;
}

// phi(x) = elu(x) + 1, the feature map of linear and momentum attention, and its derivative.
fn phi(x: f32) -> f32 {
  return select(exp(x), x + 1.0, x > 0.0);
}

fn dphi(x: f32) -> f32 {
  return select(exp(x), 1.0, x > 0.0);
}

// The momentum weight W(d) = sum_{s=0}^{d} beta^s by Horner (1 + beta (1 + beta (...))): positive
// terms only, so no cancellation as beta -> 1, and exactly 1 at beta = 0. O(d): for short lags.
fn weight_horner(beta: f32, d: u32) -> f32 {
  var w = 1.0;
  for (var s = 0u; s < d; s++) { w = 1.0 + beta * w; }
  return w;
}

// beta^e by repeated squaring: log2(e) roundings instead of e, and no pow(), whose log2-based
// error grows with the exponent.
fn beta_power(beta: f32, e: u32) -> f32 {
  var result = 1.0;
  var base = beta;
  var k = e;
  loop {
    if (k == 0u) { break; }
    if ((k & 1u) == 1u) { result = result * base; }
    base = base * base;
    k = k >> 1u;
  }
  return result;
}

// W(d) in closed form, (1 - beta^(d+1)) / (1 - beta): for long lags, where 1 - beta^(d+1) is far
// from 0 so the closed form loses nothing to cancellation.
fn weight_closed(beta: f32, d: u32) -> f32 {
  return (1.0 - beta_power(beta, d + 1u)) / (1.0 - beta);
}
