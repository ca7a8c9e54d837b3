// shaders/loss/dmol_backward.wgsl: the mixture of logistics' gradient, scaled by dloss m_r / denom.
@group(0) @binding(8) var<storage, read_write> denom: array<f32>;   // [1]: max(sum of the mask, 1)
@group(0) @binding(9) var<storage, read> dloss: array<f32>;         // [1]
@group(0) @binding(10) var<storage, read_write> dx: array<f32>;     // like x

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
