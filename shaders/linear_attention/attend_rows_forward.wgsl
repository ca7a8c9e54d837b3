// shaders/linear_attention/attend_rows_forward.wgsl: the forward of linear and momentum
// attention on a row body ('swiftshader' variant): attend_rows.wgsl, a thread per two tokens, or
// attend_quads.wgsl, a thread per four.
const MODE: u32 = 0u;
const TRANS: bool = false;

@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]
@group(0) @binding(8) var<storage, read_write> den: array<f32>;    // [BH, N]

// Row g's normaliser dn (rows_prep's); a padding row (past the example's length) has 1.
fn row_setup(bh: u32, i: u32, g: u32, dn: f32, valid: bool) -> f32 {
  den[g] = select(1.0, dn, valid);
  return dn;
}

fn row_out(g: u32, zbase: u32, dn: f32, col: u32, v: f32) -> f32 {
  return v / dn;
}

@compute @workgroup_size(WG1)
fn attend_rows_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  rows_main(wid, nwg, lid);
}
