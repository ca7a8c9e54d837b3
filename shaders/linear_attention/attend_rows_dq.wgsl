// shaders/linear_attention/attend_rows_dq.wgsl: dq of linear and momentum attention, one thread
// per two tokens ('swiftshader' variant); the same sums as attend_tiled_dq.wgsl.
const MODE: u32 = 1u;
const TRANS: bool = true;

@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, n_out]
@group(0) @binding(8) var<storage, read> xd: array<f32>;           // [BH, N, n_out]: the q or k under phi

// The r of query token tok's row (dq), or 0 (dk, dv: no r term).
fn bwd_query(bh: u32, tok: u32) -> f32 {
  return r_query(bh, tok);
}

// One output value at column col of token g, from its state and in-chunk part v.
fn bwd_value(g: u32, zbase: u32, rq: f32, col: u32, v: f32) -> f32 {
  return (v + rq * zc[zbase + col]) * dphi(xd[g * p.n_out + col]);
}

@compute @workgroup_size(WG1)
fn attend_rows_dq(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  rows_backward(wid, nwg, lid);
}
