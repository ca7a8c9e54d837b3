// shaders/loss/masked_mean.wgsl: the loss, sum_r m_r nll_r / max(sum_r m_r, 1), in one workgroup.
@group(0) @binding(7) var<storage, read_write> loss: array<f32>;    // [1]
@group(0) @binding(8) var<storage, read_write> denom: array<f32>;   // [1]: max(sum of the mask, 1)
// nll again, read-only for the mean, so it can also stand in for an absent mask.
@group(0) @binding(11) var<storage, read> nll_in: array<f32>;       // [R]

override MWG: u32 = 256;  // threads of the masked mean (a power of two)

var<workgroup> mean_sum: array<f32, MWG>;
var<workgroup> mean_count: array<f32, MWG>;

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
