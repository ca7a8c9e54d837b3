// shaders/linear_attention/attend_rows_dkv.wgsl: dk and dv in one pass ('swiftshader' variant).
// attend_rows_dkv: dk (MODE 2) and dv (MODE 3) of one key token in a single pass, so the reverse
// state (R, mu) is read, and on the momentum path combined to R - gamma alpha_t mu, once for both:
// entry R'[x][o] feeds dv_i[o] += phi(k_i)[x] R'[x][o] and dk_i[x] += R'[x][o] v_i[o]. The in-chunk
// scores of both modes come from one loop over the later keys. Bindings as attend_rows_bwd's
// MODE 2 call (xq = v, xk = g|r, xv = phi(q), xd = k, out = dk), plus xw = phi(k) and out2 = dv.
@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [BH, N, D] dk
@group(0) @binding(8) var<storage, read> xd: array<f32>;           // [BH, N, D] k, for phi'
@group(0) @binding(9) var<storage, read> xw: array<f32>;           // [BH, N, D] phi(k)
@group(0) @binding(10) var<storage, read_write> out2: array<f32>;  // [BH, N, Dv] dv

var<private> vrow: array<f32, MAX_DIM>;     // v_i
var<private> prow3: array<f32, MAX_CHUNK>;  // dv's weighted in-chunk scores, by lag
var<private> dkst: array<f32, MAX_DIM>;     // dk's state term, by feature
var<private> vrowB: array<f32, MAX_DIM>;    // the same for the thread's second token
var<private> prow3B: array<f32, MAX_CHUNK>;
var<private> dkstB: array<f32, MAX_DIM>;

// Loads key token i's rows into slot A (qrow = phi(k_i), vrow, prow, prow3, row_coef, row_scale).
fn dkv_prep(bh: u32, i: u32) {
  let g = bh * p.n + i;
  let c = i / C;
  let t = i - c * C;
  let L = chunk_len(c);
  for (var x = 0u; x < p.d; x++) { qrow[x] = xw[g * p.d + x]; }
  for (var e = 0u; e < p.dv; e++) { vrow[e] = xq[g * p.sq + e]; }
  row_coef = 0.0;
  if (MOMENTUM && CAUSAL) { row_coef = p.gamma * (p.beta * weight_any(L - 1u - t)); }
  row_scale = 1.0;
  if (NC_SCALE && MOMENTUM && !CAUSAL) {
    let nb = seq_len(bh);
    row_scale = p.gamma * weight_any(nb - 1u - min(i, nb - 1u));
  }
  if (CAUSAL) {
    let lags = L - t;
    var w = 1.0;
    for (var lag = 0u; lag < lags; lag++) {
      let krow = g + lag;
      var s2 = 0.0;
      for (var e = 0u; e < p.dv; e++) { s2 += vrow[e] * xk[krow * p.sk + e]; }
      var s3 = 0.0;
      for (var x = 0u; x < p.d; x++) { s3 += qrow[x] * xv[krow * p.sv + x]; }
      if (MOMENTUM) {
        let f = p.gamma * w;
        s2 = s2 * f;
        s3 = s3 * f;
        w = 1.0 + p.beta * w;
      }
      prow[lag] = s2 + xk[krow * p.sk + p.dv];
      prow3[lag] = s3;
    }
  }
}

// In-chunk part of dv columns cols of key token i (row g) from its scores pr (prow3 or prow3B).
fn dkv_intra_dv(g: u32, lags: u32, cols: vec4u, pr: ptr<private, array<f32, MAX_CHUNK>>) -> vec4f {
  var dv4 = vec4f(0.0);
  for (var lag = 0u; lag < lags; lag++) {
    let row = (g + lag) * p.sk;
    dv4 += (*pr)[lag] * vec4f(xk[row + cols.x], xk[row + cols.y], xk[row + cols.z], xk[row + cols.w]);
  }
  return dv4;
}

// In-chunk part of dk features xs of key token i (row g) from its scores pr (prow or prowB).
fn dkv_intra_dk(g: u32, lags: u32, xs: vec4u, pr: ptr<private, array<f32, MAX_CHUNK>>) -> vec4f {
  var dk4 = vec4f(0.0);
  for (var lag = 0u; lag < lags; lag++) {
    let row = (g + lag) * p.sv;
    dk4 += (*pr)[lag] * vec4f(xv[row + xs.x], xv[row + xs.y], xv[row + xs.z], xv[row + xs.w]);
  }
  return dk4;
}

// Each thread owns two neighbouring key tokens (2k, 2k + 1: one chunk, as C is even; the second
// repeats the first past the end of the sequence and is masked from the stores), so every reverse
// state entry (pair) it loads serves both.
@compute @workgroup_size(WG1)
fn attend_rows_dkv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let gt = grid_index(wid, nwg) * WG1 + lid;
  if (gt >= p.nbh * ((p.n + 1u) / 2u)) { return; }
  let pr = row_pair(gt);
  let bh = pr.x;
  let iA = pr.y;
  let iB = pr.z;
  let hasB = iA + 1u < p.n;
  let gA = bh * p.n + iA;
  let gB = bh * p.n + iB;
  let c = iA / C;
  let L = chunk_len(c);
  let zbase = z_base(bh, c);
  let stbase = zbase * p.dv;
  dkv_prep(bh, iB);
  for (var x = 0u; x < p.d; x++) { qrowB[x] = qrow[x]; dkstB[x] = 0.0; dkst[x] = 0.0; }
  for (var e = 0u; e < p.dv; e++) { vrowB[e] = vrow[e]; }
  for (var l = 0u; l < C; l++) { prowB[l] = prow[l]; prow3B[l] = prow3[l]; }
  let coefB = row_coef;
  let scaleB = row_scale;
  dkv_prep(bh, iA);
  let lagsA = L - (iA - c * C);
  let lagsB = L - (iB - c * C);
  // A padding key (past the example's length) is seen by no query: its gradients are 0.
  let nb = seq_len(bh);
  let validA = iA < nb;
  let validB = iB < nb;
  // dv, four columns per pass over the state; dk's state term accumulates beside it.
  let lastv = p.dv - 1u;
  for (var o = 0u; o < p.dv; o += 4u) {
    let cols = vec4u(o, min(o + 1u, lastv), min(o + 2u, lastv), min(o + 3u, lastv));
    // Columns past Dv repeat the last one: keep them out of dk's dot product.
    let live = vec4<bool>(true, o + 1u < p.dv, o + 2u < p.dv, o + 3u < p.dv);
    let vA = select(vec4f(0.0), vec4f(vrow[cols.x], vrow[cols.y], vrow[cols.z], vrow[cols.w]), live);
    let vB = select(vec4f(0.0), vec4f(vrowB[cols.x], vrowB[cols.y], vrowB[cols.z], vrowB[cols.w]), live);
    var dvA = vec4f(0.0);
    var dvB = vec4f(0.0);
    for (var x = 0u; x < p.d; x++) {
      let at = stbase + x * p.dv + cols;
      var sA: vec4f;
      var sB: vec4f;
      if (MOMENTUM && CAUSAL) {
        // The reverse state as each key sees it: R - gamma alpha_t mu.
        let e0 = st2[at.x];
        let e1 = st2[at.y];
        let e2 = st2[at.z];
        let e3 = st2[at.w];
        let sv = vec4f(e0.x, e1.x, e2.x, e3.x);
        let mv = vec4f(e0.y, e1.y, e2.y, e3.y);
        sA = sv - row_coef * mv;
        sB = sv - coefB * mv;
      } else {
        sA = vec4f(st[at.x * SP], st[at.y * SP], st[at.z * SP], st[at.w * SP]);
        sB = sA;
      }
      dvA += qrow[x] * sA;
      dvB += qrowB[x] * sB;
      dkst[x] += dot(sA, vA);
      dkstB[x] += dot(sB, vB);
    }
    if (NC_SCALE && MOMENTUM && !CAUSAL) {
      dvA = dvA * row_scale;
      dvB = dvB * scaleB;
    }
    if (CAUSAL) {
      dvA += dkv_intra_dv(gA, lagsA, cols, &prow3);
      dvB += dkv_intra_dv(gB, lagsB, cols, &prow3B);
    }
    for (var k = 0u; k < min(4u, p.dv - o); k++) {
      out2[gA * p.dv + o + k] = select(0.0, dvA[k], validA);
      if (hasB) { out2[gB * p.dv + o + k] = select(0.0, dvB[k], validB); }
    }
  }
  // dk, four features per pass over the later keys.
  let lastd = p.d - 1u;
  for (var x0 = 0u; x0 < p.d; x0 += 4u) {
    let xs = vec4u(x0, min(x0 + 1u, lastd), min(x0 + 2u, lastd), min(x0 + 3u, lastd));
    var dkA = vec4f(dkst[xs.x], dkst[xs.y], dkst[xs.z], dkst[xs.w]);
    var dkB = vec4f(dkstB[xs.x], dkstB[xs.y], dkstB[xs.z], dkstB[xs.w]);
    if (NC_SCALE && MOMENTUM && !CAUSAL) {
      dkA = dkA * row_scale;
      dkB = dkB * scaleB;
    }
    if (CAUSAL) {
      dkA += dkv_intra_dk(gA, lagsA, xs, &prow);
      dkB += dkv_intra_dk(gB, lagsB, xs, &prowB);
    }
    for (var k = 0u; k < min(4u, p.d - x0); k++) {
      let x = x0 + k;
      out[gA * p.d + x] = select(0.0, (dkA[k] + zc[zbase + x]) * dphi(xd[gA * p.d + x]), validA);
      if (hasB) { out[gB * p.d + x] = select(0.0, (dkB[k] + zc[zbase + x]) * dphi(xd[gB * p.d + x]), validB); }
    }
  }
}
