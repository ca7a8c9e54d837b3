// matmul_register_vec4's entry point, after register_vec4.wgsl: each invocation loads all of its
// block's operands itself. Blocks are numbered linearly over 1-D workgroups of RWG (block_origin).

override RWG: u32 = 4u;  // invocations per workgroup, one block of C each

fn row_quads(j: Job, row0: u32, li: u32, kk: u32) -> RowQuads {
  return RowQuads(a_block(j, quad(row0, p.m, TRANS_A), kk), a_block(j, quad(row0 + TM, p.m, TRANS_A), kk),
                  a_block(j, quad(row0 + 2u * TM, p.m, TRANS_A), kk), a_block(j, quad(row0 + 3u * TM, p.m, TRANS_A), kk));
}

@compute @workgroup_size(RWG, 1, 1)
fn matmul_register_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) li: u32) {
  let o = block_origin(wid, nwg, li, RWG, BLOCK, BLOCK);
  if (o.z == 0u) { return; }
  vec4_product(o.x, o.y, job(wid.z), li);
}
