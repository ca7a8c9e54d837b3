// shaders/linear_attention/sums_scan_rows.wgsl: the scan of the 'swiftshader' variant.
// sums_scan_rows: chunk_sums and scan in one pass, one thread per (batch * head, 4 rows d,
// 4 columns e of the state) walking every chunk in scan order: it writes the state carried into
// the chunk, forms the chunk's sums in registers (tokens by increasing lag, so W and beta^lag
// advance by one Horner step each) and advances the carried state by them exactly as `scan` does,
// so the sums never go through memory and no second pass reads them back.
// a and b are read through vec4 views (bound rounded up to 16 bytes): four neighbouring floats
// are one vec4 load where VA (VB) says the row stride and head size are multiples of 4, else two
// and a shift, not four per-lane gathers.
@group(0) @binding(1) var<storage, read> a4v: array<vec4f>;         // [BH, N, sq]: phi(k), or phi(q) (reverse)
@group(0) @binding(2) var<storage, read> b4v: array<vec4f>;         // [BH, N, sk]: v, or g|r (reverse)
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;      // [BH, NC+1, D, Dv, P]
@group(0) @binding(4) var<storage, read_write> zs: array<f32>;      // [BH, NC+1, D]

override HAS_ZW: bool = false;    // weight the z sums by r (b's column Dv): the backward's scan
override VA: bool = false;
override VB: bool = false;

// Floats at .. at + 3, lanes n and beyond 0.
fn b4(base: u32, e: u32) -> vec4f {
  let at = base + e;
  if (VB) { return b4v[at >> 2u]; }
  let r = shift4(b4v[at >> 2u], b4v[(at >> 2u) + 1u], at & 3u);
  return select(vec4f(0.0), r, vec4u(e, e + 1u, e + 2u, e + 3u) < vec4u(p.dv));
}

fn a4(base: u32, d: u32) -> vec4f {
  let at = base + d;
  if (VA) { return a4v[at >> 2u]; }
  let r = shift4(a4v[at >> 2u], a4v[(at >> 2u) + 1u], at & 3u);
  return select(vec4f(0.0), r, vec4u(d, d + 1u, d + 2u, d + 3u) < vec4u(p.d));
}

// Writes row d, columns e..e+3 of a state slot: (h, g) pairs with momentum, h alone without.
fn store_sums(base: u32, d: u32, e: u32, h: vec4f, g: vec4f) {
  if (d >= p.d) { return; }
  for (var k = 0u; k < 4u; k++) {
    if (e + k < p.dv) {
      let at = base + d * p.dv + e + k;
      hs[at * pairs()] = h[k];
      if (MOMENTUM) { hs[at * 2u + 1u] = g[k]; }
    }
  }
}

@compute @workgroup_size(WG1)
fn sums_scan_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let idx = grid_index(wid, nwg) * WG1 + lid;
  let egroups = (p.dv + 3u) / 4u;
  let dgroups = (p.d + 3u) / 4u;
  if (idx >= p.nbh * dgroups * egroups) { return; }
  let e = (idx % egroups) * 4u;
  let rest = idx / egroups;
  let d = (rest % dgroups) * 4u;
  let bh = rest / dgroups;
  // Carried (S, m) rows d..d+3 over columns e..e+3, and z rows d..d+3.
  var cs0 = vec4f(0.0);
  var cs1 = vec4f(0.0);
  var cs2 = vec4f(0.0);
  var cs3 = vec4f(0.0);
  var cm0 = vec4f(0.0);
  var cm1 = vec4f(0.0);
  var cm2 = vec4f(0.0);
  var cm3 = vec4f(0.0);
  var cz = vec4f(0.0);
  let nb = seq_len(bh);
  for (var k = 0u; k < p.nc; k++) {
    let c = select(k, p.nc - 1u - k, REVERSE);
    let L = chunk_len_in(c, nb);
    let base = (bh * (p.nc + 1u) + c) * p.d * p.dv;
    store_sums(base, d, e, cs0, cm0);
    store_sums(base, d + 1u, e, cs1, cm1);
    store_sums(base, d + 2u, e, cs2, cm2);
    store_sums(base, d + 3u, e, cs3, cm3);
    if (e == 0u) {
      for (var r = 0u; r < 4u; r++) {
        if (d + r < p.d) { zs[(bh * (p.nc + 1u) + c) * p.d + d + r] = cz[r]; }
      }
    }
    // A chunk past the example's length is empty: it leaves the state as it is.
    if (L == 0u) { continue; }
    var h0 = vec4f(0.0);
    var h1 = vec4f(0.0);
    var h2 = vec4f(0.0);
    var h3 = vec4f(0.0);
    var g0 = vec4f(0.0);
    var g1 = vec4f(0.0);
    var g2 = vec4f(0.0);
    var g3 = vec4f(0.0);
    var zsum = vec4f(0.0);
    var w = 1.0;
    var wl = 1.0;   // W(L - 1) once the loop ends
    var pw = 1.0;
    for (var lag = 0u; lag < L; lag++) {
      let tau = select(L - 1u - lag, lag, REVERSE);
      let tok = bh * p.n + c * C + tau;
      let av = a4(tok * p.sq, d);
      let bv = b4(tok * p.sk, e);
      if (MOMENTUM) {
        let ah = w * av;
        let ag = pw * av;
        h0 += ah.x * bv;
        h1 += ah.y * bv;
        h2 += ah.z * bv;
        h3 += ah.w * bv;
        g0 += ag.x * bv;
        g1 += ag.y * bv;
        g2 += ag.z * bv;
        g3 += ag.w * bv;
        wl = w;
        w = 1.0 + p.beta * w;
        pw = pw * p.beta;
      } else {
        h0 += av.x * bv;
        h1 += av.y * bv;
        h2 += av.z * bv;
        h3 += av.w * bv;
      }
      if (e == 0u) {
        var zw = 1.0;
        if (HAS_ZW) { let at = tok * p.sk + p.dv; zw = b4v[at >> 2u][at & 3u]; }
        zsum += zw * av;
      }
    }
    if (MOMENTUM) {
      // As scan: S' = S - gamma beta W(L - 1) m + gamma H, m' = beta^L m - G.
      let ca = p.gamma * (p.beta * wl);
      cs0 = cs0 - ca * cm0 + p.gamma * h0;
      cs1 = cs1 - ca * cm1 + p.gamma * h1;
      cs2 = cs2 - ca * cm2 + p.gamma * h2;
      cs3 = cs3 - ca * cm3 + p.gamma * h3;
      cm0 = pw * cm0 - g0;
      cm1 = pw * cm1 - g1;
      cm2 = pw * cm2 - g2;
      cm3 = pw * cm3 - g3;
    } else {
      cs0 = cs0 + h0;
      cs1 = cs1 + h1;
      cs2 = cs2 + h2;
      cs3 = cs3 + h3;
    }
    cz = cz + zsum;
  }
  let base = (bh * (p.nc + 1u) + p.nc) * p.d * p.dv;
  store_sums(base, d, e, cs0, cm0);
  store_sums(base, d + 1u, e, cs1, cm1);
  store_sums(base, d + 2u, e, cs2, cm2);
  store_sums(base, d + 3u, e, cs3, cm3);
  if (e == 0u) {
    for (var r = 0u; r < 4u; r++) {
      if (d + r < p.d) { zs[(bh * (p.nc + 1u) + p.nc) * p.d + d + r] = cz[r]; }
    }
  }
}
