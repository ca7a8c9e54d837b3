// shaders/linear_attention/attend.wgsl: the inputs every attend kernel reads (tiled and row
// variants, forward and backward). Which tensors they are depends on the pass (see
// src/engine/kernels/linear/encode.ts): forward xq = q, xk = k, xv = v, st = (S, m), zc = z;
// dq: xq = g|r, xk = v, xv = phi(k); dk: xq = v, xk = g|r, xv = phi(q), st = (R, mu);
// dv: xq = phi(k), xk = phi(q), xv = g|r.
@group(0) @binding(1) var<storage, read> xq: array<f32>;            // [BH, N, sq] query side
@group(0) @binding(2) var<storage, read> xk: array<f32>;            // [BH, N, sk] key side
@group(0) @binding(3) var<storage, read> xv: array<f32>;            // [BH, N, sv] value side
@group(0) @binding(4) var<storage, read> st: array<f32>;            // [BH, NC+1, D, Dv, SP] S (or R) | m (or mu)
@group(0) @binding(5) var<storage, read> zc: array<f32>;            // [BH, NC+1, D] z (or zeta)

override SP: u32 = 1u;            // floats per entry of the state read (P of the scans)
override NC_SCALE: bool = false;  // non-causal dk/dv: scale the state term by gamma W(N-1-j)

// r of a token: the last column of the g|r rows, on the query side (dq) or the key side (dk).
fn r_query(bh: u32, tok: u32) -> f32 {
  return xq[(bh * p.n + tok) * p.sq + p.n_in];
}

fn r_key(bh: u32, tok: u32) -> f32 {
  return xk[(bh * p.n + tok) * p.sk + p.n_in];
}

// The first entry of chunk c's z (or zeta) row in zc: the chunk's own slot when causal, the total
// (slot NC) otherwise. The state's row of the same slot starts at z_base * Dv.
fn z_base(bh: u32, c: u32) -> u32 {
  let slot = select(p.nc, c, CAUSAL);
  return (bh * (p.nc + 1u) + slot) * p.d;
}
