// Dropout, after params.wgsl. Element e = offset + i is kept when word (e % 4) of Philox4x32-10 at
// counter (floor(e / 4), 0, 0, 0) with key (seed_lo, seed_hi) is >= threshold; kept values are
// scaled by 1 / (1 - p). The mask is a pure function of (seed, offset + i): nothing is stored, the
// backward recomputes it, and a tensor split into pieces at consecutive offsets gets the same mask
// as a whole. The same map serves forward (x -> y) and backward (dy -> dx): it is its own
// transpose.

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

@group(0) @binding(0) var<uniform> p: DropoutParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

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
  if (first >= p.n + p.lane0) { return; }
  let lo = p.block_lo + j;
  let hi = p.block_hi + select(0u, 1u, lo < j);   // carry of the 64-bit counter
  let words = philox4x32_10(vec4u(lo, hi, 0u, 0u), vec2u(p.seed_lo, p.seed_hi));
  for (var w = 0u; w < LANES; w++) {
    let e = first + w;
    if (e < p.lane0) { continue; }
    let i = e - p.lane0;
    if (i >= p.n) { break; }
    y[i] = select(0.0, x[i] * p.scale, words[w] >= p.threshold);
  }
}
