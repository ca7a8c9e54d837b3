// Layer 1: m_0 = 0, so m = g and beta~ plays no part.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;

@compute @workgroup_size(WG)
fn fixed_forward_first(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let gi = g[i];
  m[i] = gi;
  out[i] = x[i] + p.gamma * gi;
}
