// The uniform of the same-shape maps (gelu, relu, add, scale): one element per invocation.

struct EwParams {
  n: u32,     // number of elements
  s: f32,     // scale factor (scale_forward only; 0 elsewhere)
}

@group(0) @binding(0) var<uniform> p: EwParams;
