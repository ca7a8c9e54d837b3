// shaders/linear_attention/attend_tiled_forward.wgsl: the forward of linear and momentum
// attention, tiled ('gpu' variant): out = (state term + in-chunk term) / den for one chunk.
const MODE: u32 = 0u;
const TRANS: bool = false;
const PHI_Q: bool = true;
const PHI_K: bool = true;
const PHI_V: bool = false;

@group(0) @binding(6) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]
@group(0) @binding(7) var<storage, read_write> den: array<f32>;    // [BH, N]

// The row's normaliser: phi(q_i) . z plus its in-chunk scores' row sum (from phase 2's partials).
// A padding row (past the example's length) is 0, with normaliser 1.
fn tile_row(t: OutTile, r: u32, i: u32, tok: u32, valid: bool) -> f32 {
  var dn = dz[r];
  if (CAUSAL) {
    var rs = 0.0;
    for (var k = 0u; k < T; k++) { rs += sh[C * C + i * T + k]; }
    dn = rs + dn;
  }
  dn = select(1.0, dn, valid);
  if (t.tx == 0u && t.ob == 0u) { den[t.bh * p.n + tok] = dn; }
  return dn;
}

fn tile_store(t: OutTile, tok: u32, o: u32, val: f32, dn: f32, valid: bool) {
  out[(t.bh * p.n + tok) * p.n_out + o] = select(0.0, val / dn, valid);
}

@compute @workgroup_size(T, T)
fn attend_forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  attend_tiled(lid, wid);
}
