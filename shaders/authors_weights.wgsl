// The authors'-code weighting of momentum attention (MATH.md, "A known discrepancy in the
// authors' code"): their parallel path weights key j, for every query, by
//   w_j = gamma (1 - beta^(N-j+1)) / (1 - beta) = gamma W(N - 1 - t)   (j = t + 1, t 0-based),
// with the plain (unweighted) linear normaliser. As w_j does not depend on the query, that is
// linear attention applied to (q, k, w ⊙ v): ops/authorsAttention.ts composes this kernel with
// the linear attention op. beta and gamma are fixed hyper-parameters (no gradient), so the
// backward is the same scaling of the gradient: d v = w ⊙ d(w ⊙ v). One entry point serves both.
//
// One invocation per element of [BH, N, E] rows, E innermost: consecutive invocations read and
// write consecutive values of one row (coalesced); the weight is recomputed per element (cheap,
// and no second buffer).

struct ScaleParams {
  total: u32,   // BH * N * E elements
  n: u32,       // N, the sequence length the weights count back from
  width: u32,   // E, values per row
  beta: f32,    // momentum in [0, 1)
  gamma: f32,   // step size > 0
}

@group(0) @binding(0) var<uniform> p: ScaleParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;        // forward: v; backward: d(w v)   [BH, N, E]
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;  // forward: w v; backward: dv     [BH, N, E]

override WG: u32 = 256;

// Lags below this use Horner (no cancellation as beta -> 1), as the attention kernels' chunks do.
const SHORT_LAG: u32 = 16u;

// gamma W(lag), W(lag) = sum_{s=0}^{lag} beta^s (common.wgsl), lag = N - 1 - t.
fn authors_weight(t: u32) -> f32 {
  let lag = p.n - 1u - t;
  return p.gamma * select(weight_closed(p.beta, lag), weight_horner(p.beta, lag), lag < SHORT_LAG);
}

// dst[bh, t, e] = w_t src[bh, t, e].
@compute @workgroup_size(WG)
fn scale_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let o = grid_index(wid, nwg) * WG + lid;
  if (o >= p.total) { return; }
  let t = (o / p.width) % p.n;
  dst[o] = authors_weight(t) * src[o];
}
