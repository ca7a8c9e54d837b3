// embed_index_count, after params.wgsl and index.wgsl. Pass 1: counts[v, c] = occurrences of id v
// in chunk c.

@group(0) @binding(2) var<storage, read_write> counts: array<u32>;  // [V, chunks]

@compute @workgroup_size(IWG)
fn embed_index_count(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let c = grid_index(wid, nwg);
  if (c >= p.chunks) { return; }
  load_chunk(c, lid);
  workgroupBarrier();
  let len = min(IWG, p.rows - c * IWG);
  for (var v = lid; v < p.vocab; v += IWG) {
    var n = 0u;
    for (var j = 0u; j < len; j++) { n += u32(chunk_ids[j] == v); }
    counts[v * p.chunks + c] = n;
  }
}
