// GELU, tanh approximation (as in GPT-2 / BERT): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

const GELU_K: f32 = 0.7978845608028654;   // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;
// tanh(15) rounds to 1 in f32; clamping keeps implementations that build tanh from exp finite.
const TANH_CLAMP: f32 = 15.0;

fn gelu_tanh(v: V) -> V {
  return tanh(clamp(GELU_K * (v + GELU_C * v * v * v), V(-TANH_CLAMP), V(TANH_CLAMP)));
}
