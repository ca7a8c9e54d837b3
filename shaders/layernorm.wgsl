// LayerNorm over the last dimension of x [R, C]: y = (x - mean) * rstd * gain + bias, with
// rstd = 1 / sqrt(var + eps) and the biased variance (as PyTorch). The forward saves mean and
// rstd [R] for the backward. Two ways to spread a row over invocations, picked by the host:
//  - workgroup per row (real GPUs): WG invocations stride over the row (coalesced loads) and
//    combine their partial sums with a tree reduction in workgroup memory;
//  - thread per row (SwiftShader, where barriers are expensive and lanes do not coalesce anyway).
// The gain/bias gradients are column sums over rows, done in two fixed-order stages (no atomics).
// Mean and variance take two passes over the row (no E[x^2] - mean^2 cancellation).
// Rows and columns are read as V: src/engine/kernels/layernorm.ts prepends `alias V = vec4f;`,
// LANES = 4 and hsum (the sum of V's components) where C is a multiple of 4, so every load takes
// four values (SwiftShader pays per load, whatever its width), and `alias V = f32;`, LANES = 1
// otherwise. Statistics per row stay f32.

struct LnParams {
  rows: u32,            // R
  cols: u32,            // C / LANES: the row's length in V
  eps: f32,
  rows_per_chunk: u32,  // rows summed per invocation in the first stage of dgain / dbias
  chunks: u32,          // ceil(rows / rows_per_chunk)
}

@group(0) @binding(0) var<uniform> p: LnParams;
@group(0) @binding(1) var<storage, read> x: array<V>;          // [R, C]
@group(0) @binding(2) var<storage, read> gain: array<V>;       // [C]
@group(0) @binding(3) var<storage, read> bias: array<V>;       // [C]
@group(0) @binding(4) var<storage, read_write> y: array<V>;    // [R, C]
@group(0) @binding(5) var<storage, read_write> mean: array<f32>; // [R], written by the forward
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>; // [R], written by the forward
@group(0) @binding(7) var<storage, read> saved_mean: array<f32>; // [R], read by the backward
@group(0) @binding(8) var<storage, read> saved_rstd: array<f32>; // [R], read by the backward
@group(0) @binding(9) var<storage, read> dy: array<V>;         // [R, C]
@group(0) @binding(10) var<storage, read_write> dx: array<V>;  // [R, C]
@group(0) @binding(11) var<storage, read_write> partial_gain: array<V>; // [chunks, C]
@group(0) @binding(12) var<storage, read_write> partial_bias: array<V>; // [chunks, C]
@group(0) @binding(13) var<storage, read_write> dgain: array<V>;        // [C]
@group(0) @binding(14) var<storage, read_write> dbias: array<V>;        // [C]

// Invocations per workgroup; a power of two for the workgroup-per-row tree reduction.
override WG: u32 = 256;

var<workgroup> red: array<vec2f, WG>;

// Sum of v over the workgroup, in a fixed tree order; every invocation gets the total.
fn workgroup_sum(lid: u32, v: vec2f) -> vec2f {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();  // everyone has read red[0] before the next call overwrites it
  return total;
}

fn row_of(wid: vec3u, nwg: vec3u) -> u32 {
  return grid_index(wid, nwg);
}

// ---- forward

@compute @workgroup_size(WG)
fn forward_workgroup_per_row(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                             @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid, nwg);
  if (row >= p.rows) { return; }   // uniform across the workgroup
  let base = row * p.cols;
  let n = f32(p.cols * LANES);
  var s = V(0.0);
  for (var c = lid; c < p.cols; c += WG) { s += x[base + c]; }
  let mu = workgroup_sum(lid, vec2f(hsum(s), 0.0)).x / n;
  var q = V(0.0);
  for (var c = lid; c < p.cols; c += WG) {
    let d = x[base + c] - mu;
    q += d * d;
  }
  let r = inverseSqrt(workgroup_sum(lid, vec2f(hsum(q), 0.0)).x / n + p.eps);
  for (var c = lid; c < p.cols; c += WG) {
    y[base + c] = (x[base + c] - mu) * r * gain[c] + bias[c];
  }
  if (lid == 0u) {
    mean[row] = mu;
    rstd[row] = r;
  }
}

@compute @workgroup_size(WG)
fn forward_thread_per_row(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                          @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid, nwg) * WG + lid;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let n = f32(p.cols * LANES);
  var s = V(0.0);
  for (var c = 0u; c < p.cols; c++) { s += x[base + c]; }
  let mu = hsum(s) / n;
  var q = V(0.0);
  for (var c = 0u; c < p.cols; c++) {
    let d = x[base + c] - mu;
    q += d * d;
  }
  let r = inverseSqrt(hsum(q) / n + p.eps);
  for (var c = 0u; c < p.cols; c++) {
    y[base + c] = (x[base + c] - mu) * r * gain[c] + bias[c];
  }
  mean[row] = mu;
  rstd[row] = r;
}

// ---- backward: dx. With g = gain * dy and xhat = (x - mean) * rstd,
// dx = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)).

@compute @workgroup_size(WG)
fn backward_dx_workgroup_per_row(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                                 @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let mu = saved_mean[row];
  let r = saved_rstd[row];
  var acc = vec2f(0.0);
  for (var c = lid; c < p.cols; c += WG) {
    let g = gain[c] * dy[base + c];
    acc += vec2f(hsum(g), hsum(g * (x[base + c] - mu) * r));
  }
  let m = workgroup_sum(lid, acc) / f32(p.cols * LANES);
  for (var c = lid; c < p.cols; c += WG) {
    let g = gain[c] * dy[base + c];
    let xhat = (x[base + c] - mu) * r;
    dx[base + c] = r * (g - m.x - xhat * m.y);
  }
}

@compute @workgroup_size(WG)
fn backward_dx_thread_per_row(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                              @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid, nwg) * WG + lid;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let mu = saved_mean[row];
  let r = saved_rstd[row];
  var acc = vec2f(0.0);
  for (var c = 0u; c < p.cols; c++) {
    let g = gain[c] * dy[base + c];
    acc += vec2f(hsum(g), hsum(g * (x[base + c] - mu) * r));
  }
  let m = acc / f32(p.cols * LANES);
  for (var c = 0u; c < p.cols; c++) {
    let g = gain[c] * dy[base + c];
    let xhat = (x[base + c] - mu) * r;
    dx[base + c] = r * (g - m.x - xhat * m.y);
  }
}

// ---- backward: dgain[c] = sum_r dy[r, c] xhat[r, c], dbias[c] = sum_r dy[r, c].
// Stage 1, grid (ceil(C / WG), chunks): adjacent invocations take adjacent columns, so each row's
// loads coalesce; each sums one chunk of rows.
@compute @workgroup_size(WG)
fn backward_params_partial(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let chunk = gid.y;
  if (c >= p.cols) { return; }
  let r0 = chunk * p.rows_per_chunk;
  let r1 = min(r0 + p.rows_per_chunk, p.rows);
  var sg = V(0.0);
  var sb = V(0.0);
  for (var row = r0; row < r1; row++) {
    let g = dy[row * p.cols + c];
    sg += g * (x[row * p.cols + c] - saved_mean[row]) * saved_rstd[row];
    sb += g;
  }
  partial_gain[chunk * p.cols + c] = sg;
  partial_bias[chunk * p.cols + c] = sb;
}

// Stage 2, grid ceil(C / WG): the chunks' partials in chunk order.
@compute @workgroup_size(WG)
fn backward_params_reduce(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.cols) { return; }
  var sg = V(0.0);
  var sb = V(0.0);
  for (var k = 0u; k < p.chunks; k++) {
    sg += partial_gain[k * p.cols + c];
    sb += partial_bias[k * p.cols + c];
  }
  dgain[c] = sg;
  dbias[c] = sb;
}
