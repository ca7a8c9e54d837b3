// matmul_register ('swiftshader'), after product.wgsl: each invocation owns a 4x4 block of C and
// reads A and B straight from storage, no workgroup memory and no barriers (what a CPU emulator
// such as SwiftShader runs fastest; barriers there are coroutine switches). The blocks are
// numbered linearly over 1-D workgroups (as matmul_register_vec4's), so a narrow C, such as an
// output head's 11 columns, leaves no lane idle where 8 x 8 workgroups ran 3 of every 8 columns
// of invocations past its edge.

override RWG: u32 = 64u;  // invocations per workgroup, one 4x4 block of C each

@compute @workgroup_size(RWG, 1, 1)
fn matmul_register(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) li: u32) {
  let o = block_origin(wid, nwg, li, RWG, TM, TN);
  if (o.z == 0u) { return; }
  let row0 = o.x;
  let col0 = o.y;
  let j = job(wid.z);
  // Rows and columns past the edge are clamped onto the last one, so every load stays in bounds
  // without a branch in the loop; storeRow drops their results.
  let r = min(vec4u(row0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.m - 1u));
  let q = min(vec4u(col0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.n - 1u));
  var ia = j.aBase + vec4u(aIndex(r.x, j.kBegin), aIndex(r.y, j.kBegin), aIndex(r.z, j.kBegin), aIndex(r.w, j.kBegin));
  var ib = j.bBase + vec4u(bIndex(j.kBegin, q.x), bIndex(j.kBegin, q.y), bIndex(j.kBegin, q.z), bIndex(j.kBegin, q.w));
  let stepA = select(1u, p.m, TRANS_A);
  let stepB = select(p.n, 1u, TRANS_B);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var kk = j.kBegin; kk < j.kEnd; kk++) {
    let bv = vec4f(b[ib.x], b[ib.y], b[ib.z], b[ib.w]);
    acc0 = fma(vec4f(a[ia.x]), bv, acc0);
    acc1 = fma(vec4f(a[ia.y]), bv, acc1);
    acc2 = fma(vec4f(a[ia.z]), bv, acc2);
    acc3 = fma(vec4f(a[ia.w]), bv, acc3);
    ia += stepA;
    ib += stepB;
  }
  storeRow(j, row0, col0, 1u, acc0);
  storeRow(j, row0 + 1u, col0, 1u, acc1);
  storeRow(j, row0 + 2u, col0, 1u, acc2);
  storeRow(j, row0 + 3u, col0, 1u, acc3);
}
