// matmul_register_vec4 ('swiftshader' where it applies), after product.wgsl: like
// matmul_register, no workgroup memory and no barriers, but each invocation owns a 16 x 16 block
// of C (four row quads by four column quads, sixteen mat4 accumulators) and reads A and B as
// vec4s, four k at a time. It needs K and the dimension each operand is contiguous in (M for A
// when TRANS_A, N for B unless TRANS_B) to be multiples of 4, so every vec4 is one aligned row
// piece and there is no k tail (batch strides and split-K chunks keep that).
//
// Why this shape on SwiftShader (Subzero): invocations run as 4-wide SIMD lanes and every load
// with a per-lane address is an emulated gather of 4 lanes, one per vector component, so loads,
// not FMAs, set the time. Per 4 k a block of 4R x 4C costs R + C mat4 loads (4 vec4s each) for
// 16 R C vec4 FMAs: 4 x 8 (the former block) 12 vec4 loads for 32 FMAs, 16 x 16 32 for 256.
// The product of a block is in block16.wgsl (shared with register_gather.wgsl, which reads
// operands of any shape as scalars); the entry point and how lanes get their blocks and op(A)
// rows are in the lane files:
// register_vec4_lanes.wgsl numbers blocks linearly over a 1-D workgroup of RWG invocations
// (blocks along N fastest), so every SIMD lane has a block whatever the shape (a 2-D workgroup
// wider than C left whole lanes idle) and small workgroups give the CPU threads enough of them;
// register_vec4_subgroup.wgsl gives a subgroup's lanes one row band and shares op(A)'s loads.
//
// Each accumulator still adds k in increasing order by fma, so the result is bit for bit
// matmul_register's (tests/gpu/matmul.test.ts checks it).

@group(0) @binding(1) var<storage, read> a: array<vec4f>;  // [batch | 1, M, K] or [.., K, M] if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<vec4f>;  // [batch | 1, K, N] or [.., N, K] if TRANS_B

// Quads along a dimension read as vec4s are kept whole (block16.wgsl's quad).
const WHOLE_QUADS: bool = true;

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

