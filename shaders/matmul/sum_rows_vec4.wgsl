// sum_rows_vec4 ('swiftshader', where cols is a multiple of 4), after sum_rows.wgsl: an invocation
// per four neighbouring columns, reading each row's four as one vec4. SwiftShader runs a load with
// a per-lane address as a gather, so one vec4 load a row instead of four scalar ones halves the
// time of a bias gradient ([1024, 64..192]: README "Benchmarks"). Each column still adds its rows
// in increasing order, one add at a time: the bits are sum_rows's.
@group(0) @binding(1) var<storage, read> x: array<vec4f>;  // [rows, cols / 4]

@compute @workgroup_size(SWG, 1, 1)
fn sum_rows_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) li: u32) {
  let q = p.cols / 4u;
  let c4 = grid_index(wid, nwg) * SWG + li;
  if (c4 >= q) { return; }
  let r0 = wid.z * p.rowChunk;
  let r1 = min(r0 + p.rowChunk, p.rows);
  var s = vec4f(0.0);
  for (var r = r0; r < r1; r++) { s += x[r * q + c4]; }
  for (var t = 0u; t < 4u; t++) { finish_column(wid.z, 4u * c4 + t, s[t]); }
}
