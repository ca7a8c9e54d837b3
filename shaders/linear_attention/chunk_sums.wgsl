// shaders/linear_attention/chunk_sums.wgsl: the first pass of the tiled scan.
// chunk_sums: for chunk c, H_c = sum_tau W(lag) a_tau b_tau^T, G_c = sum_tau beta^lag a_tau b_tau^T
// (lag = distance to the chunk's end in the scan's direction) and zs_c = sum_tau [r_tau] a_tau,
// with a = phi(k), b = v forward, a = phi(q), b = g reverse. Written to slot c as (H, G) pairs
// (H alone without momentum); `scan` turns them into carried states in place. A workgroup owns
// one (T RT) x (T ST) tile of the D x Dv sums.
// sh: a slice [KS][T RT] at 0, b slice [KS][T ST] after it, then r [KS].
@group(0) @binding(1) var<storage, read> a: array<f32>;             // [BH, N, sq]: k, or q (reverse)
@group(0) @binding(2) var<storage, read> b: array<f32>;             // [BH, N, sk]: v, or g|r (reverse)
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;      // [BH, NC+1, D, Dv, P]
@group(0) @binding(4) var<storage, read_write> zs: array<f32>;      // [BH, NC+1, D]

override HAS_ZW: bool = false;    // weight the z sums by r (b's column Dv): the backward's scan

@compute @workgroup_size(T, T)
fn chunk_sums(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let bh = wid.y;
  let tiles = p.nblk * p.nblk2;
  let c = wid.x / tiles;
  let td = (wid.x % tiles) / p.nblk2;
  let te = wid.x % p.nblk2;
  let tx = lid % T;
  let ty = lid / T;
  let DT = T * RT;
  let ET = T * ST;
  let d0 = td * DT;
  let e0 = te * ET;
  let s0 = c * C;
  let L = chunk_len_in(c, seq_len(bh));
  let bs_off = KS * DT;
  let zw_off = bs_off + KS * ET;
  if (MOMENTUM) { fill_tables(lid); }

  var hacc: array<f32, 16>;   // [MAX_R][MAX_S]
  var gacc: array<f32, 16>;
  var zacc: array<f32, 4>;
  for (var i = 0u; i < MAX_R * MAX_S; i++) { hacc[i] = 0.0; gacc[i] = 0.0; }
  for (var i = 0u; i < MAX_R; i++) { zacc[i] = 0.0; }

  for (var t0 = 0u; t0 < L; t0 += KS) {
    for (var idx = lid; idx < KS * DT; idx += T * T) {
      let tt = idx / DT;
      let dd = idx % DT;
      var val = 0.0;
      if (t0 + tt < L && d0 + dd < p.d) {
        val = phi(a[(bh * p.n + s0 + t0 + tt) * p.sq + d0 + dd]);
      }
      sh[idx] = val;
    }
    for (var idx = lid; idx < KS * ET; idx += T * T) {
      let tt = idx / ET;
      let ee = idx % ET;
      var val = 0.0;
      if (t0 + tt < L && e0 + ee < p.dv) {
        val = b[(bh * p.n + s0 + t0 + tt) * p.sk + e0 + ee];
      }
      sh[bs_off + idx] = val;
    }
    if (HAS_ZW) {
      for (var tt = lid; tt < KS; tt += T * T) {
        var val = 0.0;
        if (t0 + tt < L) { val = b[(bh * p.n + s0 + t0 + tt) * p.sk + p.dv]; }
        sh[zw_off + tt] = val;
      }
    }
    workgroupBarrier();
    let tn = min(KS, L - t0);
    for (var tt = 0u; tt < tn; tt++) {
      let tau = t0 + tt;
      let lag = select(L - 1u - tau, tau, REVERSE);
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var r = 0u; r < RT; r++) { av[r] = sh[tt * DT + ty + T * r]; }
      for (var s = 0u; s < ST; s++) { bv[s] = sh[bs_off + tt * ET + tx + T * s]; }
      if (MOMENTUM) {
        let wh = wtab[lag];
        let wg = ptab[lag];
        for (var r = 0u; r < RT; r++) {
          let ah = wh * av[r];
          let ag = wg * av[r];
          for (var s = 0u; s < ST; s++) {
            hacc[r * MAX_S + s] += ah * bv[s];
            gacc[r * MAX_S + s] += ag * bv[s];
          }
        }
      } else {
        for (var r = 0u; r < RT; r++) {
          for (var s = 0u; s < ST; s++) { hacc[r * MAX_S + s] += av[r] * bv[s]; }
        }
      }
      if (tx == 0u) {
        var zw = 1.0;
        if (HAS_ZW) { zw = sh[zw_off + tt]; }
        for (var r = 0u; r < RT; r++) { zacc[r] += zw * av[r]; }
      }
    }
    workgroupBarrier();
  }

  let base = (bh * (p.nc + 1u) + c) * p.d * p.dv;
  for (var r = 0u; r < RT; r++) {
    let d = d0 + ty + T * r;
    if (d >= p.d) { continue; }
    for (var s = 0u; s < ST; s++) {
      let e = e0 + tx + T * s;
      if (e >= p.dv) { continue; }
      hs[(base + d * p.dv + e) * pairs()] = hacc[r * MAX_S + s];
      if (MOMENTUM) { hs[(base + d * p.dv + e) * 2u + 1u] = gacc[r * MAX_S + s]; }
    }
    if (tx == 0u && te == 0u) { zs[(bh * (p.nc + 1u) + c) * p.d + d] = zacc[r]; }
  }
}
