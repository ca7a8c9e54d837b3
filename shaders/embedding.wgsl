// Token embedding with a learned or sinusoidal position code (added, or concatenated after the
// token's features), and its backward without float atomics.
//
// d(table) is a scatter-add over token ids. It walks an index that groups positions by id
// (offsets[V + 1], order and sortedIds: a stable counting sort, built on the host from the ids it
// uploaded or here by embed_index_*), so every sum runs in one fixed order and repeats bit for bit.
// A frequent id (the separator, a black pixel) owns thousands of positions, so one thread per
// (id, feature) would serialise them: embed_table_partial first sums fixed segments of SEG sorted
// entries, flushing at each id boundary, and embed_table_reduce adds each id's few segment sums.
//
// Workgroups are numbered over a 2-D grid (grid_index, shaders/common.wgsl) so long inputs stay under the
// per-dimension limit. Ids >= V are left out of the index; the forward writes NaN for them, so a
// bad id read from the GPU surfaces as a NaN loss instead of a row read out of bounds.

struct EmbedParams {
  rows: u32,       // B * N positions
  seq: u32,        // N
  vocab: u32,      // V
  dim: u32,        // E, features of a token row
  pos_dim: u32,    // P, features of the position code (0 without one)
  pos_rows: u32,   // Nmax of a learned table (dpos is [Nmax, P])
  width: u32,      // C, features of an output row: E, or E + P when concatenated
  column: u32,     // where the position code (forward) or the table's slice of dout (backward) starts
  pos_kind: u32,   // POS_NONE, POS_LEARNED or POS_SINUSOIDAL
  chunks: u32,     // index building: ceil(rows / IWG) chunks of positions
  pos_offset: u32, // forward: position n of the input gets the code of n + pos_offset (sampling)
}

const POS_NONE: u32 = 0u;
const POS_LEARNED: u32 = 1u;
const POS_SINUSOIDAL: u32 = 2u;

// log2(10000): pair i's frequency is 10000^(-2i/P) = exp2(-2i/P * log2 10000).
const LOG2_SINUSOID_BASE: f32 = 13.287712379549449;
// pi/2 split in three (Cephes' sinf): PIO2_HI and PIO2_MID have few mantissa bits, so
// q * PIO2_HI and q * PIO2_MID are exact for the quadrant counts q (< 2^12) positions reach, and
// the remainder in [-pi/4, pi/4] keeps f32 accuracy.
const TWO_OVER_PI: f32 = 0.6366197723675814;
const PIO2_HI: f32 = 1.5703125;
const PIO2_MID: f32 = 4.837512969970703125e-4;
const PIO2_LO: f32 = 7.54978995489188216e-8;
// Cephes sinf/cosf minimax polynomials on [-pi/4, pi/4] (about 1 ulp). Builtin sin/cos are only
// promised to 2^-11 on [-pi, pi] (SwiftShader's err by ~2e-4), which would make the code device-dependent.
const SIN_C1: f32 = -1.6666654611e-1;
const SIN_C2: f32 = 8.3321608736e-3;
const SIN_C3: f32 = -1.9515295891e-4;
const COS_C1: f32 = 4.166664568298827e-2;
const COS_C2: f32 = -1.388731625493765e-3;
const COS_C3: f32 = 2.443315711809948e-5;
const QUIET_NAN_BITS: u32 = 0x7fc00000u;

@group(0) @binding(0) var<uniform> p: EmbedParams;
@group(0) @binding(1) var<storage, read> ids: array<u32>;           // [B, N]
@group(0) @binding(2) var<storage, read> table: array<f32>;         // [V, E]
@group(0) @binding(3) var<storage, read> pos_table: array<f32>;     // [Nmax, P]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;     // [B, N, C]
@group(0) @binding(5) var<storage, read> dout: array<f32>;          // [B, N, C]
@group(0) @binding(6) var<storage, read> offsets: array<u32>;       // [V + 1]
@group(0) @binding(7) var<storage, read> order: array<u32>;         // [B * N]
@group(0) @binding(8) var<storage, read> sorted_ids: array<u32>;    // [B * N]
@group(0) @binding(9) var<storage, read_write> partial: array<f32>; // [B * N, E]
@group(0) @binding(10) var<storage, read_write> dtable: array<f32>; // [V, E] or [Nmax, P]
@group(0) @binding(11) var<storage, read_write> counts: array<u32>; // [V, chunks]
@group(0) @binding(12) var<storage, read_write> offsets_out: array<u32>;    // [V + 1]
@group(0) @binding(13) var<storage, read_write> order_out: array<u32>;      // [B * N]
@group(0) @binding(14) var<storage, read_write> sorted_ids_out: array<u32>; // [B * N]

override WG: u32 = 256;   // threads of the elementwise entry points
override EWG: u32 = 64;   // features per workgroup in embed_table_partial
override SEG: u32 = 64;   // sorted entries summed by one thread before the per-id reduction
override IWG: u32 = 256;  // positions per chunk when building the index (one workgroup each)

var<workgroup> chunk_ids: array<u32, IWG>;
var<workgroup> scan_sums: array<u32, IWG>;

fn flat_group(wid: vec3u, nwg: vec3u) -> u32 {
  return grid_index(wid, nwg);
}

// A NaN built at run time: a constant NaN is a shader-creation error in WGSL.
fn runtime_nan(seed: u32) -> f32 {
  return bitcast<f32>(QUIET_NAN_BITS | (seed & 0u));
}

// sin (even j) or cos (odd j) of n * 10000^(-2 floor(j/2) / dim), Vaswani et al.'s code.
fn sinusoid(n: u32, j: u32, dim: u32) -> f32 {
  let freq = exp2(-f32(2u * (j / 2u)) / f32(dim) * LOG2_SINUSOID_BASE);
  let angle = f32(n) * freq;
  let qf = round(angle * TWO_OVER_PI);
  let r = ((angle - qf * PIO2_HI) - qf * PIO2_MID) - qf * PIO2_LO;
  let z = r * r;
  let s = r + r * z * (SIN_C1 + z * (SIN_C2 + z * SIN_C3));
  let c = 1.0 - 0.5 * z + z * z * (COS_C1 + z * (COS_C2 + z * COS_C3));
  // cos(x) = sin(x + pi/2): the cos of quadrant q is the sin of quadrant q + 1.
  let q = (u32(qf) + (j % 2u)) % 4u;
  let v = select(s, c, (q & 1u) == 1u);
  return select(v, -v, q >= 2u);
}

// ---- forward: one thread per (position n, output feature c), looping over the batch ----
// The position code of (n, c) is the same in every sequence: computed once, written B times.
// Neighbouring threads take neighbouring features, so every store of the loop is coalesced.
@compute @workgroup_size(WG)
fn embed_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  if (i >= p.seq * p.width) { return; }
  let n = i / p.width;
  let c = i % p.width;
  var code = 0.0;
  if (p.pos_kind != POS_NONE && c >= p.column && c < p.column + p.pos_dim) {
    let j = c - p.column;
    let at = n + p.pos_offset;
    if (p.pos_kind == POS_LEARNED) {
      code = pos_table[at * p.pos_dim + j];
    } else {
      code = sinusoid(at, j, p.pos_dim);
    }
  }
  let batch = p.rows / p.seq;
  for (var b = 0u; b < batch; b++) {
    let row = b * p.seq + n;
    var v = code;
    if (c < p.dim) {
      let id = ids[row];
      v += select(runtime_nan(id), table[min(id, p.vocab - 1u) * p.dim + c], id < p.vocab);
    }
    out[row * p.width + c] = v;
  }
}

// ---- backward into the token table, stage 1: segment sums in sorted order ----
// Thread (segment s, feature e) adds dout over sorted entries [s * SEG, (s + 1) * SEG) and stores
// the running sum at the last entry of each id inside the segment, then restarts it.
@compute @workgroup_size(EWG)
fn embed_table_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  let tiles = (p.dim + EWG - 1u) / EWG;
  let w = flat_group(wid, nwg);
  let e = (w % tiles) * EWG + lid;
  let start = (w / tiles) * SEG;
  let total = offsets[p.vocab];
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

// ---- stage 2: one thread per (id, feature) adds its segments' sums in order ----
@compute @workgroup_size(WG)
fn embed_table_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  if (i >= p.vocab * p.dim) { return; }
  let v = i / p.dim;
  let e = i % p.dim;
  let start = offsets[v];
  let end = offsets[v + 1u];
  var acc = 0.0;
  if (end > start) {
    for (var s = start / SEG; s <= (end - 1u) / SEG; s++) {
      acc += partial[(min(end, (s + 1u) * SEG) - 1u) * p.dim + e];
    }
  }
  dtable[i] = acc;
}

// ---- backward into a learned position table: one thread per (n, feature), b in order ----
@compute @workgroup_size(WG)
fn embed_position_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                           @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  if (i >= p.pos_rows * p.pos_dim) { return; }
  let n = i / p.pos_dim;
  let j = i % p.pos_dim;
  var acc = 0.0;
  if (n < p.seq) {
    let batch = p.rows / p.seq;
    for (var b = 0u; b < batch; b++) {
      acc += dout[(b * p.seq + n) * p.width + p.column + j];
    }
  }
  dtable[i] = acc;
}

// ---- index on the GPU (ids that never visited the host), three passes, no atomics ----
// Loads chunk c's ids into workgroup memory (ids >= V as V, which matches no row).
fn load_chunk(c: u32, lid: u32) {
  let i = c * IWG + lid;
  chunk_ids[lid] = select(p.vocab, min(ids[min(i, p.rows - 1u)], p.vocab), i < p.rows);
}

// Pass 1: counts[v, c] = occurrences of id v in chunk c.
@compute @workgroup_size(IWG)
fn embed_index_count(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let c = flat_group(wid, nwg);
  if (c >= p.chunks) { return; }
  load_chunk(c, lid);
  workgroupBarrier();
  let len = min(IWG, p.rows - c * IWG);
  for (var v = lid; v < p.vocab; v += IWG) {
    var n = 0u;
    for (var j = 0u; j < len; j++) { n += u32(chunk_ids[j] == v); }
    counts[v * p.chunks + c] = n;
  }
}

// Pass 2 (one workgroup): exclusive prefix sum of counts in (v, c) order, in place, so counts[v, c]
// becomes where chunk c's first v goes; offsets_out[v] = counts[v, 0], offsets_out[V] = total.
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

// Pass 3: each position goes to its chunk's slot for its id plus its rank among the equal ids
// before it in the chunk, which keeps the sort stable.
@compute @workgroup_size(IWG)
fn embed_index_place(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let c = flat_group(wid, nwg);
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
