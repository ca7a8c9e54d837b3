// matmul_register_vec4_sg's entry point, after register_vec4.wgsl and block16.wgsl, where subgroups are SG
// invocations (SwiftShader: 4, its SIMD width) and a workgroup is one subgroup. On SwiftShader
// every load with a per-lane address is a gather, one lane at a time, while a broadcast from a
// fixed lane is one extract and a splat; so the SG lanes of a workgroup take the SG neighbouring
// blocks of one 16-row band (a superblock of 16 x 16 SG), each loads one row quad of op(A) and
// the broadcasts give every lane all four: 4 + 16 instead of 16 + 16 vec4 loads per four k.
// The products and their order are matmul_register_vec4's, so are the bits.
enable subgroups;
// Every lane of a workgroup runs the same loop (lanes past C's edge load clamped rows and store
// nothing), and a workgroup returns early only as a whole: the broadcasts see all lanes.
diagnostic(off, subgroup_uniformity);

const SG: u32 = 4u;  // the subgroup size (the plan checks it), invocations per workgroup and row quads per block

fn row_quads(j: Job, row0: u32, li: u32, kk: u32) -> RowQuads {
  let x = a_block(j, quad(row0 + li * TM, p.m, TRANS_A), kk);
  // Lane l's row quad: subgroupBroadcast takes the lane as a constant expression.
  return RowQuads(
    mat4x4f(subgroupBroadcast(x[0], 0u), subgroupBroadcast(x[1], 0u), subgroupBroadcast(x[2], 0u), subgroupBroadcast(x[3], 0u)),
    mat4x4f(subgroupBroadcast(x[0], 1u), subgroupBroadcast(x[1], 1u), subgroupBroadcast(x[2], 1u), subgroupBroadcast(x[3], 1u)),
    mat4x4f(subgroupBroadcast(x[0], 2u), subgroupBroadcast(x[1], 2u), subgroupBroadcast(x[2], 2u), subgroupBroadcast(x[3], 2u)),
    mat4x4f(subgroupBroadcast(x[0], 3u), subgroupBroadcast(x[1], 3u), subgroupBroadcast(x[2], 3u), subgroupBroadcast(x[3], 3u)));
}

@compute @workgroup_size(SG, 1, 1)
fn matmul_register_vec4_sg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                           @builtin(local_invocation_index) li: u32) {
  // Superblocks of BLOCK rows x SG * BLOCK columns, numbered linearly (along N fastest).
  let cols = SG * BLOCK;
  let superN = (p.n + cols - 1u) / cols;
  let id = grid_index(wid, nwg);
  if (id >= superN * ((p.m + BLOCK - 1u) / BLOCK)) { return; }
  vec4_product((id / superN) * BLOCK, (id % superN) * cols + li * BLOCK, job(wid.z), li);
}
