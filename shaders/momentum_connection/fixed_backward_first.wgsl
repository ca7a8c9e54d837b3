// After fixed.wgsl and grads.wgsl, for layer 1 (no m_prev): dx = dOut, dg = dm.

@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> dg: array<f32>;

@compute @workgroup_size(WG)
fn fixed_backward_first(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  dx[i] = total_dx(i);
  dg[i] = total_dm(i);
}
