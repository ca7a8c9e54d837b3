// shaders/softmax_attention/backward.wgsl: what every backward kernel reads besides q, k, v.
// ---------------------------------------------------------------------------------------------
// Backward, with P_ij = exp(s_ij - lse_i), dP_ij = dO_i . v_j, dS_ij = P_ij (dP_ij - delta_i):
//   dv_j = sum_i P_ij dO_i,  dk_j = scale sum_i dS_ij q_i,  dq_i = scale sum_j dS_ij k_j.

@group(0) @binding(4) var<storage, read> dout: array<f32>;         // [BH, N, Dv]
@group(0) @binding(5) var<storage, read> lse_saved: array<f32>;    // forward's lse [BH, N]
@group(0) @binding(6) var<storage, read> delta_in: array<f32>;     // [BH, N] (backward_delta's)
