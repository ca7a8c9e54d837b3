// shaders/linear_attention/attend_rows_forward.wgsl: the forward of linear and momentum
// attention, one thread per two tokens ('swiftshader' variant).
const MODE: u32 = 0u;
const TRANS: bool = false;

@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, Dv]
@group(0) @binding(8) var<storage, read_write> den: array<f32>;    // [BH, N]

@compute @workgroup_size(WG1)
fn attend_rows_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let g = grid_index(wid, nwg) * WG1 + lid;
  if (g >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(g);
  let bh = pr.x;
  let gA = bh * p.n + pr.y;
  let gB = bh * p.n + pr.z;
  let dnB = rows_prep(bh, pr.z);
  stash_row();
  let dnA = rows_prep(bh, pr.y);
  // A padding row (past the example's length) is 0, with normaliser 1.
  let nb = seq_len(bh);
  let validA = pr.y < nb;
  let validB = pr.z < nb;
  den[gA] = select(1.0, dnA, validA);
  den[gB] = select(1.0, dnB, validB);
  for (var o = 0u; o < p.n_out; o += 4u) {
    let v = rows_value4(bh, pr.y, pr.z, o);
    let va = select(vec4f(0.0), v.a / dnA, validA);
    let vb = select(vec4f(0.0), v.b / dnB, validB);
    for (var k = 0u; k < min(4u, p.n_out - o); k++) {
      out[gA * p.n_out + o + k] = va[k];
      out[gB * p.n_out + o + k] = vb[k];
    }
  }
}
