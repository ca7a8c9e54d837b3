// The prelude of index_count.wgsl and index_place.wgsl: the index on the GPU (ids that never
// visited the host), three passes, no atomics; a workgroup per chunk of IWG positions.

@group(0) @binding(1) var<storage, read> ids: array<u32>;  // [B, N]

override IWG: u32 = 256;  // positions per chunk (one workgroup each)

var<workgroup> chunk_ids: array<u32, IWG>;

// Loads chunk c's ids into workgroup memory (ids >= V as V, which matches no row).
fn load_chunk(c: u32, lid: u32) {
  let i = c * IWG + lid;
  chunk_ids[lid] = select(p.vocab, min(ids[min(i, p.rows - 1u)], p.vocab), i < p.rows);
}
