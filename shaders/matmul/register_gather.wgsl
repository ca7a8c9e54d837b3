// matmul_register_gather ('swiftshader', for shapes matmul_register_vec4 cannot read as vec4s:
// an output head's 11 columns, its K = 11 gradient), after product.wgsl, before block16.wgsl:
// the 16 x 16 blocks of matmul_register_vec4 with A and B read as floats, any shape, four at a
// time into the same 4 x 4 pieces. On SwiftShader a vec4 load with a per-lane address is four
// gathers anyway (register_vec4.wgsl), so four scalar loads cost about as much; what the blocks
// save over matmul_register's 4 x 4 is loads per FMA (32 per 256 FMAs against 8 per 16).
// On a C narrower than 13 columns (the head) the blocks are 16 x 4 COL_QUADS (block16.wgsl).
// Rows and columns past C's edge are clamped (block16.wgsl's quad, none kept whole) and their
// results dropped; k past the chunk's end (a tail of K % 4) reads the chunk's last k and is
// zeroed in both operands, so it adds fma(0, 0, acc) = acc (acc starts at +0 and never becomes
// -0): the bits are matmul_register's.

@group(0) @binding(1) var<storage, read> a: array<f32>;  // [batch | 1, M, K] or [.., K, M] if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<f32>;  // [batch | 1, K, N] or [.., N, K] if TRANS_B

const WHOLE_QUADS: bool = false;

// Whether K's chunks can end mid-quad (false where every chunk is a multiple of 4 long, so the
// clamps and zeros below compile away).
override K_TAIL: bool = true;

// kk .. kk+3 clamped onto the chunk's last k.
fn k_quad(j: Job, kk: u32) -> vec4u {
  let k = vec4u(kk) + vec4u(0u, 1u, 2u, 3u);
  if (K_TAIL) { return min(k, vec4u(j.kEnd - 1u)); }
  return k;
}

fn k_inside(j: Job, kk: u32) -> vec4<bool> {
  return vec4u(kk) + vec4u(0u, 1u, 2u, 3u) < vec4u(j.kEnd);
}

// op(A)[row, k[0..3]], zero where k lies past the chunk.
fn a_run(j: Job, row: u32, k: vec4u, inside: vec4<bool>) -> vec4f {
  var at = j.aBase + row * p.k + k;
  if (TRANS_A) { at = j.aBase + k * p.m + row; }
  let v = vec4f(a[at.x], a[at.y], a[at.z], a[at.w]);
  if (K_TAIL) { return select(vec4f(0.0), v, inside); }
  return v;
}

// op(B)[k, q[0..3]], zero where k lies past the chunk.
fn b_run(j: Job, k: u32, inside: bool, q: vec4u) -> vec4f {
  var at = j.bBase + k * p.n + q;
  if (TRANS_B) { at = j.bBase + q * p.k + k; }
  let v = vec4f(b[at.x], b[at.y], b[at.z], b[at.w]);
  if (K_TAIL) { return select(vec4f(0.0), v, inside); }
  return v;
}

// Column i is op(A)[r[i], kk .. kk+3] (register_vec4.wgsl's a_block, from floats).
fn a_block(j: Job, r: vec4u, kk: u32) -> mat4x4f {
  let k = k_quad(j, kk);
  let inside = k_inside(j, kk);
  return mat4x4f(a_run(j, r.x, k, inside), a_run(j, r.y, k, inside), a_run(j, r.z, k, inside), a_run(j, r.w, k, inside));
}

// Column t is op(B)[kk + t, q[0] .. q[3]] (register_vec4.wgsl's b_block, from floats).
fn b_block(j: Job, q: vec4u, kk: u32) -> mat4x4f {
  let k = k_quad(j, kk);
  let inside = k_inside(j, kk);
  return mat4x4f(b_run(j, k.x, inside.x, q), b_run(j, k.y, inside.y, q), b_run(j, k.z, inside.z, q), b_run(j, k.w, inside.w, q));
}
