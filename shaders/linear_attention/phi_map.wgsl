// shaders/linear_attention/phi_map.wgsl: phi(q), phi(k) rows for the 'swiftshader' variant,
// whose row kernels read each key row up to C times.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// dst = phi(src), elementwise over p.n values.
@compute @workgroup_size(WG1)
fn phi_map(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) lid: u32) {
  let i = grid_index(wid, nwg) * WG1 + lid;
  if (i < p.n) { dst[i] = phi(src[i]); }
}
