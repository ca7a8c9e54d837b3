// shaders/matmul/sum_rows.wgsl: column sums, the bias gradient (sum of dC over rows) and the
// finish of a split-K or summed-batch product (the partials added in a fixed order, then the bias).
// This prelude is shared; x and the entry point come from sum_rows_scalar.wgsl (a column an
// invocation) or sum_rows_vec4.wgsl (four columns an invocation, where cols is a multiple of 4).

struct SumRowsParams {
  rows: u32,        // rows of x
  cols: u32,        // columns of x and of out
  rowChunk: u32,    // rows summed by each z slice; out has ceil(rows / rowChunk) rows
  accumulate: u32,  // 1: out += sum; 0: out = sum
  hasBias: u32,     // 1: add bias[col % biasCols] (finishing a split-K product with bias)
  biasCols: u32,
}

@group(0) @binding(0) var<uniform> p: SumRowsParams;
@group(0) @binding(2) var<storage, read> bias: array<f32>;       // [biasCols] (any buffer when hasBias = 0)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // [ceil(rows / rowChunk), cols]

override SWG: u32 = 256u;

// The end of every invocation: the sum s of rows of column col (z slice `slice`), plus the bias
// and the old out if asked, stored.
fn finish_column(slice: u32, col: u32, sum: f32) {
  var s = sum;
  if (p.hasBias != 0u) { s += bias[col % p.biasCols]; }
  let o = slice * p.cols + col;
  if (p.accumulate != 0u) { s += out[o]; }
  out[o] = s;
}
