// shaders/linear_attention/params.wgsl: the prelude of every linear/momentum attention kernel
// (after shaders/common.wgsl): the uniform struct, the overrides every pass shares, chunk helpers.
// The family's kernels, one file each (src/engine/kernels/linear/shaders.ts assembles them):
//   chunk_sums.wgsl, scan.wgsl          tiled scan ('gpu' variant), with tiles.wgsl
//   sums_scan_rows.wgsl                 the scan in one pass ('swiftshader' variant)
//   attend_tiled_{forward,dq,dk,dv}     tiled attend, with attend.wgsl and attend_tiled.wgsl (the body)
//   attend_rows_{forward,dq,dk,dv,dkv}  row attend, with attend.wgsl, rows.wgsl (and attend_rows.wgsl)
//   bwd_prep.wgsl, phi_map.wgsl, step.wgsl (the recurrent form, for sampling)
// The kernels that read an example's length (the forward scan, attend forward, dk, dv, bwd_prep)
// follow lengths_full.wgsl (every example runs to N) or, for right-padded batches,
// lengths_masked.wgsl (binds `lengths`); both define seq_len(bh). dq shares attend's epilogue
// and takes lengths_full only.
//
// Linear attention (MATH.md eq. 7) and momentum attention (eqs. 12-14) with phi = elu + 1, as an
// O(N) chunked scan (MATH.md section 9). One family serves both: `MOMENTUM = false` removes every
// momentum term, which is exactly momentum attention at beta = 0, gamma = 1 (every weight is then
// 1 and every momentum coefficient 0), so linear attention pays nothing for it.
//
// Per (batch, head) the sequence is cut into chunks of C tokens. With u_j = phi(k_j) v_j^T and the
// state (S, m) carried into a chunk, token i at offset t of the chunk sees
//     S_i = S - gamma alpha_t m + gamma sum_{j in chunk, j <= i} W(i - j) u_j,
//     W(d) = sum_{s=0}^{d} beta^s,  alpha_t = beta W(t),
// and the chunk hands on m' = beta^L m - sum_j beta^(L-1-tau_j) u_j and S' = S_(last token).
// Three passes: `chunk_sums` (every chunk's local sums, in parallel), `scan` (the carried state at
// every chunk start, one thread per state entry, a short loop over chunks) and `attend_fwd` (each
// chunk's output from its carried state and a small masked quadratic part). The normaliser
// z_i = sum_{j <= i} phi(k_j) is a plain prefix, carried beside S.
//
// The backward is the same machinery: with g_i = dout_i / den_i and r_i = -(dout_i . out_i) / den_i
// (`bwd_prep`), the gradient reaching u_j is R_j = gamma sum_{i >= j} W(i - j) phi(q_i) g_i^T, a
// momentum scan run backwards in time (`chunk_sums` and `scan` with REVERSE). `attend_bwd` then
// gives dq from the forward states (MODE 1), and dk (MODE 2) and dv (MODE 3) from the reverse ones.
//
// Non-causal attention (eq. 14) uses the final state for every token (CAUSAL = false).
// `step` is the recurrent form (12), one token at a time, for sampling.
// These are the tiled kernels for real GPUs; the end of the file has SwiftShader's variant of
// chunk_sums + scan (`sums_scan_rows`, one pass) and attend (`attend_rows_*`, with dk and dv
// in one pass), which shares bwd_prep and step.
// No atomics: every sum has one owner and a fixed order, so runs repeat bit for bit.
//
// States are stored [BH, NC+1, D, Dv, P]: P = 2 interleaves S and m per entry (momentum), so one
// 8-byte load fetches both; P = 1 holds S alone (linear attention, and the plain totals of the
// non-causal backward).

struct Params {
  n: u32,        // tokens per sequence N
  nc: u32,       // chunks per sequence, ceil(N / C)
  nbh: u32,      // batch * heads
  nh: u32,       // heads per example (lengths are per example: b = bh / nh)
  n_in: u32,     // features contracted in scores and against the state (attend)
  n_out: u32,    // features of the output (attend)
  d: u32,        // query/key head size D
  dv: u32,       // value head size Dv
  sq: u32,       // row stride of xq (attend) or a (chunk_sums)
  sk: u32,       // row stride of xk (attend) or b (chunk_sums)
  sv: u32,       // row stride of xv (attend)
  nblk: u32,     // column blocks per chunk (attend), tiles along D (chunk_sums)
  nblk2: u32,    // tiles along Dv (chunk_sums)
  beta: f32,
  gamma: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

override C: u32 = 32u;            // chunk length
override MOMENTUM: bool = true;   // false: the linear path (beta = 0, gamma = 1, S alone)
override CAUSAL: bool = true;
override REVERSE: bool = false;   // scan (and attend) backwards in time: the backward's dk, dv
override WG1: u32 = 64u;          // threads of the 1-D kernels

fn chunk_len(c: u32) -> u32 {
  return min(C, p.n - c * C);
}

// Tokens of chunk c before position nb (an example's length): 0 for chunks past it.
fn chunk_len_in(c: u32, nb: u32) -> u32 {
  if (c * C >= nb) { return 0u; }
  return min(C, nb - c * C);
}

// Floats per state entry that the scans write: (S, m) pairs with momentum.
fn pairs() -> u32 {
  return select(1u, 2u, MOMENTUM);
}

// The row kernels' vec4 loads (rows.wgsl, sums_scan_rows.wgsl): four floats from offset s of the
// eight in (lo, hi).
fn shift4(lo: vec4f, hi: vec4f, s: u32) -> vec4f {
  if (s == 0u) { return lo; }
  if (s == 1u) { return vec4f(lo.yzw, hi.x); }
  if (s == 2u) { return vec4f(lo.zw, hi.xy); }
  return vec4f(lo.w, hi.xyz);
}
