// Engine core: what the tape itself needs. Gradient accumulation (dst += src) and constant fill.
// Elements are addressed through a 2-D grid so long tensors stay under the per-dimension limit.
// src/engine/tensor.ts prepends `alias V = vec4f;` where the size is a multiple of 4 (four values
// per invocation, as the elementwise maps) and `alias V = f32;` otherwise.

struct CoreParams {
  n: u32,        // number of elements V
  value: f32,    // fill value
}

@group(0) @binding(0) var<uniform> p: CoreParams;
@group(0) @binding(1) var<storage, read_write> dst: array<V>;
@group(0) @binding(2) var<storage, read> src: array<V>;

override WG: u32 = 256;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return grid_index(wid, nwg) * WG + lid;
}

@compute @workgroup_size(WG)
fn accumulate(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i < p.n) { dst[i] = dst[i] + src[i]; }
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i < p.n) { dst[i] = V(p.value); }
}
