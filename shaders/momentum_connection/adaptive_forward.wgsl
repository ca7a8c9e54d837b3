// After adaptive.wgsl and rows.wgsl: one fused pass per row, the norms ||g - gPrev|| and
// ||gPrev||, beta~, then m and out; beta [R] (for metrics) and norms [R, 2] (for the backward).

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> g_prev: array<f32>;
@group(0) @binding(4) var<storage, read> m_prev: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> m: array<f32>;
@group(0) @binding(7) var<storage, read_write> beta: array<f32>;   // [R]
@group(0) @binding(8) var<storage, read_write> norms: array<f32>;  // [R, 2]: ||g - gp||, ||gp||

var<workgroup> partial2: array<vec2f, TX * TY>;

/// Sums partial2[slot .. slot + TX) into partial2[slot] in a fixed order. Called by every thread.
fn tree_sum2(slot: u32, lx: u32) {
  workgroupBarrier();
  for (var s = TX / 2u; s > 0u; s = s >> 1u) {
    if (lx < s) { partial2[slot + lx] += partial2[slot + lx + s]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(TX, TY)
fn adaptive_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_id) lid: vec3u) {
  let row = row_of(wid, nwg, lid.y);
  let live = row < p.rows;
  let base = row * p.cols;
  var acc = vec2f(0.0);
  if (live) {
    for (var c = lid.x; c < p.cols; c += TX) {
      let gp = g_prev[base + c];
      let d = g[base + c] - gp;
      acc += vec2f(d * d, gp * gp);
    }
  }
  let slot = lid.y * TX;
  partial2[slot + lid.x] = acc;
  tree_sum2(slot, lid.x);
  if (!live) { return; }
  let sums = partial2[slot];
  let nd = sqrt(sums.x);
  let np = sqrt(sums.y);
  let b = project(adaptive_raw(nd, np));
  if (lid.x == 0u) {
    beta[row] = b;
    norms[2u * row] = nd;
    norms[2u * row + 1u] = np;
  }
  for (var c = lid.x; c < p.cols; c += TX) {
    let i = base + c;
    let mi = b * m_prev[i] + g[i];
    m[i] = mi;
    out[i] = x[i] + p.gamma * mi;
  }
}
