// embed_position_backward, after params.wgsl. Backward into a learned position table: one thread
// per (n, feature), b in order.

@group(0) @binding(1) var<storage, read> dout: array<f32>;          // [B, N, C]
@group(0) @binding(2) var<storage, read_write> dtable: array<f32>;  // [Nmax, P]

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn embed_position_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                           @builtin(local_invocation_index) lid: u32) {
  let i = grid_index(wid, nwg) * WG + lid;
  if (i >= p.pos_rows * p.pos_dim) { return; }
  let n = i / p.pos_dim;
  let j = i % p.pos_dim;
  var acc = 0.0;
  if (n < p.seq) {
    let batch = p.rows / p.seq;
    for (var b = 0u; b < batch; b++) {
      acc += dout[(b * p.seq + n) * p.width + p.column + j];
    }
  }
  dtable[i] = acc;
}
