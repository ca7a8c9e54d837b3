// shaders/matmul/block16.wgsl: the 16 x 16 block product of matmul_register_vec4,
// matmul_register_vec4_sg and matmul_register_gather ('swiftshader'), after product.wgsl and an
// operand file that declares A and B and loads their 4 x 4 pieces (a_block, b_block, WHOLE_QUADS):
// register_vec4.wgsl (aligned vec4s) or register_gather.wgsl (scalars, any shape, a k tail).
// Each accumulator adds k in increasing order by fma, one k at a time.

// Rows (and columns) of C per invocation at most: four quads of TM (TN).
const BLOCK: u32 = 16u;

// Row and column quads of TM (TN) per invocation, 1 to 4 each: 4 (16 rows, 16 columns) unless C
// has fewer than 13 rows (a sampling step's batch of 8 tokens takes 2) or columns (an output
// head's 10 or 11 classes take 3), so a small C's block computes and loads no quad that lies
// wholly past its edge. Pipeline constants of the kernels of register_vec4_lanes.wgsl (the
// subgroup kernel keeps 4 x 4): the quads they turn off compile away. Blocks are ROWS x COLS
// (derived, never set).
override ROW_QUADS: u32 = 4u;
override COL_QUADS: u32 = 4u;
override ROWS: u32 = ROW_QUADS * TM;
override COLS: u32 = COL_QUADS * TN;

// acc + x[0] y[0] + x[1] y[1] + x[2] y[2] + x[3] y[3], one fma at a time in that order.
fn fma4(acc: vec4f, x: vec4f, y: mat4x4f) -> vec4f {
  return fma(vec4f(x.w), y[3], fma(vec4f(x.z), y[2], fma(vec4f(x.y), y[1], fma(vec4f(x.x), y[0], acc))));
}

// One 4 x 4 accumulator (column i = row i of C's quad) after four k: x holds the quad's rows of
// op(A), y four rows of op(B).
fn step4(acc: mat4x4f, x: mat4x4f, y: mat4x4f) -> mat4x4f {
  return mat4x4f(fma4(acc[0], x[0], y), fma4(acc[1], x[1], y), fma4(acc[2], x[2], y), fma4(acc[3], x[3], y));
}

fn store4(i: u32, v: vec4f) {
  c[i] = v.x;
  c[i + 1u] = v.y;
  c[i + 2u] = v.z;
  c[i + 3u] = v.w;
}

// Writes one quad of a block wholly inside C that overwrites it (the common case) without
// storeRow's per-element tests: stores are a large part of a short-K product here. The bias is
// added exactly as storeRow adds it, so both paths give the same bits.
fn storeQuad(j: Job, row0: u32, col0: u32, acc: mat4x4f) {
  var v = acc;
  if (p.hasBias != 0u) {
    let bv = vec4f(bias[col0], bias[col0 + 1u], bias[col0 + 2u], bias[col0 + 3u]);
    v = mat4x4f(acc[0] + bv, acc[1] + bv, acc[2] + bv, acc[3] + bv);
  }
  let base = j.cBase + row0 * p.n + col0;
  store4(base, v[0]);
  store4(base + p.n, v[1]);
  store4(base + 2u * p.n, v[2]);
  store4(base + 3u * p.n, v[3]);
}

// Rows (or columns) base .. base+3 clamped onto the last of `size`, so loads past the edge stay in
// bounds (storeRow drops their results). Along a dimension that is read as vec4s (a multiple of
// 4) the quad is kept whole instead: it starts at most at size - 4.
fn quad(base: u32, size: u32, contiguous: bool) -> vec4u {
  if (contiguous && WHOLE_QUADS) { return vec4u(min(base, size - 4u)) + vec4u(0u, 1u, 2u, 3u); }
  return min(vec4u(base) + vec4u(0u, 1u, 2u, 3u), vec4u(size - 1u));
}

// One quad of op(A) rows per row quad of the block (the lane files, register_vec4_lanes.wgsl or
// register_vec4_subgroup.wgsl, load them).
struct RowQuads {
  x0: mat4x4f,
  x1: mat4x4f,
  x2: mat4x4f,
  x3: mat4x4f,
}

// The block of C with first row row0 and column col0, by the invocation `li` of its workgroup.
// Called by the entry points of the lane files with every lane of a workgroup (subgroup) alike.
fn vec4_product(row0: u32, col0: u32, j: Job, li: u32) {
  let q0 = quad(col0, p.n, !TRANS_B);
  let q1 = quad(col0 + TN, p.n, !TRANS_B);
  let q2 = quad(col0 + 2u * TN, p.n, !TRANS_B);
  let q3 = quad(col0 + 3u * TN, p.n, !TRANS_B);
  var acc00 = mat4x4f();  // row quad i, column quad t: acc{i}{t}
  var acc01 = mat4x4f();
  var acc02 = mat4x4f();
  var acc03 = mat4x4f();
  var acc10 = mat4x4f();
  var acc11 = mat4x4f();
  var acc12 = mat4x4f();
  var acc13 = mat4x4f();
  var acc20 = mat4x4f();
  var acc21 = mat4x4f();
  var acc22 = mat4x4f();
  var acc23 = mat4x4f();
  var acc30 = mat4x4f();
  var acc31 = mat4x4f();
  var acc32 = mat4x4f();
  var acc33 = mat4x4f();
  // Four k at a time: with register_vec4.wgsl K and the chunks are multiples of 4; with
  // register_gather.wgsl the operands are zero past the chunk's end.
  for (var kk = j.kBegin; kk < j.kEnd; kk += 4u) {
    let rq = row_quads(j, row0, li, kk);
    let x0 = rq.x0;
    let x1 = rq.x1;
    let x2 = rq.x2;
    let x3 = rq.x3;
    // Every load of the step before its FMAs (as with no quads to turn off; interleaving them
    // read 2-12% slower on the head's dX in four A/B runs).
    let y0 = b_block(j, q0, kk);
    var y1 = y0;
    var y2 = y0;
    var y3 = y0;
    if (COL_QUADS > 1u) { y1 = b_block(j, q1, kk); }
    if (COL_QUADS > 2u) { y2 = b_block(j, q2, kk); }
    if (COL_QUADS > 3u) { y3 = b_block(j, q3, kk); }
    acc00 = step4(acc00, x0, y0);
    if (ROW_QUADS > 1u) { acc10 = step4(acc10, x1, y0); }
    if (ROW_QUADS > 2u) { acc20 = step4(acc20, x2, y0); }
    if (ROW_QUADS > 3u) { acc30 = step4(acc30, x3, y0); }
    if (COL_QUADS > 1u) {
      acc01 = step4(acc01, x0, y1);
      if (ROW_QUADS > 1u) { acc11 = step4(acc11, x1, y1); }
      if (ROW_QUADS > 2u) { acc21 = step4(acc21, x2, y1); }
      if (ROW_QUADS > 3u) { acc31 = step4(acc31, x3, y1); }
    }
    if (COL_QUADS > 2u) {
      acc02 = step4(acc02, x0, y2);
      if (ROW_QUADS > 1u) { acc12 = step4(acc12, x1, y2); }
      if (ROW_QUADS > 2u) { acc22 = step4(acc22, x2, y2); }
      if (ROW_QUADS > 3u) { acc32 = step4(acc32, x3, y2); }
    }
    if (COL_QUADS > 3u) {
      acc03 = step4(acc03, x0, y3);
      if (ROW_QUADS > 1u) { acc13 = step4(acc13, x1, y3); }
      if (ROW_QUADS > 2u) { acc23 = step4(acc23, x2, y3); }
      if (ROW_QUADS > 3u) { acc33 = step4(acc33, x3, y3); }
    }
  }
  if (ROW_QUADS == 4u && COL_QUADS == 4u && row0 + BLOCK <= p.m && col0 + BLOCK <= p.n && p.accumulate == 0u) {
    storeQuad(j, row0, col0, acc00);
    storeQuad(j, row0, col0 + TN, acc01);
    storeQuad(j, row0, col0 + 2u * TN, acc02);
    storeQuad(j, row0, col0 + 3u * TN, acc03);
    storeQuad(j, row0 + TM, col0, acc10);
    storeQuad(j, row0 + TM, col0 + TN, acc11);
    storeQuad(j, row0 + TM, col0 + 2u * TN, acc12);
    storeQuad(j, row0 + TM, col0 + 3u * TN, acc13);
    storeQuad(j, row0 + 2u * TM, col0, acc20);
    storeQuad(j, row0 + 2u * TM, col0 + TN, acc21);
    storeQuad(j, row0 + 2u * TM, col0 + 2u * TN, acc22);
    storeQuad(j, row0 + 2u * TM, col0 + 3u * TN, acc23);
    storeQuad(j, row0 + 3u * TM, col0, acc30);
    storeQuad(j, row0 + 3u * TM, col0 + TN, acc31);
    storeQuad(j, row0 + 3u * TM, col0 + 2u * TN, acc32);
    storeQuad(j, row0 + 3u * TM, col0 + 3u * TN, acc33);
    return;
  }
  // A block on the edge of C, a small block (ROW_QUADS or COL_QUADS < 4: every block of a small C), or
  // C += product: a quad wholly inside C that overwrites it by storeQuad, any other element by
  // element through storeRow, which masks what lies past the edge. One loop over the quads keeps
  // this path's code small (compile time on SwiftShader grows with the code; sixteen inlined
  // copies tripled it).
  var quads = array<mat4x4f, 16>(acc00, acc01, acc02, acc03, acc10, acc11, acc12, acc13,
                                 acc20, acc21, acc22, acc23, acc30, acc31, acc32, acc33);
  for (var qi = 0u; qi < 16u; qi++) {
    if (qi / 4u >= ROW_QUADS || qi % 4u >= COL_QUADS) { continue; }
    let r = row0 + (qi / 4u) * TM;
    let col = col0 + (qi % 4u) * TN;
    if (r + TM <= p.m && col + TN <= p.n && p.accumulate == 0u) {
      storeQuad(j, r, col, quads[qi]);
      continue;
    }
    for (var i = 0u; i < TM; i++) { storeRow(j, r + i, col, 1u, quads[qi][i]); }
  }
}
