// After adaptive.wgsl and grads.wgsl. Backward, elementwise pass over all R*C values: dg, dgPrev
// and dmPrev from the row pass's coefficients.

@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> g_prev: array<f32>;
@group(0) @binding(5) var<storage, read> coef_in: array<f32>;       // [R, COEF], from the row pass
@group(0) @binding(6) var<storage, read_write> dg: array<f32>;
@group(0) @binding(7) var<storage, read_write> dg_prev: array<f32>;
@group(0) @binding(8) var<storage, read_write> dm_prev: array<f32>;

override WE: u32 = 256;

@compute @workgroup_size(WE)
fn adaptive_backward_elems(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                           @builtin(local_invocation_index) lid: u32) {
  let i = grid_index(wid, nwg) * WE + lid;
  if (i >= p.rows * p.cols) { return; }
  let row = i / p.cols;
  let b = coef_in[COEF * row];
  let ca = coef_in[COEF * row + 1u];
  let cp = coef_in[COEF * row + 2u];
  let d = total_dm(i);
  let gp = g_prev[i];
  let a = g[i] - gp;
  dg[i] = d + ca * a;
  dg_prev[i] = cp * gp - ca * a;
  dm_prev[i] = b * d;
}
