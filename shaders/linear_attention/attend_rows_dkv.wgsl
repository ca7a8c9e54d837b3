// shaders/linear_attention/attend_rows_dkv.wgsl: dk and dv in one pass ('swiftshader' variant).
// attend_rows_dkv: dk (MODE 2) and dv (MODE 3) of one key token in a single pass, so the reverse
// state (R, mu) is read, and on the momentum path combined to R - gamma alpha_t mu, once for both:
// entry R'[x][o] feeds dv_i[o] += phi(k_i)[x] R'[x][o] and dk_i[x] += R'[x][o] v_i[o]. The in-chunk
// scores of both modes come from one loop over the later keys. Bindings as attend_rows_bwd's
// MODE 2 call (xq = v, xk = g|r, xv = phi(q), xd = k, out = dk), plus xw4 = phi(k) and out2 = dv
// (the row inputs through rows.wgsl's vec4 views).
// As attend_rows.wgsl, thread g owns key tokens iA, iB = iA + 1 (one chunk, as C is even) and
// every later key row, state run and in-chunk row it loads serves both; rows are vec4s.
@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, D] dk
@group(0) @binding(8) var<storage, read> xd: array<f32>;           // [BH, N, D] k, for phi'
@group(0) @binding(10) var<storage, read_write> out2: array<f32>;  // [BH, N, Dv] dv
@group(0) @binding(9) var<storage, read> xw4: array<vec4f>;        // [BH, N, D] phi(k), as vec4
override VW: bool = false;

var<private> ka: array<vec4f, MAX_DIM / 4u>;   // phi(k_iA), four features a vec4
var<private> kb: array<vec4f, MAX_DIM / 4u>;
var<private> va: array<vec4f, MAX_DIM / 4u>;   // v_iA
var<private> vb: array<vec4f, MAX_DIM / 4u>;
var<private> dka: array<vec4f, MAX_DIM / 4u>;  // dk's state term, by feature
var<private> dkb: array<vec4f, MAX_DIM / 4u>;
var<private> pa: array<f32, MAX_CHUNK>;        // dk's weighted in-chunk scores, by key offset
var<private> pb: array<f32, MAX_CHUNK>;        // (0 for keys the token does not see)
var<private> p3a: array<f32, MAX_CHUNK>;       // dv's
var<private> p3b: array<f32, MAX_CHUNK>;

fn ld4w(at: u32, n: u32) -> vec4f {
  if (VW) { return xw4[at >> 2u]; }
  return first4(shift4(xw4[at >> 2u], xw4[(at >> 2u) + 1u], at & 3u), n);
}

// State run at .. at + 3 as keys iA (a) and iB (b) see it: R - gamma alpha_t mu.
fn rstate_ab(at: u32, n: u32, ca: f32, cb: f32) -> Pair4 {
  let e = ld4s(at, n);
  if (MOMENTUM && CAUSAL) { return Pair4(e.a - ca * e.b, e.a - cb * e.b); }
  return Pair4(e.a, e.a);
}

@compute @workgroup_size(WG1)
fn attend_rows_dkv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let gt = grid_index(wid, nwg) * WG1 + lid;
  if (gt >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(gt);
  let bh = pr.x;
  let iA = pr.y;
  let iB = pr.z;
  let dd = iB - iA;   // 1, or 0 where B repeats A
  let hasB = iA + 1u < p.n;
  let gA = bh * p.n + iA;
  let gB = bh * p.n + iB;
  let c = iA / C;
  let c0 = c * C;
  let L = chunk_len(c);
  let tA = iA - c0;
  let zbase = z_base(bh, c);
  let stbase = zbase * p.dv;
  let nd4 = OUT4;  // ceil(D / 4): n_out = D
  let ne4 = IN4;   // ceil(Dv / 4): n_in = Dv
  for (var x4 = 0u; x4 < nd4; x4++) {
    ka[x4] = ld4w(gA * p.d + 4u * x4, p.d - 4u * x4);
    kb[x4] = ld4w(gB * p.d + 4u * x4, p.d - 4u * x4);
    dka[x4] = vec4f(0.0);
    dkb[x4] = vec4f(0.0);
  }
  for (var e4 = 0u; e4 < ne4; e4++) {
    va[e4] = ld4q(gA * p.sq + 4u * e4, p.dv - 4u * e4);
    vb[e4] = ld4q(gB * p.sq + 4u * e4, p.dv - 4u * e4);
  }
  var coefA = 0.0;
  var coefB = 0.0;
  if (MOMENTUM && CAUSAL) {
    coefA = row_coef_of(tA, L);
    coefB = row_coef_of(iB - c0, L);
  }
  let scaleA = row_scale_of(bh, iA);
  let scaleB = row_scale_of(bh, iB);
  if (CAUSAL) {
    // Later keys by increasing lag from iA; iB sees key lag - dd, its weight the step before.
    var w = 1.0;
    var wprev = 1.0;
    for (var lag = 0u; lag < L - tA; lag++) {
      let j = gA + lag;
      var s2A = 0.0;
      var s2B = 0.0;
      for (var e4 = 0u; e4 < ne4; e4++) {
        let g4 = ld4k(j * p.sk + 4u * e4, p.dv - 4u * e4);
        s2A += dot(va[e4], g4);
        s2B += dot(vb[e4], g4);
      }
      var s3A = 0.0;
      var s3B = 0.0;
      for (var x4 = 0u; x4 < nd4; x4++) {
        let q4 = ld4v(j * p.sv + 4u * x4, p.d - 4u * x4);
        s3A += dot(ka[x4], q4);
        s3B += dot(kb[x4], q4);
      }
      if (MOMENTUM) {
        let fA = p.gamma * w;
        let fB = p.gamma * select(wprev, w, dd == 0u);
        s2A *= fA;
        s3A *= fA;
        s2B *= fB;
        s3B *= fB;
        wprev = w;
        w = 1.0 + p.beta * w;
      }
      let r = ldk(j * p.sk + p.dv);
      let seenB = lag >= dd;
      pa[tA + lag] = s2A + r;
      p3a[tA + lag] = s3A;
      pb[tA + lag] = select(0.0, s2B + r, seenB);
      p3b[tA + lag] = select(0.0, s3B, seenB);
    }
  }
  // A padding key (past the example's length) is seen by no query: its gradients are 0.
  let nb = seq_len(bh);
  let validA = iA < nb;
  let validB = iB < nb;
  let lastx = p.d - 1u;
  // dv, four columns per pass over the state; dk's state term accumulates beside it.
  for (var e4 = 0u; e4 < ne4; e4++) {
    let o = 4u * e4;
    let n = p.dv - o;
    let vA = va[e4];
    let vB = vb[e4];
    var dvA = vec4f(0.0);
    var dvB = vec4f(0.0);
    for (var x4 = 0u; x4 < nd4; x4++) {
      // Rows past D repeat the last (their phi(k) lanes are 0, their dk lanes never stored).
      let x = 4u * x4;
      let s0 = rstate_ab(stbase + x * p.dv + o, n, coefA, coefB);
      let s1 = rstate_ab(stbase + min(x + 1u, lastx) * p.dv + o, n, coefA, coefB);
      let s2 = rstate_ab(stbase + min(x + 2u, lastx) * p.dv + o, n, coefA, coefB);
      let s3 = rstate_ab(stbase + min(x + 3u, lastx) * p.dv + o, n, coefA, coefB);
      let kA = ka[x4];
      let kB = kb[x4];
      dvA += kA.x * s0.a + kA.y * s1.a + kA.z * s2.a + kA.w * s3.a;
      dvB += kB.x * s0.b + kB.y * s1.b + kB.z * s2.b + kB.w * s3.b;
      dka[x4] += vec4f(dot(s0.a, vA), dot(s1.a, vA), dot(s2.a, vA), dot(s3.a, vA));
      dkb[x4] += vec4f(dot(s0.b, vB), dot(s1.b, vB), dot(s2.b, vB), dot(s3.b, vB));
    }
    dvA *= scaleA;
    dvB *= scaleB;
    if (CAUSAL) {
      for (var jt = tA; jt < L; jt++) {
        let g4 = ld4k((bh * p.n + c0 + jt) * p.sk + o, n);
        dvA += p3a[jt] * g4;
        dvB += p3b[jt] * g4;
      }
    }
    for (var k = 0u; k < min(4u, n); k++) {
      out2[gA * p.dv + o + k] = select(0.0, dvA[k], validA);
      if (hasB) { out2[gB * p.dv + o + k] = select(0.0, dvB[k], validB); }
    }
  }
  // dk, four features per pass over the later keys.
  for (var x4 = 0u; x4 < nd4; x4++) {
    let x0 = 4u * x4;
    var dkA = dka[x4] * scaleA;
    var dkB = dkb[x4] * scaleB;
    if (CAUSAL) {
      for (var jt = tA; jt < L; jt++) {
        let q4 = ld4v((bh * p.n + c0 + jt) * p.sv + x0, p.d - x0);
        dkA += pa[jt] * q4;
        dkB += pb[jt] * q4;
      }
    }
    for (var k = 0u; k < min(4u, p.d - x0); k++) {
      let x = x0 + k;
      out[gA * p.d + x] = select(0.0, (dkA[k] + zc[zbase + x]) * dphi(xd[gA * p.d + x]), validA);
      if (hasB) { out[gB * p.d + x] = select(0.0, (dkB[k] + zc[zbase + x]) * dphi(xd[gB * p.d + x]), validB); }
    }
  }
}
