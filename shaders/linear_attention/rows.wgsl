// shaders/linear_attention/rows.wgsl: what the row kernels of the 'swiftshader' variant
// (attend_rows_* on either body, and attend_rows_dkv) share.
// The SwiftShader variant. SwiftShader runs invocations as CPU SIMD lanes and pays dearly for
// barriers and workgroup memory, so these kernels use neither: one thread per state row (sums) or
// per two or four tokens (attend), reading rows straight from storage as vec4s. phi(q), phi(k) come precomputed
// (`phi_map`), since each key row is read by up to C queries. The weights W and beta^lag are
// advanced by the same Horner step as the tables above, one lag at a time.
const MAX_DIM: u32 = 128u;   // largest D or Dv of the row kernels
const MAX_CHUNK: u32 = 64u;  // largest chunk of the row kernels

// The row kernels read the row-major inputs and the state only through these vec4 views of
// attend.wgsl's buffers (bound rounded up to 16 bytes), so they bind no more buffers than before.
// Four neighbouring floats cost one vec4 load where the host's flag says each run starts on a
// vec4 (the row stride and the features read are multiples of 4), else two and a shift: either
// way fewer than four scalar loads, which SwiftShader runs as per-lane gathers.
@group(0) @binding(11) var<storage, read> xq4: array<vec4f>;
@group(0) @binding(12) var<storage, read> xk4: array<vec4f>;
@group(0) @binding(13) var<storage, read> xv4: array<vec4f>;
@group(0) @binding(14) var<storage, read> st4: array<vec4f>;       // st: 2 (S, m) pairs, or 4 S
override VQ: bool = false;
override VK: bool = false;
override VV: bool = false;
override VS: bool = false;

// The vec4s of a row on each side, ceil(n_in / 4) and ceil(n_out / 4), as pipeline constants (the
// host's rowVec4 sets them; a pipeline per pair of head sizes): the loops over a row's vec4s then
// have constant trip counts. On SwiftShader, D = Dv = 16, the causal forward + backward at N 1024
// got 1.20x (linear) and 1.15x (momentum) faster (README "Benchmarks"). Why is not established:
// not by keeping the private rows in registers, since a LayerNorm row held in a private array
// with a constant length was slower than no array at all.
override IN4: u32 = 1u;
override OUT4: u32 = 1u;

// Lanes n and beyond zeroed.
fn first4(r: vec4f, n: u32) -> vec4f {
  return select(vec4f(0.0), r, vec4u(0u, 1u, 2u, 3u) < vec4u(n));
}

// Floats at .. at + 3 of a row, lanes n and beyond 0 (n >= 4 where the flag is set).
fn ld4q(at: u32, n: u32) -> vec4f {
  if (VQ) { return xq4[at >> 2u]; }
  return first4(shift4(xq4[at >> 2u], xq4[(at >> 2u) + 1u], at & 3u), n);
}

fn ld4k(at: u32, n: u32) -> vec4f {
  if (VK) { return xk4[at >> 2u]; }
  return first4(shift4(xk4[at >> 2u], xk4[(at >> 2u) + 1u], at & 3u), n);
}

fn ld4v(at: u32, n: u32) -> vec4f {
  if (VV) { return xv4[at >> 2u]; }
  return first4(shift4(xv4[at >> 2u], xv4[(at >> 2u) + 1u], at & 3u), n);
}

// One float of a row.
fn ldq(at: u32) -> f32 {
  return xq4[at >> 2u][at & 3u];
}

fn ldk(at: u32) -> f32 {
  return xk4[at >> 2u][at & 3u];
}

struct Pair4 {
  a: vec4f,
  b: vec4f,
}

// State entries at .. at + 3 (one run of a state row): a = S (or R), b = m (or mu) where the state
// holds pairs (SP = 2), else 0. Lanes n and beyond are 0 off the vec4 path.
fn ld4s(at: u32, n: u32) -> Pair4 {
  if (SP == 2u) {
    var e = st4[at >> 1u];
    var f = st4[(at >> 1u) + 1u];
    if (!VS && (at & 1u) == 1u) {
      // The run starts mid-vec4: floats 2 .. 9 of three.
      let g = st4[(at >> 1u) + 2u];
      e = vec4f(e.zw, f.xy);
      f = vec4f(f.zw, g.xy);
    }
    let m = vec4f(e.y, e.w, f.y, f.w);
    let s = vec4f(e.x, e.z, f.x, f.z);
    if (VS) { return Pair4(s, m); }
    return Pair4(first4(s, n), first4(m, n));
  }
  if (VS) { return Pair4(st4[at >> 2u], vec4f(0.0)); }
  return Pair4(first4(shift4(st4[at >> 2u], st4[(at >> 2u) + 1u], at & 3u), n), vec4f(0.0));
}

// W(d) for any d: Horner below C (as the tiled kernels' tables), the closed form beyond.
fn weight_any(d: u32) -> f32 {
  if (d < C) { return weight_horner(p.beta, d); }
  return weight_closed(p.beta, d);
}

// gamma alpha_t of token i at offset t of a chunk of L (0 without causal momentum).
fn row_coef_of(t: u32, L: u32) -> f32 {
  if (MOMENTUM && CAUSAL) { return p.gamma * (p.beta * weight_any(select(t, L - 1u - t, REVERSE))); }
  return 0.0;
}

// Non-causal dk, dv: gamma W(N - 1 - i) (1 otherwise).
fn row_scale_of(bh: u32, i: u32) -> f32 {
  if (NC_SCALE && MOMENTUM && !CAUSAL) {
    let nb = seq_len(bh);
    return p.gamma * weight_any(nb - 1u - min(i, nb - 1u));
  }
  return 1.0;
}

// Each thread of the row kernels owns two neighbouring tokens of one chunk (2k, 2k + 1; the second
// repeats the first past the end of the sequence, and writes the same values), so every state
// entry and every in-chunk row it loads serves both.
// (batch * head, first token, second token) of thread g of the row kernels.
fn row_pair(g: u32) -> vec3u {
  let np = (p.n + 1u) / 2u;
  let bh = g / np;
  let iA = (g % np) * 2u;
  return vec3u(bh, iA, min(iA + 1u, p.n - 1u));
}
