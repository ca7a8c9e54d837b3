// embed_table_partial, after params.wgsl. Backward into the token table, stage 1: segment sums in
// sorted order. Thread (segment s, feature e) adds dout over sorted entries [s * SEG, (s + 1) *
// SEG) and stores the running sum at the last entry of each id inside the segment, then restarts
// it.

@group(0) @binding(1) var<storage, read> dout: array<f32>;          // [B, N, C]
@group(0) @binding(2) var<storage, read> offsets: array<u32>;       // [V + 1]
@group(0) @binding(3) var<storage, read> order: array<u32>;         // [B * N]
@group(0) @binding(4) var<storage, read> sorted_ids: array<u32>;    // [B * N]
@group(0) @binding(5) var<storage, read_write> partial: array<f32>; // [B * N, E]

override EWG: u32 = 64;   // features per workgroup
override SEG: u32 = 64;   // sorted entries summed by one thread before the per-id reduction

@compute @workgroup_size(EWG)
fn embed_table_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  let tiles = (p.dim + EWG - 1u) / EWG;
  let w = grid_index(wid, nwg);
  let e = (w % tiles) * EWG + lid;
  let start = (w / tiles) * SEG;
  let total = min(offsets[p.vocab], p.rows);  // clamped as in table_reduce
  if (e >= p.dim || start >= total) { return; }
  let end = min(start + SEG, total);
  var acc = 0.0;
  for (var k = start; k < end; k++) {
    acc += dout[order[k] * p.width + p.column + e];
    if (k + 1u == end || sorted_ids[k + 1u] != sorted_ids[k]) {
      partial[k * p.dim + e] = acc;
      acc = 0.0;
    }
  }
}
