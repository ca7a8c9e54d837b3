// shaders/linear_attention/step_rows.wgsl: the recurrent form, one token at a time (sampling),
// 'swiftshader' variant of step.wgsl: the same eq. (12), the same order of operations per entry.
// step_rows: one thread per (batch, head) walks its whole state, four value columns a vec4, with
// phi(k_d), phi(q_d) computed once per row d (step computes them per entry) and no barrier: the
// thread that reads z for the normaliser is the one that advances it. step's workgroup per
// (batch, head) leaves most of its lanes idle at small Dv and pays a barrier, which SwiftShader
// runs as a thread switch; this kernel wants Dv a multiple of 4 (the host falls back to step).
// Always the momentum update, as MomentumState runs step (beta = 0, gamma = 1 is linear's).
@group(0) @binding(1) var<storage, read> q1: array<f32>;            // [BH, D]
@group(0) @binding(2) var<storage, read> k1: array<f32>;            // [BH, D]
@group(0) @binding(3) var<storage, read> v4: array<vec4f>;          // [BH, Dv / 4]
@group(0) @binding(4) var<storage, read_write> s4: array<vec4f>;    // [BH, D, Dv / 4]
@group(0) @binding(5) var<storage, read_write> m4: array<vec4f>;    // [BH, D, Dv / 4]
@group(0) @binding(6) var<storage, read_write> z1: array<f32>;      // [BH, D]
@group(0) @binding(7) var<storage, read_write> o4: array<vec4f>;    // [BH, Dv / 4]

const MAX_DV4: u32 = 32u;   // Dv up to 128 (LINEAR_ATTENTION_MAX_ROW_DIM)
var<private> vrow: array<vec4f, MAX_DV4>;   // v of this token
var<private> num: array<vec4f, MAX_DV4>;    // phi(q)^T S, four columns a vec4

@compute @workgroup_size(WG1)
fn step_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) lid: u32) {
  let bh = grid_index(wid, nwg) * WG1 + lid;
  if (bh >= p.nbh) { return; }
  let ne4 = p.dv / 4u;
  for (var e4 = 0u; e4 < ne4; e4++) {
    vrow[e4] = v4[bh * ne4 + e4];
    num[e4] = vec4f(0.0);
  }
  var dn = 0.0;
  for (var d = 0u; d < p.d; d++) {
    let pk = phi(k1[bh * p.d + d]);
    let pq = phi(q1[bh * p.d + d]);
    let zd = z1[bh * p.d + d] + pk;
    z1[bh * p.d + d] = zd;
    dn += pq * zd;
    let row = (bh * p.d + d) * ne4;
    for (var e4 = 0u; e4 < ne4; e4++) {
      let mv = p.beta * m4[row + e4] - pk * vrow[e4];
      m4[row + e4] = mv;
      let sv = s4[row + e4] - p.gamma * mv;
      s4[row + e4] = sv;
      num[e4] += pq * sv;
    }
  }
  for (var e4 = 0u; e4 < ne4; e4++) {
    o4[bh * ne4 + e4] = num[e4] / dn;
  }
}
