// A and B as f32 arrays, for the product kernels that take any shape (register.wgsl, tiled.wgsl).
@group(0) @binding(1) var<storage, read> a: array<f32>;  // [batch | 1, M, K] or [.., K, M] if TRANS_A
@group(0) @binding(2) var<storage, read> b: array<f32>;  // [batch | 1, K, N] or [.., N, K] if TRANS_B
