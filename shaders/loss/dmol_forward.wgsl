// shaders/loss/dmol_forward.wgsl: the mixture of logistics' nll per row.
@group(0) @binding(4) var<storage, read_write> nll: array<f32>;     // [R]

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
