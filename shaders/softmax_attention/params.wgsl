// shaders/softmax_attention/params.wgsl: the prelude of every softmax attention kernel (after
// shaders/common.wgsl). The family's kernels, one file each (src/engine/kernels/softmax/shaders.ts):
//   forward_tiled, backward_dq_tiled, backward_dkdv_tiled   with tiles.wgsl ('gpu' variant)
//   forward_rows, backward_dq_rows, backward_dkdv_rows      ('swiftshader' variant)
//   backward_delta (both), step (the decoder over a KV cache)
// The six kernels above that read a row's length follow lengths_full.wgsl (every row runs to N)
// or, for right-padded batches, lengths_masked.wgsl (binds `lengths`); both define seq_len(bh).
//
// Multi-head softmax attention, MATH.md eq. (1): out_i = sum_j softmax_j(q_i . k_j / sqrt(D)) v_j,
// causal (j <= i) or not. q, k: [BH, N, D], v, out, dOut: [BH, N, Dv], lse, delta: [BH, N], all
// row-major with BH = batch * heads.
//
// Two variants of every pass, picked by the host (src/engine/kernels/softmax/plan.ts, encode.ts):
// - tiled (real GPUs), FlashAttention-2 style. The forward streams key/value blocks through
//   workgroup memory with an online softmax and keeps only the row's logsumexp, never an N x N
//   matrix. The backward recomputes the probabilities from that logsumexp: `backward_dkdv` walks
//   the query blocks for one key block, `backward_dq` the key blocks for one query block, so each
//   output element has exactly one writer (no atomics, fixed summation order, deterministic).
//   TPR threads share a tile row: they split the score columns, then the output columns.
// - rows (SwiftShader): one thread per query (or key) row and no workgroup memory or barriers,
//   which SwiftShader runs several times faster than the tiled kernels.
// Plus `step`, the single-token decoder over a KV cache, and `backward_delta`, shared by both.

struct AttnParams {
  bh: u32,       // batch * heads
  heads: u32,    // heads per example (lengths are per example: b = bh / heads)
  n: u32,        // sequence length (queries and keys)
  d: u32,        // query/key head size
  dv: u32,       // value head size
  causal: u32,   // 1: query i sees keys j <= i only
  scale: f32,    // 1 / sqrt(d)
}

@group(0) @binding(0) var<uniform> p: AttnParams;
@group(0) @binding(1) var<storage, read> q: array<f32>;            // [BH, N, D]
@group(0) @binding(2) var<storage, read> k: array<f32>;            // [BH, N, D]
@group(0) @binding(3) var<storage, read> v: array<f32>;            // [BH, N, Dv]


// Stands in for -infinity (WGSL has no literal for it) and marks masked scores; finite, so
// m - m_new stays finite while a row has seen no key yet.
const NEG: f32 = -1e30;
// Longest head (D or Dv) the kernels accept; the rows variant keeps rows of this length privately.
const MAX_DIM: u32 = 128u;
// Per-thread accumulator slots of the tiled kernels (NK, NV <= ACC, the host checks it) and of
// `step` (STEP_NV = ceil(Dv / WG) <= ACC since Dv <= MAX_DIM).
const ACC: u32 = 16u;

override WG: u32 = 64u;   // threads per workgroup of the rows kernels and of `step`

// Whether query i sees key j in a head whose valid tokens are 0..nb-1 (nb = seq_len(bh)).
fn allowed(i: u32, j: u32, nb: u32) -> bool {
  return i < nb && j < nb && (p.causal == 0u || j <= i);
}

// One past the last key that query rows [i0, i0 + rows) may see.
fn key_end(i0: u32, rows: u32, nb: u32) -> u32 {
  if (p.causal != 0u) { return min(nb, i0 + rows); }
  return nb;
}
