// shaders/matmul/sum_rows.wgsl: column sums, the bias gradient (sum of dC over rows) and the
// finish of a split-K or summed-batch product (the partials added in a fixed order, then the bias).

struct SumRowsParams {
  rows: u32,        // rows of x
  cols: u32,        // columns of x and of out
  rowChunk: u32,    // rows summed by each z slice; out has ceil(rows / rowChunk) rows
  accumulate: u32,  // 1: out += sum; 0: out = sum
  hasBias: u32,     // 1: add bias[col % biasCols] (finishing a split-K product with bias)
  biasCols: u32,
}

@group(0) @binding(0) var<uniform> p: SumRowsParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [rows, cols]
@group(0) @binding(2) var<storage, read> bias: array<f32>;       // [biasCols] (any buffer when hasBias = 0)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // [ceil(rows / rowChunk), cols]

override SWG: u32 = 256u;

// One invocation per column and row chunk, adding its rows in order: neighbouring invocations
// read neighbouring addresses and every run gives the same bits.
@compute @workgroup_size(SWG, 1, 1)
fn sum_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) li: u32) {
  let col = grid_index(wid, nwg) * SWG + li;
  if (col >= p.cols) { return; }
  let r0 = wid.z * p.rowChunk;
  let r1 = min(r0 + p.rowChunk, p.rows);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += x[r * p.cols + col]; }
  if (p.hasBias != 0u) { s += bias[col % p.biasCols]; }
  let o = wid.z * p.cols + col;
  if (p.accumulate != 0u) { s += out[o]; }
  out[o] = s;
}
