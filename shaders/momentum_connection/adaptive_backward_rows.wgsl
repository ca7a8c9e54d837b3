// After adaptive.wgsl, rows.wgsl and grads.wgsl. Backward, row pass: dx = d_out, and per row
// d beta~ = sum_c dm_c m_prev_c (+ d_beta), turned into the coefficients of the gradient through beta~:
//   dg += ca (g - gp) ;  dgp += -ca (g - gp) + cp gp
// with ca = dr / (den nd), cp = -dr r / (den np), dr = d beta~ * d(1 - sqrt r)^2/dr.
// Where the projection clamps (raw > 1 - delta) or ||gp|| < eps, the respective paths carry zero.

@group(0) @binding(3) var<storage, read> d_beta: array<f32>;        // [R]
@group(0) @binding(4) var<storage, read> m_prev: array<f32>;
@group(0) @binding(5) var<storage, read> saved_norms: array<f32>;   // [R, 2], the forward's norms
@group(0) @binding(6) var<storage, read_write> coef: array<f32>;    // [R, COEF]: beta~, ca, cp
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;

var<workgroup> partial1: array<f32, TX * TY>;

fn tree_sum1(slot: u32, lx: u32) {
  workgroupBarrier();
  for (var s = TX / 2u; s > 0u; s = s >> 1u) {
    if (lx < s) { partial1[slot + lx] += partial1[slot + lx + s]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(TX, TY)
fn adaptive_backward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                          @builtin(local_invocation_id) lid: vec3u) {
  let row = row_of(wid, nwg, lid.y);
  let live = row < p.rows;
  let base = row * p.cols;
  var acc = 0.0;
  if (live) {
    for (var c = lid.x; c < p.cols; c += TX) {
      let i = base + c;
      acc += total_dm(i) * m_prev[i];
      dx[i] = total_dx(i);
    }
  }
  let slot = lid.y * TX;
  partial1[slot + lid.x] = acc;
  tree_sum1(slot, lid.x);
  if (!live || lid.x != 0u) { return; }
  var dbeta = partial1[slot];
  if (p.has_dbeta != 0u) { dbeta += d_beta[row]; }
  let nd = saved_norms[2u * row];
  let np = saved_norms[2u * row + 1u];
  let raw = adaptive_raw(nd, np);
  var ca = 0.0;
  var cp = 0.0;
  // Inclusive at the kink (raw == 1 - delta passes, as PyTorch's clamp does); nd > 0 holds there.
  if (raw <= 1.0 - p.delta && nd > 0.0) {
    let den = max(np, p.eps);
    let r = nd / den;
    let s = sqrt(r);
    let dr = -dbeta * (1.0 - s) / s;
    ca = dr / (den * nd);
    if (np >= p.eps) { cp = -dr * r / (den * np); }
  }
  coef[COEF * row] = project(raw);
  coef[COEF * row + 1u] = ca;
  coef[COEF * row + 2u] = cp;
}
