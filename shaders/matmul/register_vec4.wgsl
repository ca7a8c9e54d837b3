// matmul_register_vec4 ('swiftshader' where it applies), after product.wgsl: like
// matmul_register, but each invocation owns a 4 x 8 block of C (TM rows, two quads of TN columns)
// and reads A and B as vec4s, four k at a time. It needs the dimension each operand is contiguous
// in to be a multiple of 4: K for A (M when TRANS_A), N for B (K when TRANS_B), so every vec4 is
// one aligned row piece (batch strides and split-K chunks keep that). SwiftShader runs
// invocations as SIMD lanes and pays per load, so per 4 k this is 12 vec4 loads for 32 vec4 FMAs
// where matmul_register makes 32 scalar loads for 16. Each accumulator still adds k in increasing
// order by fma, so the result is bit for bit matmul_register's.

@group(0) @binding(1) var<storage, read> a: array<vec4f>;  // [batch | 1, M, K] or [.., K, M] if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<vec4f>;  // [batch | 1, K, N] or [.., N, K] if TRANS_B

override RWG_X: u32 = 8u;  // invocations along N (each 2 * TN columns)
override RWG_Y: u32 = 8u;  // invocations along M (each TM rows)

fn a_at(i: u32) -> f32 {
  return a[i >> 2u][i & 3u];
}

fn b_at(i: u32) -> f32 {
  return b[i >> 2u][i & 3u];
}

// Column i is op(A)[r[i], kk .. kk+3]. With TRANS_A the rows are r[0] .. r[0]+3, all inside M.
fn a_block(j: Job, r: vec4u, kk: u32) -> mat4x4f {
  if (TRANS_A) {
    let base = (j.aBase + kk * p.m + r.x) >> 2u;  // A[kk + t, r.x .. r.x+3] for t = 0..3
    let stride = p.m >> 2u;
    return transpose(mat4x4f(a[base], a[base + stride], a[base + 2u * stride], a[base + 3u * stride]));
  }
  return mat4x4f(a[(j.aBase + r.x * p.k + kk) >> 2u], a[(j.aBase + r.y * p.k + kk) >> 2u],
                 a[(j.aBase + r.z * p.k + kk) >> 2u], a[(j.aBase + r.w * p.k + kk) >> 2u]);
}

// Column t is op(B)[kk + t, q[0] .. q[0]+3]. Without TRANS_B the columns are q[0] .. q[0]+3, all inside N.
fn b_block(j: Job, q: vec4u, kk: u32) -> mat4x4f {
  if (TRANS_B) {
    return transpose(mat4x4f(b[(j.bBase + q.x * p.k + kk) >> 2u], b[(j.bBase + q.y * p.k + kk) >> 2u],
                             b[(j.bBase + q.z * p.k + kk) >> 2u], b[(j.bBase + q.w * p.k + kk) >> 2u]));
  }
  let base = (j.bBase + kk * p.n + q.x) >> 2u;
  let stride = p.n >> 2u;
  return mat4x4f(b[base], b[base + stride], b[base + 2u * stride], b[base + 3u * stride]);
}

// acc + x[0] y[0] + x[1] y[1] + x[2] y[2] + x[3] y[3], one fma at a time in that order.
fn fma4(acc: vec4f, x: vec4f, y: mat4x4f) -> vec4f {
  return fma(vec4f(x.w), y[3], fma(vec4f(x.z), y[2], fma(vec4f(x.y), y[1], fma(vec4f(x.x), y[0], acc))));
}

// Rows (or columns) base .. base+3 clamped onto the last of `size`, so loads past the edge stay in
// bounds (storeRow drops their results). Along a dimension that is read as vec4s (a multiple of
// 4) the quad is kept whole instead: it starts at most at size - 4.
fn quad(base: u32, size: u32, contiguous: bool) -> vec4u {
  if (contiguous) { return vec4u(min(base, size - 4u)) + vec4u(0u, 1u, 2u, 3u); }
  return min(vec4u(base) + vec4u(0u, 1u, 2u, 3u), vec4u(size - 1u));
}

@compute @workgroup_size(RWG_X, RWG_Y, 1)
fn matmul_register_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * TM;
  let col0 = gid.x * 2u * TN;
  if (row0 >= p.m || col0 >= p.n) { return; }
  let j = job(gid.z);
  let r = quad(row0, p.m, TRANS_A);
  let q0 = quad(col0, p.n, !TRANS_B);
  let q1 = quad(col0 + TN, p.n, !TRANS_B);
  var acc00 = vec4f(0.0);  // row i, columns of quad c: acc{i}{c}
  var acc10 = vec4f(0.0);
  var acc20 = vec4f(0.0);
  var acc30 = vec4f(0.0);
  var acc01 = vec4f(0.0);
  var acc11 = vec4f(0.0);
  var acc21 = vec4f(0.0);
  var acc31 = vec4f(0.0);
  // Four k at a time; the rest (only when neither operand is contiguous in k) one at a time.
  let k4 = j.kBegin + ((j.kEnd - j.kBegin) & ~3u);
  for (var kk = j.kBegin; kk < k4; kk += 4u) {
    let x = a_block(j, r, kk);
    let y0 = b_block(j, q0, kk);
    let y1 = b_block(j, q1, kk);
    acc00 = fma4(acc00, x[0], y0);
    acc10 = fma4(acc10, x[1], y0);
    acc20 = fma4(acc20, x[2], y0);
    acc30 = fma4(acc30, x[3], y0);
    acc01 = fma4(acc01, x[0], y1);
    acc11 = fma4(acc11, x[1], y1);
    acc21 = fma4(acc21, x[2], y1);
    acc31 = fma4(acc31, x[3], y1);
  }
  for (var kk = k4; kk < j.kEnd; kk++) {
    let x = vec4f(a_at(j.aBase + aIndex(r.x, kk)), a_at(j.aBase + aIndex(r.y, kk)),
                  a_at(j.aBase + aIndex(r.z, kk)), a_at(j.aBase + aIndex(r.w, kk)));
    let y0 = vec4f(b_at(j.bBase + bIndex(kk, q0.x)), b_at(j.bBase + bIndex(kk, q0.y)),
                   b_at(j.bBase + bIndex(kk, q0.z)), b_at(j.bBase + bIndex(kk, q0.w)));
    let y1 = vec4f(b_at(j.bBase + bIndex(kk, q1.x)), b_at(j.bBase + bIndex(kk, q1.y)),
                   b_at(j.bBase + bIndex(kk, q1.z)), b_at(j.bBase + bIndex(kk, q1.w)));
    acc00 = fma(vec4f(x.x), y0, acc00);
    acc10 = fma(vec4f(x.y), y0, acc10);
    acc20 = fma(vec4f(x.z), y0, acc20);
    acc30 = fma(vec4f(x.w), y0, acc30);
    acc01 = fma(vec4f(x.x), y1, acc01);
    acc11 = fma(vec4f(x.y), y1, acc11);
    acc21 = fma(vec4f(x.z), y1, acc21);
    acc31 = fma(vec4f(x.w), y1, acc31);
  }
  storeRow(j, row0, col0, 1u, acc00);
  storeRow(j, row0 + 1u, col0, 1u, acc10);
  storeRow(j, row0 + 2u, col0, 1u, acc20);
  storeRow(j, row0 + 3u, col0, 1u, acc30);
  storeRow(j, row0, col0 + TN, 1u, acc01);
  storeRow(j, row0 + 1u, col0 + TN, 1u, acc11);
  storeRow(j, row0 + 2u, col0 + TN, 1u, acc21);
  storeRow(j, row0 + 3u, col0 + TN, 1u, acc31);
}
