// shaders/linear_attention/attend_rows_dv.wgsl: dv of linear and momentum attention, one thread
// per two or four key tokens ('swiftshader' variant; the row body decides), when dk is not wanted
// or the body is attend_quads.wgsl (else attend_rows_dkv.wgsl).
const MODE: u32 = 3u;
const TRANS: bool = false;

@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]

fn row_setup(bh: u32, i: u32, g: u32, f: f32, valid: bool) -> f32 {
  return 0.0;
}

fn row_out(g: u32, zbase: u32, rv: f32, col: u32, v: f32) -> f32 {
  return v;
}

@compute @workgroup_size(WG1)
fn attend_rows_dv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  rows_main(wid, nwg, lid);
}
