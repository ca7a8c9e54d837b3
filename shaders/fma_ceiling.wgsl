// The device's FMA ceiling: every invocation runs CHAINS independent vec4 fused multiply-add
// chains for `iters` rounds (8 flops per vec4 FMA), so nothing waits on memory or on the previous
// FMA of its own chain. Each chain converges to 1 (x <- 0.9999 x + 1e-4): no overflow, no
// denormals. The sum of the chains is written per invocation, so the compiler cannot drop them.
// Flops of one dispatch: invocations * iters * CHAINS * 4 lanes * 2.

override WG: u32 = 64;
const CHAINS: u32 = 8u;

struct FmaParams {
  iters: u32,   // rounds of CHAINS vec4 FMAs per invocation
  rowLen: u32,  // invocations per row of the grid (num_workgroups.x * WG)
  seed: f32,    // a value the compiler cannot know (0 in practice)
  pad: f32,
}

@group(0) @binding(0) var<uniform> fp: FmaParams;
@group(0) @binding(1) var<storage, read_write> fmaOut: array<f32>; // [invocations]

@compute @workgroup_size(WG)
fn fma_ceiling(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * fp.rowLen;
  let s = f32(i % 1024u) * 1e-4 + fp.seed;
  var a0 = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + vec4<f32>(0.01);
  var a2 = a0 + vec4<f32>(0.02);
  var a3 = a0 + vec4<f32>(0.03);
  var a4 = a0 + vec4<f32>(0.04);
  var a5 = a0 + vec4<f32>(0.05);
  var a6 = a0 + vec4<f32>(0.06);
  var a7 = a0 + vec4<f32>(0.07);
  let m = vec4<f32>(0.9999 + fp.pad);
  let c = vec4<f32>(1e-4);
  for (var t = 0u; t < fp.iters; t++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  let sum = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7);
  fmaOut[i] = sum.x + sum.y + sum.z + sum.w;
}
