// Masked mean pooling over the sequence, the encoder's pooled representation (as the authors'
// LRA code pools): y[b, c] = (1 / L_b) sum_{t < L_b} x[b, t, c], with L_b = lengths[b] the tokens
// before the right padding. Pooling a CLS token is the same with every length 1.
// One invocation per output feature (b, c): consecutive invocations read consecutive c of one
// token row, so every load of the loop over t is coalesced; the sum runs in a fixed order.

struct PoolParams {
  batch: u32,   // B
  seq: u32,     // N
  width: u32,   // C
}

@group(0) @binding(0) var<uniform> p: PoolParams;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;   // [B]
@group(0) @binding(2) var<storage, read> src: array<f32>;       // forward: x [B, N, C]; backward: dy [B, C]
@group(0) @binding(3) var<storage, read_write> dst: array<f32>; // forward: y [B, C]; backward: dx [B, N, C]

override WG: u32 = 256;

// Tokens pooled for row b: lengths[b] within [1, N] (the op checks them; this is only a bound).
fn pooled(b: u32) -> u32 {
  return clamp(lengths[b], 1u, p.seq);
}

// y [B, C] <- mean of the first L_b rows of x [B, N, C].
@compute @workgroup_size(WG)
fn mean_pool_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let o = grid_index(wid, nwg) * WG + lid;
  if (o >= p.batch * p.width) { return; }
  let c = o % p.width;
  let b = o / p.width;
  let count = pooled(b);
  var acc = 0.0;
  for (var t = 0u; t < count; t++) {
    acc += src[(b * p.seq + t) * p.width + c];
  }
  dst[o] = acc / f32(count);
}

// dx [B, N, C] <- dy[b, c] / L_b on the first L_b rows, 0 on the padding.
@compute @workgroup_size(WG)
fn mean_pool_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let o = grid_index(wid, nwg) * WG + lid;
  if (o >= p.batch * p.seq * p.width) { return; }
  let c = o % p.width;
  let t = (o / p.width) % p.seq;
  let b = o / (p.width * p.seq);
  let count = pooled(b);
  dst[o] = select(0.0, src[b * p.width + c] / f32(count), t < count);
}
