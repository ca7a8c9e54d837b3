// shaders/linear_attention/attend_tiled_dq.wgsl: dq of linear and momentum attention, tiled
// ('gpu' variant), from the forward's states: dq_i = (g_i . S_i + in-chunk term + r_i z_i) phi'(q_i)
// with xq = g|r, xk = v, xv = phi(k) (the state contracted over its Dv index). No length mask:
// bwd_prep gives padding rows g = r = 0.
const MODE: u32 = 1u;
const TRANS: bool = true;
const PHI_Q: bool = false;
const PHI_K: bool = false;
const PHI_V: bool = true;

@group(0) @binding(6) var<storage, read_write> out: array<f32>;    // [BH, N, D]
@group(0) @binding(7) var<storage, read> xd: array<f32>;           // [BH, N, D]: q, for phi'

fn tile_row(t: OutTile, r: u32, i: u32, tok: u32, valid: bool) -> f32 {
  return r_query(t.bh, tok);
}

fn tile_store(t: OutTile, tok: u32, o: u32, val: f32, rq: f32, valid: bool) {
  let at = (t.bh * p.n + tok) * p.n_out + o;
  out[at] = (val + rq * zc[t.zb + o]) * dphi(xd[at]);
}

@compute @workgroup_size(T, T)
fn attend_dq(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_tiled(lid, wid);
}
