// shaders/linear_attention/attend_tiled_dq.wgsl: dq of linear and momentum attention, tiled
// ('gpu' variant), from the forward's states: dq_i = (g_i . S_i + in-chunk term + r_i z_i) phi'(q_i)
// with xq = g|r, xk = v, xv = phi(k) (the state contracted over its Dv index).
const MODE: u32 = 1u;
const TRANS: bool = true;
const PHI_Q: bool = false;
const PHI_K: bool = false;
const PHI_V: bool = true;

@group(0) @binding(6) var<storage, read_write> out: array<f32>;    // [BH, N, n_out]
@group(0) @binding(7) var<storage, read> xd: array<f32>;           // [BH, N, n_out]: the q or k under phi

@compute @workgroup_size(T, T)
fn attend_dq(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_core(lid, wid);
  let tile = out_tile(lid, wid);
  let zb = z_base(tile.bh, tile.c);
  for (var r = 0u; r < RT; r++) {
    let i = tile.ty + T * r;
    if (i >= tile.len) { continue; }
    let tok = tile.c * C + i;
    let rq = r_query(tile.bh, tok);
    for (var s = 0u; s < ST; s++) {
      let o = tile.o0 + tile.tx + T * s;
      if (o >= p.n_out) { continue; }
      var val = acc[r * MAX_S + s];
      if (CAUSAL) { val = val + intra[r * MAX_S + s]; }
      val = val + rq * zc[zb + o];
      let at = (tile.bh * p.n + tok) * p.n_out + o;
      out[at] = val * dphi(xd[at]);
    }
  }
}
