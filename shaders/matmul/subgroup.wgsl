// matmul_subgroup ('gpu', where the device has subgroups of one fixed size SG), after
// product.wgsl and operands.wgsl: a workgroup is one subgroup, and it computes a TR x (4 SG) tile of
// C with no workgroup memory and no barrier. Per SG-long slice of k, lane l loads op(A)[row, k + l]
// for the tile's TR rows (consecutive lanes, consecutive k: coalesced unless TRANS_A) into
// registers; then for each k of the slice every lane reads its four columns of op(B)[k, .]
// (columns colT + l + SG t, so the lanes' loads of each t are consecutive) and takes each row's
// A value from the lane that loaded it by subgroupShuffle. matmul_tiled stages both operands
// through workgroup memory between two barriers per slice; this one stages neither: A goes lane
// to lane, B comes straight from memory (through the caches), each value used by TR rows.
// Which is faster is the adapter's to say: the benchmark times both on its real-GPU shapes
// (README "Benchmarks"); matmul_tiled stays the default, this kernel runs when forced
// (`subgroups: true` or `entry` in planMatmul).
// Every accumulator adds k in increasing order by fma, one k at a time: the bits are
// matmul_register's (tests/gpu/matmul.test.ts checks it on SwiftShader, whose subgroups are 4).
enable subgroups;
// The shuffles run in uniform control flow (every lane of the workgroup runs the same loops;
// lanes past C's edge load clamped rows and columns and store nothing), which the analysis cannot
// see through the loop bounds read from storage.
diagnostic(off, subgroup_uniformity);

override SG: u32 = 32u;  // the device's subgroup size: invocations per workgroup, k per slice
const TR: u32 = 16u;     // rows of C per workgroup, one vec4 accumulator each per lane

@compute @workgroup_size(SG, 1, 1)
fn matmul_subgroup(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let j = job(wid.z);
  let rowT = wid.y * TR;
  let colT = wid.x * SG * TN;
  // This lane's columns, clamped onto the last (storeRow drops what lies past the edge).
  let c0 = min(colT + lane, p.n - 1u);
  let c1 = min(colT + lane + SG, p.n - 1u);
  let c2 = min(colT + lane + 2u * SG, p.n - 1u);
  let c3 = min(colT + lane + 3u * SG, p.n - 1u);
  var acc: array<vec4f, TR>;
  var av: array<f32, TR>;
  for (var k0 = j.kBegin; k0 < j.kEnd; k0 += SG) {
    let kl = k0 + lane;
    let inside = kl < j.kEnd;
    let kc = min(kl, j.kEnd - 1u);
    for (var r = 0u; r < TR; r++) {
      let row = min(rowT + r, p.m - 1u);
      av[r] = select(0.0, a[j.aBase + aIndex(row, kc)], inside);
    }
    let kn = min(SG, j.kEnd - k0);
    for (var kk = 0u; kk < kn; kk++) {
      let kg = k0 + kk;
      let bv = vec4f(b[j.bBase + bIndex(kg, c0)], b[j.bBase + bIndex(kg, c1)],
                     b[j.bBase + bIndex(kg, c2)], b[j.bBase + bIndex(kg, c3)]);
      for (var r = 0u; r < TR; r++) {
        acc[r] = fma(vec4f(subgroupShuffle(av[r], kk)), bv, acc[r]);
      }
    }
  }
  for (var r = 0u; r < TR; r++) { storeRow(j, rowT + r, colT + lane, SG, acc[r]); }
}
