// shaders/linear_attention/attend_tiled_forward.wgsl: the forward of linear and momentum
// attention, tiled ('gpu' variant): out = (state term + in-chunk term) / den for one chunk.
const MODE: u32 = 0u;
const TRANS: bool = false;
const PHI_Q: bool = true;
const PHI_K: bool = true;
const PHI_V: bool = false;

@group(0) @binding(6) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]
@group(0) @binding(7) var<storage, read_write> den: array<f32>;    // [BH, N]

@compute @workgroup_size(T, T)
fn attend_forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_core(lid, wid);
  let bh = wid.y;
  let c = wid.x / p.nblk;
  let ob = wid.x % p.nblk;
  let tx = lid % T;
  let ty = lid / T;
  let o0 = ob * T * ST;
  let L = chunk_len(c);
  let nb = seq_len(bh);
  for (var r = 0u; r < RT; r++) {
    let i = ty + T * r;
    if (i >= L) { continue; }
    let tok = bh * p.n + c * C + i;
    var dn = dz[r];
    if (CAUSAL) {
      var rs = 0.0;
      for (var t = 0u; t < T; t++) { rs += sh[C * C + i * T + t]; }
      dn = rs + dn;
    }
    // A padding row (past the example's length) is 0, with normaliser 1.
    let valid = c * C + i < nb;
    dn = select(1.0, dn, valid);
    if (tx == 0u && ob == 0u) { den[tok] = dn; }
    for (var s = 0u; s < ST; s++) {
      let o = o0 + tx + T * s;
      if (o >= p.n_out) { continue; }
      var num = acc[r * MAX_S + s];
      if (CAUSAL) { num = num + intra[r * MAX_S + s]; }
      out[tok * p.n_out + o] = select(0.0, num / dn, valid);
    }
  }
}
