// shaders/linear_attention/phi_map.wgsl: phi(q), phi(k) rows for the 'swiftshader' variant,
// whose row kernels read each key row up to C times. Values are read as V: shaders.ts prepends
// `alias V = vec4f;` and phi_v applying phi per component where the size is a multiple of 4 (a
// quarter of the invocations, one vec4 load and store each instead of four per-lane gathers on
// SwiftShader; the same bits), `alias V = f32;` otherwise.
@group(0) @binding(1) var<storage, read> src: array<V>;
@group(0) @binding(2) var<storage, read_write> dst: array<V>;

// dst = phi(src), elementwise over p.n values V.
@compute @workgroup_size(WG1)
fn phi_map(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) lid: u32) {
  let i = grid_index(wid, nwg) * WG1 + lid;
  if (i < p.n) { dst[i] = phi_v(src[i]); }
}
