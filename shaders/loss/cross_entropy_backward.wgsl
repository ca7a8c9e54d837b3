// shaders/loss/cross_entropy_backward.wgsl: the cross-entropy's gradient, one thread per logit.
@group(0) @binding(4) var<storage, read> stats: array<f32>;         // [R, 2]: the forward's row max, log sum exp(x - max)
@group(0) @binding(8) var<storage, read_write> denom: array<f32>;   // [1]: max(sum of the mask, 1)
@group(0) @binding(9) var<storage, read> dloss: array<f32>;         // [1]
@group(0) @binding(10) var<storage, read_write> dx: array<f32>;     // like x

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
