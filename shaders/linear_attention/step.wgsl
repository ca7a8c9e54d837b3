// shaders/linear_attention/step.wgsl: the recurrent form, one token at a time (sampling).
// step: eq. (12) for one token, one workgroup per (batch, head), threads over value columns.
//   m = beta m - phi(k) v^T;  S = S - gamma m;  z = z + phi(k);  out = phi(q)^T S / phi(q)^T z.
@group(0) @binding(1) var<storage, read> q1: array<f32>;           // [BH, D]
@group(0) @binding(2) var<storage, read> k1: array<f32>;           // [BH, D]
@group(0) @binding(3) var<storage, read> v1: array<f32>;           // [BH, Dv]
@group(0) @binding(4) var<storage, read_write> s1: array<f32>;     // [BH, D, Dv]
@group(0) @binding(5) var<storage, read_write> m1: array<f32>;     // [BH, D, Dv]
@group(0) @binding(6) var<storage, read_write> z1: array<f32>;     // [BH, D]
@group(0) @binding(7) var<storage, read_write> o1: array<f32>;     // [BH, Dv]

@compute @workgroup_size(WG1)
fn step(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let bh = wid.x;
  var dn = 0.0;
  for (var d = 0u; d < p.d; d++) {
    dn += phi(q1[bh * p.d + d]) * (z1[bh * p.d + d] + phi(k1[bh * p.d + d]));
  }
  for (var e = lid; e < p.dv; e += WG1) {
    let ve = v1[bh * p.dv + e];
    var num = 0.0;
    for (var d = 0u; d < p.d; d++) {
      let u = phi(k1[bh * p.d + d]) * ve;
      let at = (bh * p.d + d) * p.dv + e;
      var sv: f32;
      if (MOMENTUM) {
        let mv = p.beta * m1[at] - u;
        m1[at] = mv;
        sv = s1[at] - p.gamma * mv;
      } else {
        sv = s1[at] + u;
      }
      s1[at] = sv;
      num += phi(q1[bh * p.d + d]) * sv;
    }
    o1[bh * p.dv + e] = num / dn;
  }
  // Every thread has read z for its normaliser before z moves on.
  workgroupBarrier();
  for (var d = lid; d < p.d; d += WG1) {
    z1[bh * p.d + d] = z1[bh * p.d + d] + phi(k1[bh * p.d + d]);
  }
}
