// Matmul family: batched C[z] = op(A[b]) op(B[b]) (+ bias[N]) (+ C[z]) with op = identity or
// transpose, row-major float32, and the column sums that give a bias gradient and finish a
// split-K product. Two forward kernels compute the same thing:
// - matmul_register: each invocation owns a 4x4 block of C and reads A and B straight from
//   storage, no workgroup memory and no barriers (what a CPU emulator such as SwiftShader runs
//   fastest; barriers there are coroutine switches).
// - matmul_tiled: a workgroup stages BK-deep slices of A and B in workgroup memory with coalesced
//   loads and each invocation accumulates a 4x4 block from them (what real GPUs want).
// The backward needs no entry point of its own: dA = dC op(B)^T and dB = op(A)^T dC are the same
// kernels with other transposes, and the bias gradient is sum_rows.
//
// Batch and split-K share the z dimension: z = b * splits + s. Chunk s covers
// k in [s * kChunk, min((s + 1) * kChunk, k)); with splits > 1 each chunk writes its own partial
// product at C + z * strideC and sum_rows adds the partials in a fixed order (no float atomics).

struct MatmulParams {
  m: u32,           // rows of op(A) and C
  n: u32,           // columns of op(B) and C
  k: u32,           // the contracted dimension (all of it, across chunks)
  strideA: u32,     // elements between batch items of A; 0 = shared across the batch
  strideB: u32,     // elements between batch items of B; 0 = shared across the batch
  strideC: u32,     // elements between z items of C (batch items or split-K partials)
  splits: u32,      // k chunks per batch item
  kChunk: u32,      // length of each k chunk
  accumulate: u32,  // 1: C += product; 0: C = product
  hasBias: u32,     // 1: add bias[col] to every row
}

@group(0) @binding(0) var<uniform> p: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;     // [batch | 1, M, K] or [.., K, M] if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<f32>;     // [batch | 1, K, N] or [.., N, K] if TRANS_B
@group(0) @binding(3) var<storage, read> bias: array<f32>;  // [N] (any buffer when hasBias = 0)
@group(0) @binding(4) var<storage, read_write> c: array<f32>; // [batch * splits, M, N]

// Whether A is stored [K, M] (op(A) = A^T) and B stored [N, K] (op(B) = B^T); pipeline constants
// so the inner loops compile to fixed strides.
override TRANS_A: bool = false;
override TRANS_B: bool = false;

// Each invocation's block of C. Constants, not overrides: the accumulators are four vec4 registers.
const TM: u32 = 4u;
const TN: u32 = 4u;

// Where op(A)[row, kk] and op(B)[kk, col] live, relative to the batch item's first element.
fn aIndex(row: u32, kk: u32) -> u32 {
  if (TRANS_A) { return kk * p.m + row; }
  return row * p.k + kk;
}

fn bIndex(kk: u32, col: u32) -> u32 {
  if (TRANS_B) { return col * p.k + kk; }
  return kk * p.n + col;
}

struct Job {
  aBase: u32,
  bBase: u32,
  cBase: u32,
  kBegin: u32,
  kEnd: u32,
}

fn job(z: u32) -> Job {
  let batch = z / p.splits;
  let chunk = z % p.splits;
  let kBegin = chunk * p.kChunk;
  return Job(batch * p.strideA, batch * p.strideB, z * p.strideC, kBegin, min(kBegin + p.kChunk, p.k));
}

// Writes one row of an invocation's block, whose columns are col0 + t * colStep: masks what lies
// past the edge, adds the bias and the old C if asked.
fn storeRow(j: Job, row: u32, col0: u32, colStep: u32, v: vec4f) {
  if (row >= p.m) { return; }
  let base = j.cBase + row * p.n;
  for (var t = 0u; t < TN; t++) {
    let col = col0 + t * colStep;
    if (col < p.n) {
      var x = v[t];
      if (p.hasBias != 0u) { x += bias[col]; }
      if (p.accumulate != 0u) { x += c[base + col]; }
      c[base + col] = x;
    }
  }
}

// ---- register-tiled: one 4x4 block per invocation, operands read from storage ----------------

override RWG_X: u32 = 8u;  // invocations along N
override RWG_Y: u32 = 8u;  // invocations along M

@compute @workgroup_size(RWG_X, RWG_Y, 1)
fn matmul_register(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * TM;
  let col0 = gid.x * TN;
  if (row0 >= p.m || col0 >= p.n) { return; }
  let j = job(gid.z);
  // Rows and columns past the edge are clamped onto the last one, so every load stays in bounds
  // without a branch in the loop; storeRow drops their results.
  let r = min(vec4u(row0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.m - 1u));
  let q = min(vec4u(col0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.n - 1u));
  var ia = j.aBase + vec4u(aIndex(r.x, j.kBegin), aIndex(r.y, j.kBegin), aIndex(r.z, j.kBegin), aIndex(r.w, j.kBegin));
  var ib = j.bBase + vec4u(bIndex(j.kBegin, q.x), bIndex(j.kBegin, q.y), bIndex(j.kBegin, q.z), bIndex(j.kBegin, q.w));
  let stepA = select(1u, p.m, TRANS_A);
  let stepB = select(p.n, 1u, TRANS_B);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var kk = j.kBegin; kk < j.kEnd; kk++) {
    let bv = vec4f(b[ib.x], b[ib.y], b[ib.z], b[ib.w]);
    acc0 = fma(vec4f(a[ia.x]), bv, acc0);
    acc1 = fma(vec4f(a[ia.y]), bv, acc1);
    acc2 = fma(vec4f(a[ia.z]), bv, acc2);
    acc3 = fma(vec4f(a[ia.w]), bv, acc3);
    ia += stepA;
    ib += stepB;
  }
  storeRow(j, row0, col0, 1u, acc0);
  storeRow(j, row0 + 1u, col0, 1u, acc1);
  storeRow(j, row0 + 2u, col0, 1u, acc2);
  storeRow(j, row0 + 3u, col0, 1u, acc3);
}

// ---- workgroup-tiled: BK-deep slices of A and B staged in workgroup memory -------------------

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

// ---- column sums: bias gradient (sum of dC over rows) and split-K finish ---------------------

struct SumRowsParams {
  rows: u32,        // rows of x
  cols: u32,        // columns of x and of out
  rowChunk: u32,    // rows summed by each z slice; sumOut has ceil(rows / rowChunk) rows
  accumulate: u32,  // 1: sumOut += sum; 0: sumOut = sum
  hasBias: u32,     // 1: add bias[col % biasCols] (finishing a split-K product with bias)
  biasCols: u32,
}

@group(0) @binding(0) var<uniform> sp: SumRowsParams;
@group(0) @binding(1) var<storage, read> sumIn: array<f32>;      // [rows, cols]
@group(0) @binding(2) var<storage, read> sumBias: array<f32>;    // [biasCols] (any buffer when hasBias = 0)
@group(0) @binding(3) var<storage, read_write> sumOut: array<f32>; // [ceil(rows / rowChunk), cols]

override SWG: u32 = 256u;

// One invocation per column and row chunk, adding its rows in order: neighbouring invocations
// read neighbouring addresses and every run gives the same bits.
@compute @workgroup_size(SWG, 1, 1)
fn sum_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) li: u32) {
  let col = grid_index(wid, nwg) * SWG + li;
  if (col >= sp.cols) { return; }
  let r0 = wid.z * sp.rowChunk;
  let r1 = min(r0 + sp.rowChunk, sp.rows);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += sumIn[r * sp.cols + col]; }
  if (sp.hasBias != 0u) { s += sumBias[col % sp.biasCols]; }
  let o = wid.z * sp.cols + col;
  if (sp.accumulate != 0u) { s += sumOut[o]; }
  sumOut[o] = s;
}
