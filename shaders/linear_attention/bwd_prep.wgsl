// shaders/linear_attention/bwd_prep.wgsl: the backward's first pass.
// bwd_prep: per token, g = dout / den and r = -(dout . out) / den, stored as one row [g | r | 0 ..]
// of p.sk floats (attend.ts grStride: Dv + 1 rounded up to a multiple of 4, so g runs are vec4s).
@group(0) @binding(1) var<storage, read> dy: array<f32>;           // [BH, N, Dv]
@group(0) @binding(2) var<storage, read> y: array<f32>;            // [BH, N, Dv]
@group(0) @binding(3) var<storage, read> den_in: array<f32>;       // [BH, N]
@group(0) @binding(4) var<storage, read_write> gr: array<f32>;     // [BH, N, sk]

@compute @workgroup_size(WG1)
fn bwd_prep(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  let tok = grid_index(wid, nwg) * WG1 + lid;
  if (tok >= p.nbh * p.n) { return; }
  // A padding row's output is 0 whatever its inputs: it passes no gradient (g = 0, r = 0).
  let bh = tok / p.n;
  let inv = select(0.0, 1.0 / den_in[tok], tok - bh * p.n < seq_len(bh));
  var dot = 0.0;
  for (var e = 0u; e < p.dv; e++) {
    let g = dy[tok * p.dv + e];
    dot += g * y[tok * p.dv + e];
    gr[tok * p.sk + e] = g * inv;
  }
  gr[tok * p.sk + p.dv] = -dot * inv;
  for (var e = p.dv + 1u; e < p.sk; e++) { gr[tok * p.sk + e] = 0.0; }
}
