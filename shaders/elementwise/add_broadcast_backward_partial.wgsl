// Stage 1 of the column sum, grid (ceil(C / WG), chunks).

@group(0) @binding(1) var<storage, read> dy: array<f32>;       // [R, C]
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;  // [R, C]
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;  // [chunks, C]

@compute @workgroup_size(WG)
fn add_broadcast_backward_partial(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let chunk = gid.y;
  if (c >= p.cols) { return; }
  let r0 = chunk * p.rows_per_chunk;
  let r1 = min(r0 + p.rows_per_chunk, p.rows);
  var acc = 0.0;
  for (var r = r0; r < r1; r++) {
    let g = dy[r * p.cols + c];
    dx[r * p.cols + c] = g;
    acc += g;
  }
  partial[chunk * p.cols + c] = acc;
}
