// Head reshapes between the fused projection layout [B, N, P, H, D] (P parts, e.g. q, k, v, each
// of H heads of D features, as one [B, N, P*H*D] matrix) and the per-head layout [B, H, N, D]
// that attention reads. One dispatch moves one part: `gather_part` reads part `part` out of the
// fused layout (split forward, merge backward); `scatter_part` writes it back (split backward,
// merge forward). Invocations follow the destination's order and D is innermost on both sides,
// so reads and writes both run along contiguous D-long segments.

struct HeadsParams {
  batch: u32,   // B
  heads: u32,   // H
  seq: u32,     // N
  dim: u32,     // D
  parts: u32,   // P
  part: u32,    // which part this dispatch moves, < P
}

@group(0) @binding(0) var<uniform> p: HeadsParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
// The second and third destinations of the three-part gathers (gather_part3, gather_rows3).
@group(0) @binding(3) var<storage, read_write> dst1: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst2: array<f32>;

override WG: u32 = 256;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return grid_index(wid, nwg) * WG + lid;
}

// Index of (b, n, part, h, d) in the fused [B, N, P, H, D] layout.
fn fused_at(b: u32, n: u32, part: u32, h: u32, d: u32) -> u32 {
  return (((b * p.seq + n) * p.parts + part) * p.heads + h) * p.dim + d;
}

fn fused_index(b: u32, n: u32, h: u32, d: u32) -> u32 {
  return fused_at(b, n, p.part, h, d);
}

// (b, h, n, d) of element o of a per-head tensor [B, H, N, D].
fn per_head_coords(o: u32) -> vec4u {
  return vec4u(o / (p.dim * p.seq * p.heads), (o / (p.dim * p.seq)) % p.heads, (o / p.dim) % p.seq, o % p.dim);
}

// dst [B, H, N, D] <- part `part` of src [B, N, P*H*D].
@compute @workgroup_size(WG)
fn gather_part(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let o = flat(wid, nwg, lid);
  if (o >= p.batch * p.heads * p.seq * p.dim) { return; }
  let c = per_head_coords(o);
  dst[o] = src[fused_index(c.x, c.z, c.y, c.w)];
}

// A fused q | k | v projection (P = 3) in one dispatch instead of three: dst, dst1, dst2
// [B, H, N, D] <- parts 0, 1, 2 of src [B, N, 3*H*D], element o of each.
@compute @workgroup_size(WG)
fn gather_part3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let o = flat(wid, nwg, lid);
  if (o >= p.batch * p.heads * p.seq * p.dim) { return; }
  let c = per_head_coords(o);
  let s0 = fused_at(c.x, c.z, 0u, c.y, c.w);
  let stride = p.heads * p.dim;  // from one part to the next
  dst[o] = src[s0];
  dst1[o] = src[s0 + stride];
  dst2[o] = src[s0 + 2u * stride];
}

// Part `part` of dst [B, N, P*H*D] <- src [B, H, N, D]; the other parts are left as they are.
@compute @workgroup_size(WG)
fn scatter_part(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let o = flat(wid, nwg, lid);   // position in [B, N, H, D], the part's slice of dst
  if (o >= p.batch * p.seq * p.heads * p.dim) { return; }
  let d = o % p.dim;
  let h = (o / p.dim) % p.heads;
  let n = (o / (p.dim * p.heads)) % p.seq;
  let b = o / (p.dim * p.heads * p.seq);
  dst[fused_index(b, n, h, d)] = src[((b * p.heads + h) * p.seq + n) * p.dim + d];
}

// The 'swiftshader' variant (HEADS in src/engine/variants.ts): one invocation per D-long row, so
// the index arithmetic (emulated integer divisions there) is paid once a row instead of once an
// element. Same moves as gather_part and scatter_part, rows in the destination's order.

// (b, h, n) of row r of a per-head tensor [B, H, N, D].
fn per_head_row(r: u32) -> vec3u {
  return vec3u(r / (p.seq * p.heads), (r / p.seq) % p.heads, r % p.seq);
}

// dst[d0 ..] <- src[s0 ..], D values, four at a time (loads before stores) and then the rest.
fn copy_row(s0: u32, d0: u32) {
  var d = 0u;
  for (; d + 4u <= p.dim; d += 4u) {
    let v = vec4f(src[s0 + d], src[s0 + d + 1u], src[s0 + d + 2u], src[s0 + d + 3u]);
    dst[d0 + d] = v.x;
    dst[d0 + d + 1u] = v.y;
    dst[d0 + d + 2u] = v.z;
    dst[d0 + d + 3u] = v.w;
  }
  for (; d < p.dim; d++) { dst[d0 + d] = src[s0 + d]; }
}

// dst [B, H, N, D] <- part `part` of src [B, N, P*H*D], row r = (b, h, n) of dst.
@compute @workgroup_size(WG)
fn gather_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let r = flat(wid, nwg, lid);
  if (r >= p.batch * p.heads * p.seq) { return; }
  let c = per_head_row(r);
  let s0 = fused_index(c.x, c.z, c.y, 0u);
  let d0 = r * p.dim;
  copy_row(s0, d0);
}

// gather_part3 a row at a time: row r = (b, h, n) of dst, dst1 and dst2 from parts 0, 1, 2.
@compute @workgroup_size(WG)
fn gather_rows3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let r = flat(wid, nwg, lid);
  if (r >= p.batch * p.heads * p.seq) { return; }
  let c = per_head_row(r);
  let s0 = fused_at(c.x, c.z, 0u, c.y, 0u);
  let s1 = s0 + p.heads * p.dim;
  let s2 = s1 + p.heads * p.dim;
  let d0 = r * p.dim;
  var d = 0u;
  for (; d + 4u <= p.dim; d += 4u) {
    let u = vec4f(src[s0 + d], src[s0 + d + 1u], src[s0 + d + 2u], src[s0 + d + 3u]);
    let v = vec4f(src[s1 + d], src[s1 + d + 1u], src[s1 + d + 2u], src[s1 + d + 3u]);
    let w = vec4f(src[s2 + d], src[s2 + d + 1u], src[s2 + d + 2u], src[s2 + d + 3u]);
    for (var t = 0u; t < 4u; t++) {
      dst[d0 + d + t] = u[t];
      dst1[d0 + d + t] = v[t];
      dst2[d0 + d + t] = w[t];
    }
  }
  for (; d < p.dim; d++) {
    dst[d0 + d] = src[s0 + d];
    dst1[d0 + d] = src[s1 + d];
    dst2[d0 + d] = src[s2 + d];
  }
}

// Part `part` of dst [B, N, P*H*D] <- src [B, H, N, D], row r = (b, n, h) of the part's slice.
@compute @workgroup_size(WG)
fn scatter_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let r = flat(wid, nwg, lid);
  if (r >= p.batch * p.seq * p.heads) { return; }
  let h = r % p.heads;
  let n = (r / p.heads) % p.seq;
  let b = r / (p.heads * p.seq);
  let s0 = ((b * p.heads + h) * p.seq + n) * p.dim;
  let d0 = fused_index(b, n, h, 0u);
  copy_row(s0, d0);
}
