// shaders/linear_attention/attend_rows_dq.wgsl: dq of linear and momentum attention, one thread
// per two or four tokens ('swiftshader' variant; the row body, attend_rows.wgsl or
// attend_quads.wgsl, decides); the same sums as attend_tiled_dq.wgsl. No length mask:
// bwd_prep gives padding rows g = r = 0 (it is built with lengths_full.wgsl).
const MODE: u32 = 1u;
const TRANS: bool = true;

@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, D]
@group(0) @binding(8) var<storage, read> xd: array<f32>;           // [BH, N, D]: q, for phi'

fn row_setup(bh: u32, i: u32, g: u32, f: f32, valid: bool) -> f32 {
  return ldq(g * p.sq + p.n_in);
}

fn row_out(g: u32, zbase: u32, rq: f32, col: u32, v: f32) -> f32 {
  return (v + rq * zc[zbase + col]) * dphi(xd[g * p.n_out + col]);
}

@compute @workgroup_size(WG1)
fn attend_rows_dq(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  rows_main(wid, nwg, lid);
}
