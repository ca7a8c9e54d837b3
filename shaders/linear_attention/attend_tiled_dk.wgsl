// shaders/linear_attention/attend_tiled_dk.wgsl: dk of linear and momentum attention, tiled
// ('gpu' variant), from the reverse states (R, mu): dk_j = (R_j v_j + in-chunk term + zeta_j) phi'(k_j)
// with xq = v, xk = g|r, xv = phi(q).
const MODE: u32 = 2u;
const TRANS: bool = true;
const PHI_Q: bool = false;
const PHI_K: bool = false;
const PHI_V: bool = true;

@group(0) @binding(6) var<storage, read_write> out: array<f32>;    // [BH, N, D]
@group(0) @binding(7) var<storage, read> xd: array<f32>;           // [BH, N, D]: k, for phi'

fn tile_row(t: OutTile, r: u32, i: u32, tok: u32, valid: bool) -> f32 {
  return 0.0;
}

// A padding key (past the example's length) is seen by no query: its gradient is 0.
fn tile_store(t: OutTile, tok: u32, o: u32, val: f32, rv: f32, valid: bool) {
  let at = (t.bh * p.n + tok) * p.n_out + o;
  out[at] = select(0.0, (val + zc[t.zb + o]) * dphi(xd[at]), valid);
}

@compute @workgroup_size(T, T)
fn attend_dk(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_tiled(lid, wid);
}
