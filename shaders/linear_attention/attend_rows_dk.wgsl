// shaders/linear_attention/attend_rows_dk.wgsl: dk of linear and momentum attention, one thread
// per two or four key tokens ('swiftshader' variant; the row body decides), when dv is not wanted
// or the body is attend_quads.wgsl (else attend_rows_dkv.wgsl).
const MODE: u32 = 2u;
const TRANS: bool = true;

@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, D]
@group(0) @binding(8) var<storage, read> xd: array<f32>;           // [BH, N, D]: k, for phi'

fn row_setup(bh: u32, i: u32, g: u32, f: f32, valid: bool) -> f32 {
  return 0.0;
}

fn row_out(g: u32, zbase: u32, rv: f32, col: u32, v: f32) -> f32 {
  return (v + zc[zbase + col]) * dphi(xd[g * p.n_out + col]);
}

@compute @workgroup_size(WG1)
fn attend_rows_dk(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  rows_main(wid, nwg, lid);
}
