// shaders/linear_attention/tiles.wgsl: what the tiled kernels ('gpu' variant: chunk_sums and
// attend_tiled_*) share: register-tile bounds, tile overrides, workgroup staging memory and the
// tables of W(d) and beta^d for d < C.

// Register tiles are fixed-size arrays; the overrides below say how much of them is used.
const MAX_R: u32 = 4u;       // rows (tokens, or state rows) per thread
const MAX_S: u32 = 4u;       // columns per thread
const KS: u32 = 16u;         // features or tokens per staged slice

override T: u32 = 16u;       // the workgroup is T x T threads (C is a multiple of T, at most MAX_R * T)
override RT: u32 = 2u;       // rows per thread: C / T (attend), D-tile / T (chunk_sums)
override ST: u32 = 2u;       // columns per thread: the output or Dv tile is T * ST wide
override SMEM: u32 = 3072u;  // floats of staging memory (computed by the host from the above)

var<workgroup> sh: array<f32, SMEM>;
var<workgroup> wtab: array<f32, C>;   // W(d) for d < C
var<workgroup> ptab: array<f32, C>;   // beta^d for d < C

// W(d) by Horner (see weight_horner in common.wgsl) and beta^d, one table entry per thread.
fn fill_tables(lid: u32) {
  for (var d = lid; d < C; d += T * T) {
    var w = 1.0;
    var pw = 1.0;
    for (var s = 0u; s < d; s++) {
      w = 1.0 + p.beta * w;
      pw = pw * p.beta;
    }
    wtab[d] = w;
    ptab[d] = pw;
  }
}

// W(d) for any d: the table below C, the closed form beyond it.
fn weight_far(d: u32) -> f32 {
  if (d < C) { return wtab[d]; }
  return weight_closed(p.beta, d);
}
