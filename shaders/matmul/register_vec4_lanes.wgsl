// The lane layout of the 16 x 16 block kernels, after block16.wgsl: each invocation loads all of
// its block's operands itself. Blocks are numbered linearly over 1-D workgroups of RWG (block_origin).
// Two entry points, each named after the operand file it is compiled with (shaders.ts):
// matmul_register_vec4 (register_vec4.wgsl) and matmul_register_gather (register_gather.wgsl);
// the other one in a module is never built into a pipeline.

override RWG: u32 = 4u;  // invocations per workgroup, one block of C each

// The block's row quads of op(A); past ROW_QUADS none is loaded (and none is used).
fn row_quads(j: Job, row0: u32, li: u32, kk: u32) -> RowQuads {
  let x0 = a_block(j, quad(row0, p.m, TRANS_A), kk);
  var x1 = x0;
  var x2 = x0;
  var x3 = x0;
  if (ROW_QUADS > 1u) { x1 = a_block(j, quad(row0 + TM, p.m, TRANS_A), kk); }
  if (ROW_QUADS > 2u) { x2 = a_block(j, quad(row0 + 2u * TM, p.m, TRANS_A), kk); }
  if (ROW_QUADS > 3u) { x3 = a_block(j, quad(row0 + 3u * TM, p.m, TRANS_A), kk); }
  return RowQuads(x0, x1, x2, x3);
}

fn lanes_product(wid: vec3u, nwg: vec3u, li: u32) {
  let o = block_origin(wid, nwg, li, RWG, ROWS, COLS);
  if (o.z == 0u) { return; }
  vec4_product(o.x, o.y, job(wid.z), li);
}

@compute @workgroup_size(RWG, 1, 1)
fn matmul_register_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) li: u32) {
  lanes_product(wid, nwg, li);
}

@compute @workgroup_size(RWG, 1, 1)
fn matmul_register_gather(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                          @builtin(local_invocation_index) li: u32) {
  lanes_product(wid, nwg, li);
}
