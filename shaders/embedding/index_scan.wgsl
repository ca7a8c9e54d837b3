// embed_index_scan, after params.wgsl. Pass 2 (one workgroup): exclusive prefix sum of counts in
// (v, c) order, in place, so counts[v, c] becomes where chunk c's first v goes; offsets_out[v] =
// counts[v, 0], offsets_out[V] = total.

@group(0) @binding(1) var<storage, read_write> counts: array<u32>;       // [V, chunks]
@group(0) @binding(2) var<storage, read_write> offsets_out: array<u32>;  // [V + 1]

override IWG: u32 = 256;  // threads of the one workgroup (the chunk size of index.wgsl)

var<workgroup> scan_sums: array<u32, IWG>;

@compute @workgroup_size(IWG)
fn embed_index_scan(@builtin(local_invocation_index) lid: u32) {
  let n = p.vocab * p.chunks;
  let per = (n + IWG - 1u) / IWG;
  let lo = min(lid * per, n);
  let hi = min(lo + per, n);
  var own = 0u;
  for (var k = lo; k < hi; k++) { own += counts[k]; }
  scan_sums[lid] = own;
  workgroupBarrier();
  // Hillis-Steele inclusive scan of the threads' totals (integers: any order is exact).
  for (var off = 1u; off < IWG; off <<= 1u) {
    let add = select(0u, scan_sums[lid - min(off, lid)], lid >= off);
    workgroupBarrier();
    scan_sums[lid] += add;
    workgroupBarrier();
  }
  var run = scan_sums[lid] - own;
  for (var k = lo; k < hi; k++) {
    let cnt = counts[k];
    counts[k] = run;
    if (k % p.chunks == 0u) { offsets_out[k / p.chunks] = run; }
    run += cnt;
  }
  if (lid == IWG - 1u) { offsets_out[p.vocab] = scan_sums[IWG - 1u]; }
}
