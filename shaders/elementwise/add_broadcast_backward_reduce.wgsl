// Stage 2, grid ceil(C / WG): reads `partial` written by stage 1 earlier in the same command buffer.

@group(0) @binding(1) var<storage, read> partial: array<f32>;   // [chunks, C]
@group(0) @binding(2) var<storage, read_write> db: array<f32>;  // [C]

@compute @workgroup_size(WG)
fn add_broadcast_backward_reduce(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.cols) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    acc += partial[k * p.cols + c];
  }
  db[c] = acc;
}
