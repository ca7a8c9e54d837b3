// The sinusoidal position code and the NaN of an id outside the vocabulary (forward.wgsl).

// log2(10000): pair i's frequency is 10000^(-2i/P) = exp2(-2i/P * log2 10000).
const LOG2_SINUSOID_BASE: f32 = 13.287712379549449;
// pi/2 split in three (Cephes' sinf): PIO2_HI and PIO2_MID have few mantissa bits, so
// q * PIO2_HI and q * PIO2_MID are exact for the quadrant counts q (< 2^12) positions reach, and
// the remainder in [-pi/4, pi/4] keeps f32 accuracy.
const TWO_OVER_PI: f32 = 0.6366197723675814;
const PIO2_HI: f32 = 1.5703125;
const PIO2_MID: f32 = 4.837512969970703125e-4;
const PIO2_LO: f32 = 7.54978995489188216e-8;
// Cephes sinf/cosf minimax polynomials on [-pi/4, pi/4] (about 1 ulp). Builtin sin/cos are only
// promised to 2^-11 on [-pi, pi] (SwiftShader's err by ~2e-4), which would make the code device-dependent.
const SIN_C1: f32 = -1.6666654611e-1;
const SIN_C2: f32 = 8.3321608736e-3;
const SIN_C3: f32 = -1.9515295891e-4;
const COS_C1: f32 = 4.166664568298827e-2;
const COS_C2: f32 = -1.388731625493765e-3;
const COS_C3: f32 = 2.443315711809948e-5;
const QUIET_NAN_BITS: u32 = 0x7fc00000u;

// A NaN built at run time: a constant NaN is a shader-creation error in WGSL.
fn runtime_nan(seed: u32) -> f32 {
  return bitcast<f32>(QUIET_NAN_BITS | (seed & 0u));
}

// sin (even j) or cos (odd j) of n * 10000^(-2 floor(j/2) / dim), Vaswani et al.'s code.
fn sinusoid(n: u32, j: u32, dim: u32) -> f32 {
  let freq = exp2(-f32(2u * (j / 2u)) / f32(dim) * LOG2_SINUSOID_BASE);
  let angle = f32(n) * freq;
  let qf = round(angle * TWO_OVER_PI);
  let r = ((angle - qf * PIO2_HI) - qf * PIO2_MID) - qf * PIO2_LO;
  let z = r * r;
  let s = r + r * z * (SIN_C1 + z * (SIN_C2 + z * SIN_C3));
  let c = 1.0 - 0.5 * z + z * z * (COS_C1 + z * (COS_C2 + z * COS_C3));
  // cos(x) = sin(x + pi/2): the cos of quadrant q is the sin of quadrant q + 1.
  let q = (u32(qf) + (j % 2u)) % 4u;
  let v = select(s, c, (q & 1u) == 1u);
  return select(v, -v, q >= 2u);
}
