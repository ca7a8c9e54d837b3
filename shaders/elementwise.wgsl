// Elementwise ops and their backwards: GELU, ReLU, residual add, scaling, a row-broadcast add
// (bias) with its column-sum backward, and dropout keyed by a counter-based RNG (Philox4x32-10).
// One invocation per element (per 4 elements for dropout), over a 2-D grid of workgroups so long
// tensors stay under the per-dimension limit; memory-bound, so consecutive invocations touch
// consecutive addresses.

struct EwParams {
  n: u32,     // number of elements
  s: f32,     // scale factor (scale_forward only; 0 elsewhere)
}

struct BroadcastParams {
  rows: u32,            // R: rows of x (all leading dimensions flattened)
  cols: u32,            // C: length of the broadcast row
  rows_per_chunk: u32,  // rows summed by one invocation in the first stage of the column sum
  chunks: u32,          // ceil(rows / rows_per_chunk): partial sums per column
}

struct DropoutParams {
  n: u32,           // number of elements
  threshold: u32,   // an element is dropped when its random word is below this (= floor(p * 2^32))
  scale: f32,       // 1 / (1 - p): inverted dropout keeps the expectation
  seed_lo: u32,     // Philox key: the seed's low and high 32 bits
  seed_hi: u32,
  block_lo: u32,    // floor(offset / 4) as two words: the Philox counter of this tensor's first element
  block_hi: u32,
  lane0: u32,       // offset % 4: which of the 4 words of that first block belongs to element 0
}

@group(0) @binding(0) var<uniform> p: EwParams;
@group(0) @binding(1) var<uniform> pb: BroadcastParams;
@group(0) @binding(2) var<uniform> pd: DropoutParams;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
@group(0) @binding(8) var<storage, read_write> db: array<f32>;
@group(0) @binding(9) var<storage, read_write> partial: array<f32>;

override WG: u32 = 256;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return grid_index(wid, nwg) * WG + lid;
}

// ---- GELU, tanh approximation (as in GPT-2 / BERT): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))

const GELU_K: f32 = 0.7978845608028654;   // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;
// tanh(15) rounds to 1 in f32; clamping keeps implementations that build tanh from exp finite.
const TANH_CLAMP: f32 = 15.0;

fn gelu_tanh(v: f32) -> f32 {
  return tanh(clamp(GELU_K * (v + GELU_C * v * v * v), -TANH_CLAMP, TANH_CLAMP));
}

@compute @workgroup_size(WG)
fn gelu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let v = x[i];
  y[i] = 0.5 * v * (1.0 + gelu_tanh(v));
}

@compute @workgroup_size(WG)
fn gelu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let v = x[i];
  let t = gelu_tanh(v);
  let du = GELU_K * (1.0 + 3.0 * GELU_C * v * v);
  dx[i] = dy[i] * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du);
}

// ---- ReLU

@compute @workgroup_size(WG)
fn relu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = max(x[i], 0.0);
}

@compute @workgroup_size(WG)
fn relu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  dx[i] = select(0.0, dy[i], x[i] > 0.0);
}

// ---- y = x + b (residual add); the backward hands dy to both inputs as separate buffers, since
// the tape takes ownership of each gradient it accumulates.

@compute @workgroup_size(WG)
fn add_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = x[i] + b[i];
}

@compute @workgroup_size(WG)
fn add_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let g = dy[i];
  dx[i] = g;
  db[i] = g;
}

// ---- y = s x; its backward is the same map applied to dy.

@compute @workgroup_size(WG)
fn scale_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = p.s * x[i];
}

// ---- y[r, c] = x[r, c] + b[c]. Backward: dx = dy, db[c] = sum_r dy[r, c], as a two-stage
// column sum in a fixed order (no atomics): stage 1 sums a chunk of rows per invocation (adjacent
// invocations read adjacent columns, so loads coalesce) and copies dy into dx on the way; stage 2
// sums the chunks' partials in chunk order.

@compute @workgroup_size(WG)
fn add_broadcast_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                         @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= pb.rows * pb.cols) { return; }
  y[i] = x[i] + b[i % pb.cols];
}

// Grid: (ceil(C / WG), chunks).
@compute @workgroup_size(WG)
fn add_broadcast_backward_partial(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let chunk = gid.y;
  if (c >= pb.cols) { return; }
  let r0 = chunk * pb.rows_per_chunk;
  let r1 = min(r0 + pb.rows_per_chunk, pb.rows);
  var acc = 0.0;
  for (var r = r0; r < r1; r++) {
    let g = dy[r * pb.cols + c];
    dx[r * pb.cols + c] = g;
    acc += g;
  }
  partial[chunk * pb.cols + c] = acc;
}

// Grid: ceil(C / WG). Reads `partial` written by the previous dispatch of the same command buffer.
@compute @workgroup_size(WG)
fn add_broadcast_backward_reduce(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= pb.cols) { return; }
  var acc = 0.0;
  for (var k = 0u; k < pb.chunks; k++) {
    acc += partial[k * pb.cols + c];
  }
  db[c] = acc;
}

// ---- Dropout. Element e = offset + i is kept when word (e % 4) of Philox4x32-10 at counter
// (floor(e / 4), 0, 0, 0) with key (seed_lo, seed_hi) is >= threshold; kept values are scaled by
// 1 / (1 - p). The mask is a pure function of (seed, offset + i): nothing is stored, the backward
// recomputes it, and a tensor split into pieces at consecutive offsets gets the same mask as a
// whole. The same map serves forward (x -> y) and backward (dy -> dx): it is its own transpose.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;   // key schedule: golden ratio
const PHILOX_W1: u32 = 0xBB67AE85u;   // key schedule: sqrt(3) - 1
const PHILOX_ROUNDS: u32 = 10u;
const HALF_BITS: u32 = 16u;
const HALF_MASK: u32 = 0xFFFFu;

// The high 32 bits of u * v; WGSL has no 64-bit integers, so multiply 16-bit halves.
// (Parameters are not named like the module's resources: the reflection that builds bind group
// layouts would count such a name as a use of the resource.)
fn mulhi(u: u32, v: u32) -> u32 {
  let al = u & HALF_MASK;
  let ah = u >> HALF_BITS;
  let bl = v & HALF_MASK;
  let bh = v >> HALF_BITS;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = (ll >> HALF_BITS) + (lh & HALF_MASK) + (hl & HALF_MASK);
  return ah * bh + (lh >> HALF_BITS) + (hl >> HALF_BITS) + (mid >> HALF_BITS);
}

fn philox4x32_10(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var r = 0u; r < PHILOX_ROUNDS; r++) {
    let hi0 = mulhi(PHILOX_M0, c.x);
    let lo0 = PHILOX_M0 * c.x;
    let hi1 = mulhi(PHILOX_M1, c.z);
    let lo1 = PHILOX_M1 * c.z;
    c = vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k += vec2u(PHILOX_W0, PHILOX_W1);
  }
  return c;
}

const LANES: u32 = 4u;   // words per Philox block

// One invocation per Philox block that overlaps [offset, offset + n): block j covers elements
// 4 (block + j) - lane0 + (0..3) of this tensor.
@compute @workgroup_size(WG)
fn dropout(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) lid: u32) {
  let j = flat(wid, nwg, lid);
  let first = j * LANES;   // element index + lane0 of this block's word 0
  if (first >= pd.n + pd.lane0) { return; }
  let lo = pd.block_lo + j;
  let hi = pd.block_hi + select(0u, 1u, lo < j);   // carry of the 64-bit counter
  let words = philox4x32_10(vec4u(lo, hi, 0u, 0u), vec2u(pd.seed_lo, pd.seed_hi));
  for (var w = 0u; w < LANES; w++) {
    let e = first + w;
    if (e < pd.lane0) { continue; }
    let i = e - pd.lane0;
    if (i >= pd.n) { break; }
    y[i] = select(0.0, x[i] * pd.scale, words[w] >= pd.threshold);
  }
}
