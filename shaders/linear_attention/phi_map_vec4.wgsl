// shaders/linear_attention/phi_map_vec4.wgsl: phi_map four values an invocation, where the size
// is a multiple of 4 (D = 16 heads always are): a quarter of the invocations, each load and store
// one vec4 instead of four per-lane gathers on SwiftShader. phi is applied per component, as
// phi_map applies it, so the bits are phi_map's.
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

// dst = phi(src), elementwise over p.n vec4s.
@compute @workgroup_size(WG1)
fn phi_map_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let i = grid_index(wid, nwg) * WG1 + lid;
  if (i < p.n) {
    let x = src[i];
    dst[i] = vec4f(phi(x.x), phi(x.y), phi(x.z), phi(x.w));
  }
}
