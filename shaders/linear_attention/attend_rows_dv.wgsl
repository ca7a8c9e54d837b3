// shaders/linear_attention/attend_rows_dv.wgsl: dv of linear and momentum attention, one thread
// per two key tokens ('swiftshader' variant), when dk is not wanted (else attend_rows_dkv.wgsl).
const MODE: u32 = 3u;
const TRANS: bool = false;

@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, n_out]

// One output value at column col of token g, from its state and in-chunk part v.
fn bwd_value(g: u32, zbase: u32, rq: f32, col: u32, v: f32) -> f32 {
  return v;
}

@compute @workgroup_size(WG1)
fn attend_rows_dv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let g = grid_index(wid, nwg) * WG1 + lid;
  if (g >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(g);
  let bh = pr.x;
  let gA = bh * p.n + pr.y;
  let gB = bh * p.n + pr.z;
  let slot = select(p.nc, pr.y / C, CAUSAL);
  let zbase = (bh * (p.nc + 1u) + slot) * p.d;
  _ = rows_prep(bh, pr.z);
  stash_row();
  _ = rows_prep(bh, pr.y);
  let rqA = 0.0;
  let rqB = 0.0;
  // A padding key (past the example's length) is seen by no query: its gradient is 0.
  let nb = seq_len(bh);
  let validA = pr.y < nb;
  let validB = pr.z < nb;
  for (var o = 0u; o < p.n_out; o += 4u) {
    let v = rows_value4(bh, pr.y, pr.z, o);
    for (var k = 0u; k < min(4u, p.n_out - o); k++) {
      out[gA * p.n_out + o + k] = select(0.0, bwd_value(gA, zbase, rqA, o + k, v.a[k]), validA);
      out[gB * p.n_out + o + k] = select(0.0, bwd_value(gB, zbase, rqB, o + k, v.b[k]), validB);
    }
  }
}
