// After fixed.wgsl and grads.wgsl: dx = dOut, dg = dm, dmPrev = beta~ dm.

@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> dg: array<f32>;
@group(0) @binding(5) var<storage, read_write> dm_prev: array<f32>;

@compute @workgroup_size(WG)
fn fixed_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let d = total_dm(i);
  dx[i] = total_dx(i);
  dg[i] = d;
  dm_prev[i] = p.beta * d;
}
