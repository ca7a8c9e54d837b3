// embed_table_reduce, after params.wgsl. Stage 2: one thread per (id, feature) adds its segments'
// sums in order.

@group(0) @binding(1) var<storage, read> offsets: array<u32>;       // [V + 1]
@group(0) @binding(2) var<storage, read> partial: array<f32>;       // [B * N, E], from table_partial
@group(0) @binding(3) var<storage, read_write> dtable: array<f32>;  // [V, E]

override WG: u32 = 256;
override SEG: u32 = 64;   // as in table_partial

@compute @workgroup_size(WG)
fn embed_table_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let i = grid_index(wid, nwg) * WG + lid;
  if (i >= p.vocab * p.dim) { return; }
  let v = i / p.dim;
  let e = i % p.dim;
  // Clamped to the positions there are: offsets from index_scan already lie in [0, rows], but a
  // buffer holding anything else (the profile's replays read whatever the pool left there) must
  // not turn this loop into billions of iterations.
  let end = min(offsets[v + 1u], p.rows);
  let start = min(offsets[v], end);
  var acc = 0.0;
  if (end > start) {
    for (var s = start / SEG; s <= (end - 1u) / SEG; s++) {
      acc += partial[(min(end, (s + 1u) * SEG) - 1u) * p.dim + e];
    }
  }
  dtable[i] = acc;
}
