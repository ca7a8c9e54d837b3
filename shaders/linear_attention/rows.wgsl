// shaders/linear_attention/rows.wgsl: what the row kernels of the 'swiftshader' variant
// (attend_rows_* and attend_rows_dkv) share.
// The SwiftShader variant. SwiftShader runs invocations as CPU SIMD lanes and pays dearly for
// barriers and workgroup memory, so these kernels use neither: one thread per state row (sums) or
// per token (attend), reading rows straight from storage. phi(q), phi(k) come precomputed
// (`phi_map`), since each key row is read by up to C queries. The weights W and beta^lag are
// advanced by the same Horner step as the tables above, one lag at a time.
const MAX_DIM: u32 = 128u;   // largest D or Dv of the row kernels
const MAX_CHUNK: u32 = 64u;  // largest chunk of the row kernels

@group(0) @binding(6) var<storage, read> st2: array<vec2f>;        // st as (S, m) pairs

var<private> qrow: array<f32, MAX_DIM>;    // the thread's query-side row
var<private> prow: array<f32, MAX_CHUNK>;  // its weighted in-chunk scores, by lag
var<private> row_coef: f32;                // gamma alpha_t: the momentum state's share
var<private> row_scale: f32;               // non-causal dk, dv: gamma W(N - 1 - j)

// W(d) for any d: Horner below C (as the tiled kernels' tables), the closed form beyond.
fn weight_any(d: u32) -> f32 {
  if (d < C) { return weight_horner(p.beta, d); }
  return weight_closed(p.beta, d);
}

// Each thread of attend_rows_* owns two neighbouring tokens of one chunk (2k, 2k + 1; the second
// repeats the first past the end of the sequence, and writes the same values), so every state
// entry it loads serves both: on the momentum path the (S, m) pair is read once and combined with
// each row's coefficient. rows_prep fills the row slot (qrow, prow, row_coef, row_scale);
// stash_row moves it to the second slot first.
var<private> qrowB: array<f32, MAX_DIM>;
var<private> prowB: array<f32, MAX_CHUNK>;
var<private> coefB: f32;
var<private> scaleB: f32;

struct Pair4 {
  a: vec4f,
  b: vec4f,
}

// (batch * head, first token, second token) of thread g of attend_rows_*.
fn row_pair(g: u32) -> vec3u {
  let np = (p.n + 1u) / 2u;
  let bh = g / np;
  let iA = (g % np) * 2u;
  return vec3u(bh, iA, min(iA + 1u, p.n - 1u));
}
