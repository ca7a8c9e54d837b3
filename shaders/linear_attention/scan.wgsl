// shaders/linear_attention/scan.wgsl: the second pass of the tiled scan.
// scan: one thread per entry of (S, m) or of z, looping over the chunks in scan order. Slot c
// holds chunk c's sums on entry and the state carried into chunk c on exit; slot NC gets the
// state after the whole sequence (the non-causal state).
@group(0) @binding(1) var<storage, read_write> hs: array<f32>;      // [BH, NC+1, D, Dv, P]
@group(0) @binding(2) var<storage, read_write> zs: array<f32>;      // [BH, NC+1, D]

@compute @workgroup_size(WG1)
fn scan(@builtin(global_invocation_id) gid: vec3u) {
  let bh = gid.y;
  let idx = gid.x;
  let nst = p.d * p.dv;
  if (idx >= nst + p.d) { return; }
  // Coefficients of a full chunk and of the (possibly shorter) last one of this example; chunks
  // past its length are empty and leave the state as it is.
  let nb = seq_len(bh);
  let nc_b = (nb + C - 1u) / C;
  let last_len = nb - (nc_b - 1u) * C;
  var w_full = 1.0;
  var p_full = 1.0;
  var w_last = 1.0;
  var p_last = 1.0;
  if (MOMENTUM) {
    // W(L - 1) by Horner and beta^L, for L = C and L = last_len.
    for (var s = 1u; s < C; s++) {
      w_full = 1.0 + p.beta * w_full;
      if (s < last_len) { w_last = w_full; }
    }
    for (var s = 0u; s < C; s++) {
      p_full = p_full * p.beta;
      if (s < last_len) { p_last = p_full; }
    }
  }
  if (idx < nst) {
    var cs = 0.0;
    var cm = 0.0;
    for (var k = 0u; k < p.nc; k++) {
      let c = select(k, p.nc - 1u - k, REVERSE);
      let off = ((bh * (p.nc + 1u) + c) * nst + idx) * pairs();
      let h = hs[off];
      hs[off] = cs;
      if (MOMENTUM) {
        let g = hs[off + 1u];
        hs[off + 1u] = cm;
        if (c >= nc_b) { continue; }
        let is_last = c == nc_b - 1u;
        let a_l = p.beta * select(w_full, w_last, is_last);
        let b_l = select(p_full, p_last, is_last);
        let ncs = cs - (p.gamma * a_l) * cm + p.gamma * h;
        cm = b_l * cm - g;
        cs = ncs;
      } else {
        cs = cs + h;
      }
    }
    let off = ((bh * (p.nc + 1u) + p.nc) * nst + idx) * pairs();
    hs[off] = cs;
    if (MOMENTUM) { hs[off + 1u] = cm; }
  } else {
    let d = idx - nst;
    var cz = 0.0;
    for (var k = 0u; k < p.nc; k++) {
      let c = select(k, p.nc - 1u - k, REVERSE);
      let off = (bh * (p.nc + 1u) + c) * p.d + d;
      let h = zs[off];
      zs[off] = cz;
      cz = cz + h;
    }
    zs[(bh * (p.nc + 1u) + p.nc) * p.d + d] = cz;
  }
}
