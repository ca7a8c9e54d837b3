// shaders/linear_attention/attend_tiled_dv.wgsl: dv of linear and momentum attention, tiled
// ('gpu' variant), from the reverse states (R, mu): dv_j = phi(k_j)^T R_j + in-chunk term with
// xq = phi(k), xk = phi(q), xv = g|r.
const MODE: u32 = 3u;
const TRANS: bool = false;
const PHI_Q: bool = true;
const PHI_K: bool = true;
const PHI_V: bool = false;

@group(0) @binding(6) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]

fn tile_row(t: OutTile, r: u32, i: u32, tok: u32, valid: bool) -> f32 {
  return 0.0;
}

// A padding key (past the example's length) is seen by no query: its gradient is 0.
fn tile_store(t: OutTile, tok: u32, o: u32, val: f32, rv: f32, valid: bool) {
  out[(t.bh * p.n + tok) * p.n_out + o] = select(0.0, val, valid);
}

@compute @workgroup_size(T, T)
fn attend_dv(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_tiled(lid, wid);
}
