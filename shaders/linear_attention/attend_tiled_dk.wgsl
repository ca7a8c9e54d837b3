// shaders/linear_attention/attend_tiled_dk.wgsl: dk of linear and momentum attention, tiled
// ('gpu' variant), from the reverse states (R, mu): dk_j = (R_j v_j + in-chunk term + zeta_j) phi'(k_j)
// with xq = v, xk = g|r, xv = phi(q).
const MODE: u32 = 2u;
const TRANS: bool = true;
const PHI_Q: bool = false;
const PHI_K: bool = false;
const PHI_V: bool = true;

@group(0) @binding(6) var<storage, read_write> out: array<f32>;    // [BH, N, n_out]
@group(0) @binding(7) var<storage, read> xd: array<f32>;           // [BH, N, n_out]: the q or k under phi

@compute @workgroup_size(T, T)
fn attend_dk(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_core(lid, wid);
  let bh = wid.y;
  let c = wid.x / p.nblk;
  let ob = wid.x % p.nblk;
  let tx = lid % T;
  let ty = lid / T;
  let o0 = ob * T * ST;
  let L = chunk_len(c);
  let slot = select(p.nc, c, CAUSAL);
  let zbase = (bh * (p.nc + 1u) + slot) * p.d;
  let nb = seq_len(bh);
  for (var r = 0u; r < RT; r++) {
    let i = ty + T * r;
    if (i >= L) { continue; }
    let tok = c * C + i;
    // A padding key (past the example's length) is seen by no query: its gradient is 0.
    let valid = tok < nb;
    var scale = 1.0;
    if (NC_SCALE && MOMENTUM && !CAUSAL) { scale = p.gamma * weight_far(nb - 1u - min(tok, nb - 1u)); }
    for (var s = 0u; s < ST; s++) {
      let o = o0 + tx + T * s;
      if (o >= p.n_out) { continue; }
      var val = acc[r * MAX_S + s];
      if (NC_SCALE && MOMENTUM && !CAUSAL) { val = val * scale; }
      if (CAUSAL) { val = val + intra[r * MAX_S + s]; }
      val = val + zc[zbase + o];
      let at = (bh * p.n + tok) * p.n_out + o;
      out[at] = select(0.0, val * dphi(xd[at]), valid);
    }
  }
}
