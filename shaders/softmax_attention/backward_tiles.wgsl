// shaders/softmax_attention/backward_tiles.wgsl: the dOut tile loader of the tiled backward.
fn load_do(bh: u32, r0: u32, lid: u32, threads: u32) {
  let base = (bh * p.n + r0) * p.dv;
  let avail = min(BQ, p.n - r0) * p.dv;
  for (var e = lid; e < BQ * p.dv; e += threads) {
    let r = e / p.dv;
    var x = 0.0;
    if (e < avail) { x = dout[base + e]; }
    do_tile[r * VS + e - r * p.dv] = x;
  }
}
