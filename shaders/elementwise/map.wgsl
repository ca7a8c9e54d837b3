// The uniform of the same-shape maps (gelu, relu, add, scale): one element V per invocation.
// kernels/elementwise.ts prepends `alias V = vec4f;` where the size is a multiple of 4 (four
// values per invocation, one 16-byte load per operand: about 2x on SwiftShader, where a per-lane
// load costs the same whatever its width) and `alias V = f32;` otherwise; the maps are written
// for either, component by component, so both give the same values.

struct EwParams {
  n: u32,     // number of elements V (values / 4 for vec4f)
  s: f32,     // scale factor (scale_forward only; 0 elsewhere)
}

@group(0) @binding(0) var<uniform> p: EwParams;
