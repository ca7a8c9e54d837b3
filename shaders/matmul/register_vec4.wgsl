// matmul_register_vec4 ('swiftshader' where it applies), after product.wgsl: matmul_register
// with A and B read as vec4s, four k at a time. It needs the dimension each operand is contiguous
// in to be a multiple of 4: K for A (M when TRANS_A), N for B (K when TRANS_B), so every vec4 is
// one aligned row piece (batch strides and split-K chunks keep that). SwiftShader runs
// invocations as SIMD lanes and pays per load instruction, so 8 vec4 loads per 4 k instead of 32
// scalar ones is what counts. Each accumulator still adds k in increasing order by fma, so the
// result is bit for bit matmul_register's.

@group(0) @binding(1) var<storage, read> a: array<vec4f>;  // [batch | 1, M, K] or [.., K, M] if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<vec4f>;  // [batch | 1, K, N] or [.., N, K] if TRANS_B

override RWG_X: u32 = 8u;  // invocations along N
override RWG_Y: u32 = 8u;  // invocations along M

fn a_at(i: u32) -> f32 {
  return a[i >> 2u][i & 3u];
}

fn b_at(i: u32) -> f32 {
  return b[i >> 2u][i & 3u];
}

// acc += x[0] * y0 + x[1] * y1 + x[2] * y2 + x[3] * y3, one fma at a time in that order.
fn fma4(acc: vec4f, x: vec4f, y0: vec4f, y1: vec4f, y2: vec4f, y3: vec4f) -> vec4f {
  return fma(vec4f(x.w), y3, fma(vec4f(x.z), y2, fma(vec4f(x.y), y1, fma(vec4f(x.x), y0, acc))));
}

@compute @workgroup_size(RWG_X, RWG_Y, 1)
fn matmul_register_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * TM;
  let col0 = gid.x * TN;
  if (row0 >= p.m || col0 >= p.n) { return; }
  let j = job(gid.z);
  // As in matmul_register, rows and columns past the edge are clamped onto the last one (only
  // along a dimension that is not contiguous: a contiguous one is a multiple of 4).
  let r = min(vec4u(row0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.m - 1u));
  let q = min(vec4u(col0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.n - 1u));
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  // Four k at a time; the rest (only when neither operand is contiguous in k) one at a time.
  let k4 = j.kBegin + ((j.kEnd - j.kBegin) & ~3u);
  var kk = j.kBegin;
  for (; kk < k4; kk += 4u) {
    // x_i = op(A)[row i, kk .. kk+3]
    var x0: vec4f;
    var x1: vec4f;
    var x2: vec4f;
    var x3: vec4f;
    if (TRANS_A) {
      let base = (j.aBase + kk * p.m + row0) >> 2u;  // A[kk + t, row0 .. row0+3], t = 0..3
      let stride = p.m >> 2u;
      let t0 = a[base];
      let t1 = a[base + stride];
      let t2 = a[base + 2u * stride];
      let t3 = a[base + 3u * stride];
      x0 = vec4f(t0.x, t1.x, t2.x, t3.x);
      x1 = vec4f(t0.y, t1.y, t2.y, t3.y);
      x2 = vec4f(t0.z, t1.z, t2.z, t3.z);
      x3 = vec4f(t0.w, t1.w, t2.w, t3.w);
    } else {
      x0 = a[(j.aBase + r.x * p.k + kk) >> 2u];
      x1 = a[(j.aBase + r.y * p.k + kk) >> 2u];
      x2 = a[(j.aBase + r.z * p.k + kk) >> 2u];
      x3 = a[(j.aBase + r.w * p.k + kk) >> 2u];
    }
    // y_t = op(B)[kk + t, col0 .. col0+3]
    var y0: vec4f;
    var y1: vec4f;
    var y2: vec4f;
    var y3: vec4f;
    if (TRANS_B) {
      let u0 = b[(j.bBase + q.x * p.k + kk) >> 2u];  // B[col i, kk .. kk+3]
      let u1 = b[(j.bBase + q.y * p.k + kk) >> 2u];
      let u2 = b[(j.bBase + q.z * p.k + kk) >> 2u];
      let u3 = b[(j.bBase + q.w * p.k + kk) >> 2u];
      y0 = vec4f(u0.x, u1.x, u2.x, u3.x);
      y1 = vec4f(u0.y, u1.y, u2.y, u3.y);
      y2 = vec4f(u0.z, u1.z, u2.z, u3.z);
      y3 = vec4f(u0.w, u1.w, u2.w, u3.w);
    } else {
      let base = (j.bBase + kk * p.n + col0) >> 2u;
      let stride = p.n >> 2u;
      y0 = b[base];
      y1 = b[base + stride];
      y2 = b[base + 2u * stride];
      y3 = b[base + 3u * stride];
    }
    acc0 = fma4(acc0, x0, y0, y1, y2, y3);
    acc1 = fma4(acc1, x1, y0, y1, y2, y3);
    acc2 = fma4(acc2, x2, y0, y1, y2, y3);
    acc3 = fma4(acc3, x3, y0, y1, y2, y3);
  }
  for (; kk < j.kEnd; kk++) {
    let bv = vec4f(b_at(j.bBase + bIndex(kk, q.x)), b_at(j.bBase + bIndex(kk, q.y)),
                   b_at(j.bBase + bIndex(kk, q.z)), b_at(j.bBase + bIndex(kk, q.w)));
    acc0 = fma(vec4f(a_at(j.aBase + aIndex(r.x, kk))), bv, acc0);
    acc1 = fma(vec4f(a_at(j.aBase + aIndex(r.y, kk))), bv, acc1);
    acc2 = fma(vec4f(a_at(j.aBase + aIndex(r.z, kk))), bv, acc2);
    acc3 = fma(vec4f(a_at(j.aBase + aIndex(r.w, kk))), bv, acc3);
  }
  storeRow(j, row0, col0, 1u, acc0);
  storeRow(j, row0 + 1u, col0, 1u, acc1);
  storeRow(j, row0 + 2u, col0, 1u, acc2);
  storeRow(j, row0 + 3u, col0, 1u, acc3);
}
