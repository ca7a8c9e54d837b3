// shaders/elementwise/params.wgsl: the prelude of every elementwise kernel. Each kernel is a file
// of its own, joined after this one and its group's uniform (map.wgsl or broadcast.wgsl; dropout
// has its own), as src/engine/kernels/elementwise.ts lists.
// Elementwise ops and their backwards: GELU, ReLU, residual add, scaling, a row-broadcast add
// (bias) with its column-sum backward, and dropout keyed by a counter-based RNG (Philox4x32-10).
// One invocation per element (per 4 elements for dropout), over a 2-D grid of workgroups so long
// tensors stay under the per-dimension limit; memory-bound, so consecutive invocations touch
// consecutive addresses.

override WG: u32 = 256;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return grid_index(wid, nwg) * WG + lid;
}
