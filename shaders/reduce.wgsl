// Deterministic reductions (sum, sum of squares) over any length, in two stages and without atomics.
// Stage one gives each workgroup a fixed block of WG * ITEMS elements and writes one partial per
// block; stage two is one workgroup that adds the partials. Which values meet in which addition is
// fixed by n and the two tile sizes alone, so a run repeats bit for bit. A global norm over many
// tensors runs stage one per tensor into one shared partials buffer, then stage two once over all.

struct ReduceParams {
  n: u32,          // elements of x to reduce
  outOffset: u32,  // index in `out` of this dispatch's first result
  root: u32,       // 1: write sqrt(total) (a norm); 0: the total (always 0 for partials)
}

@group(0) @binding(0) var<uniform> p: ReduceParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;   // threads per workgroup; a power of two, since the tree halves it
override ITEMS: u32 = 4;  // elements each thread adds in order before the tree

var<workgroup> scratch: array<f32, WG>;

// Pairwise tree over the workgroup: thread i adds i + s for s = WG/2, WG/4, ..., 1.
fn treeSum(lid: u32, own: f32) -> f32 {
  scratch[lid] = own;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { scratch[lid] = scratch[lid] + scratch[lid + s]; }
    workgroupBarrier();
  }
  return scratch[0];
}

fn finish(total: f32) -> f32 {
  return select(total, sqrt(total), p.root == 1u);
}

// One block's partial. Thread lid reads base + k * WG + lid, so each k is one coalesced row.
fn blockPartial(blockId: u32, lid: u32, square: bool) {
  let span = WG * ITEMS;
  // An empty x still gets block 0 written (with 0), so `out` never keeps stale data.
  let blocks = max((p.n + span - 1u) / span, 1u);
  let base = blockId * span;
  var acc = 0.0;
  for (var k = 0u; k < ITEMS; k = k + 1u) {
    let i = base + k * WG + lid;
    if (i < p.n) {
      let v = x[i];
      acc = acc + select(v, v * v, square);
    }
  }
  let total = treeSum(lid, acc);
  // gpu.grid may round the 2-D grid up past the last block; those workgroups write nothing.
  if (lid == 0u && blockId < blocks) { out[p.outOffset + blockId] = finish(total); }
}

@compute @workgroup_size(WG)
fn sumPartial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  blockPartial(grid_index(wid, nwg), lid, false);
}

@compute @workgroup_size(WG)
fn sumSqPartial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  blockPartial(grid_index(wid, nwg), lid, true);
}

// Stage two: a single workgroup; thread lid adds partials lid, lid + WG, ... in order, then the tree.
@compute @workgroup_size(WG)
fn sumFinal(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < p.n; i = i + WG) { acc = acc + x[i]; }
  let total = treeSum(lid, acc);
  if (lid == 0u) { out[p.outOffset] = finish(total); }
}
