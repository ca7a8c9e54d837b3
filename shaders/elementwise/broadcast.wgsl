// The uniform of the row-broadcast add y[r, c] = x[r, c] + b[c] and its backward: dx = dy,
// db[c] = sum_r dy[r, c], as a two-stage column sum in a fixed order (no atomics): stage 1 sums a
// chunk of rows per invocation (adjacent invocations read adjacent columns, so loads coalesce) and
// copies dy into dx on the way; stage 2 sums the chunks' partials in chunk order.

struct BroadcastParams {
  rows: u32,            // R: rows of x (all leading dimensions flattened)
  cols: u32,            // C: length of the broadcast row
  rows_per_chunk: u32,  // rows summed by one invocation in the first stage of the column sum
  chunks: u32,          // ceil(rows / rows_per_chunk): partial sums per column
}

@group(0) @binding(0) var<uniform> p: BroadcastParams;
