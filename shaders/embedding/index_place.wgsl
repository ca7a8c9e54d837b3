// embed_index_place, after params.wgsl and index.wgsl. Pass 3: each position goes to its chunk's
// slot for its id plus its rank among the equal ids before it in the chunk, which keeps the sort
// stable.

@group(0) @binding(2) var<storage, read> counts: array<u32>;              // [V, chunks], from index_scan
@group(0) @binding(3) var<storage, read_write> order_out: array<u32>;       // [B * N]
@group(0) @binding(4) var<storage, read_write> sorted_ids_out: array<u32>;  // [B * N]

@compute @workgroup_size(IWG)
fn embed_index_place(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let c = grid_index(wid, nwg);
  if (c >= p.chunks) { return; }
  load_chunk(c, lid);
  workgroupBarrier();
  let i = c * IWG + lid;
  let id = chunk_ids[lid];
  if (i >= p.rows || id >= p.vocab) { return; }
  var rank = 0u;
  for (var j = 0u; j < lid; j++) { rank += u32(chunk_ids[j] == id); }
  let k = counts[id * p.chunks + c] + rank;
  order_out[k] = i;
  sorted_ids_out[k] = id;
}
