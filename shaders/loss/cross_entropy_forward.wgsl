// shaders/loss/cross_entropy_forward.wgsl: softmax cross-entropy per row, a workgroup per row
// ('gpu' variant, ce_forward) or a thread per row ('swiftshader', ce_forward_rows).
@group(0) @binding(4) var<storage, read_write> nll: array<f32>;     // [R]
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;   // [R, 2]: row max, log sum exp(x - max)
@group(0) @binding(6) var<storage, read_write> argmax: array<u32>;  // [R]

override CWG: u32 = 64;   // threads sharing one row in ce_forward (a power of two)

var<workgroup> red_max: array<f32, CWG>;
var<workgroup> red_arg: array<u32, CWG>;
var<workgroup> red_sum: array<f32, CWG>;

// Writes a row's outputs from its max m (first index arg) and s = sum exp(x - m).
fn ce_finish(r: u32, m: f32, arg: u32, s: f32) {
  let t = targets[r];
  let log_s = log(s);
  // (m - x_t) + log s rather than lse - x_t: no cancellation when the logits are large.
  nll[r] = select(runtime_nan(t), (m - x[r * p.classes + min(t, p.classes - 1u)]) + log_s, t < p.classes);
  stats[2u * r] = m;
  stats[2u * r + 1u] = log_s;
  argmax[r] = arg;
}

// Real GPUs: one workgroup per row, coalesced loads, tree reductions in workgroup memory.
@compute @workgroup_size(CWG)
fn ce_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let r = flat_group(wid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.classes;
  var m = NEG_FLT_MAX;
  var arg = p.classes;
  for (var v = lid; v < p.classes; v += CWG) {
    let z = x[base + v];
    if (z > m) { m = z; arg = v; }
  }
  red_max[lid] = m;
  red_arg[lid] = arg;
  workgroupBarrier();
  for (var half = CWG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let om = red_max[lid + half];
      let oa = red_arg[lid + half];
      // Ties go to the lower index, as a sequential scan would give.
      if (om > red_max[lid] || (om == red_max[lid] && oa < red_arg[lid])) {
        red_max[lid] = om;
        red_arg[lid] = oa;
      }
    }
    workgroupBarrier();
  }
  let row_max = red_max[0];
  var s = 0.0;
  for (var v = lid; v < p.classes; v += CWG) { s += exp(x[base + v] - row_max); }
  red_sum[lid] = s;
  workgroupBarrier();
  for (var half = CWG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red_sum[lid] += red_sum[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { ce_finish(r, row_max, red_arg[0], red_sum[0]); }
}

// SwiftShader: one thread per row, no barriers (each barrier costs a CPU thread switch there).
@compute @workgroup_size(WG)
fn ce_forward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let r = flat_group(wid, nwg) * WG + lid;
  if (r >= p.rows) { return; }
  let base = r * p.classes;
  var m = x[base];
  var arg = 0u;
  for (var v = 1u; v < p.classes; v++) {
    let z = x[base + v];
    if (z > m) { m = z; arg = v; }
  }
  var s = 0.0;
  for (var v = 0u; v < p.classes; v++) { s += exp(x[base + v] - m); }
  ce_finish(r, m, arg, s);
}
