// sum_rows ('gpu', and any cols), after sum_rows.wgsl: x as floats, an invocation per column.
@group(0) @binding(1) var<storage, read> x: array<f32>;  // [rows, cols]

// One invocation per column and row chunk, adding its rows in order: neighbouring invocations
// read neighbouring addresses and every run gives the same bits.
@compute @workgroup_size(SWG, 1, 1)
fn sum_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) li: u32) {
  let col = grid_index(wid, nwg) * SWG + li;
  if (col >= p.cols) { return; }
  let r0 = wid.z * p.rowChunk;
  let r1 = min(r0 + p.rowChunk, p.rows);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += x[r * p.cols + col]; }
  finish_column(wid.z, col, s);
}
