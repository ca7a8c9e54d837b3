// embed_forward, after params.wgsl and sinusoid.wgsl. Forward: one thread per (position n, output
// feature c), looping over the batch. The position code of (n, c) is the same in every sequence:
// computed once, written B times. Neighbouring threads take neighbouring features, so every store
// of the loop is coalesced.

@group(0) @binding(1) var<storage, read> ids: array<u32>;        // [B, N]
@group(0) @binding(2) var<storage, read> table: array<f32>;      // [V, E]
@group(0) @binding(3) var<storage, read> pos_table: array<f32>;  // [Nmax, P]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // [B, N, C]

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn embed_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let i = grid_index(wid, nwg) * WG + lid;
  if (i >= p.seq * p.width) { return; }
  let n = i / p.width;
  let c = i % p.width;
  var code = 0.0;
  if (p.pos_kind != POS_NONE && c >= p.column && c < p.column + p.pos_dim) {
    let j = c - p.column;
    let at = n + p.pos_offset;
    if (p.pos_kind == POS_LEARNED) {
      code = pos_table[at * p.pos_dim + j];
    } else {
      code = sinusoid(at, j, p.pos_dim);
    }
  }
  let batch = p.rows / p.seq;
  for (var b = 0u; b < batch; b++) {
    let row = b * p.seq + n;
    var v = code;
    if (c < p.dim) {
      let id = ids[row];
      v += select(runtime_nan(id), table[min(id, p.vocab - 1u) * p.dim + c], id < p.vocab);
    }
    out[row * p.width + c] = v;
  }
}
