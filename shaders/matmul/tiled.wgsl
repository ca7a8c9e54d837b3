// matmul_tiled ('gpu'), after product.wgsl: a workgroup stages BK-deep slices of A and B in
// workgroup memory with coalesced loads and each invocation accumulates a 4x4 block from them
// (what real GPUs want).

override TWG_X: u32 = 16u;  // invocations along N; the tile is TWG_X * TN columns
override TWG_Y: u32 = 16u;  // invocations along M; the tile is TWG_Y * TM rows
override BK: u32 = 16u;     // depth of each staged slice
// Tile rows are padded by one element so that column-wise stores (transposed loads) of
// neighbouring invocations fall in different memory banks.
override BM_PAD: u32 = TWG_Y * TM + 1u;
override BN_PAD: u32 = TWG_X * TN + 1u;

var<workgroup> tileA: array<f32, BK * BM_PAD>;  // [BK, BM + 1]: op(A) slice, k-major
var<workgroup> tileB: array<f32, BK * BN_PAD>;  // [BK, BN + 1]: op(B) slice, k-major

@compute @workgroup_size(TWG_X, TWG_Y, 1)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                @builtin(local_invocation_index) li: u32) {
  let tileM = TWG_Y * TM;
  let tileN = TWG_X * TN;
  let threads = TWG_X * TWG_Y;
  let rowT = wid.y * tileM;  // first row of this workgroup's tile
  let colT = wid.x * tileN;
  let j = job(wid.z);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k0 = j.kBegin; k0 < j.kEnd; k0 += BK) {
    // Consecutive invocations load consecutive addresses of whichever operand layout this is.
    for (var e = li; e < tileM * BK; e += threads) {
      var mm: u32;
      var kk: u32;
      if (TRANS_A) { kk = e / tileM; mm = e % tileM; } else { mm = e / BK; kk = e % BK; }
      let row = rowT + mm;
      let kg = k0 + kk;
      var v = 0.0;
      if (row < p.m && kg < j.kEnd) { v = a[j.aBase + aIndex(row, kg)]; }
      tileA[kk * BM_PAD + mm] = v;
    }
    for (var e = li; e < tileN * BK; e += threads) {
      var nn: u32;
      var kk: u32;
      if (TRANS_B) { nn = e / BK; kk = e % BK; } else { kk = e / tileN; nn = e % tileN; }
      let col = colT + nn;
      let kg = k0 + kk;
      var v = 0.0;
      if (col < p.n && kg < j.kEnd) { v = b[j.bBase + bIndex(kg, col)]; }
      tileB[kk * BN_PAD + nn] = v;
    }
    workgroupBarrier();
    // Invocation (x, y) owns rows y + TWG_Y * i and columns x + TWG_X * t: strided so that a
    // warp's stores to C and reads of tileB are consecutive.
    for (var kk = 0u; kk < BK; kk++) {
      let ar = kk * BM_PAD + lid.y;
      let br = kk * BN_PAD + lid.x;
      let bv = vec4f(tileB[br], tileB[br + TWG_X], tileB[br + 2u * TWG_X], tileB[br + 3u * TWG_X]);
      acc0 = fma(vec4f(tileA[ar]), bv, acc0);
      acc1 = fma(vec4f(tileA[ar + TWG_Y]), bv, acc1);
      acc2 = fma(vec4f(tileA[ar + 2u * TWG_Y]), bv, acc2);
      acc3 = fma(vec4f(tileA[ar + 3u * TWG_Y]), bv, acc3);
    }
    workgroupBarrier();
  }
  let row0 = rowT + lid.y;
  let col0 = colT + lid.x;
  storeRow(j, row0, col0, TWG_X, acc0);
  storeRow(j, row0 + TWG_Y, col0, TWG_X, acc1);
  storeRow(j, row0 + 2u * TWG_Y, col0, TWG_X, acc2);
  storeRow(j, row0 + 3u * TWG_Y, col0, TWG_X, acc3);
}
