// shaders/softmax_attention/step.wgsl: the decoder step over a KV cache (sampling).
struct KvParams {
  d: u32,
  dv: u32,
  max_seq: u32,  // rows per head in the cache
  pos: u32,      // the new token's row; it attends to rows 0..pos
  scale: f32,
}

@group(0) @binding(4) var<storage, read_write> out: array<f32>;    // [BH, 1, Dv]
@group(0) @binding(5) var<uniform> kp: KvParams;
@group(0) @binding(6) var<storage, read_write> k_cache: array<f32>;  // [BH, maxSeq, D]
@group(0) @binding(7) var<storage, read_write> v_cache: array<f32>;  // [BH, maxSeq, Dv]

override STEP_NV: u32 = 2u;  // ceil(dv / WG)
var<workgroup> step_q: array<f32, MAX_DIM>;
var<workgroup> step_s: array<f32, WG>;  // scores of one block of keys
var<workgroup> step_p: array<f32, WG>;  // their probabilities, each computed once

// ---------------------------------------------------------------------------------------------
// Decoding step: workgroup per bh. Writes the new k, v (q, k, v: [BH, 1, D|Dv]) into cache row
// `pos`, then attends q over rows 0..pos: WG keys at a time, one score per thread, then each
// thread folds the block into its output columns lid + u * WG.
@compute @workgroup_size(WG)
fn step(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bh = wid.x;
  let row0 = bh * kp.max_seq;  // first cache row of this head
  for (var c = lid; c < kp.d; c += WG) {
    k_cache[(row0 + kp.pos) * kp.d + c] = k[bh * kp.d + c];
    step_q[c] = q[bh * kp.d + c] * kp.scale;
  }
  for (var c = lid; c < kp.dv; c += WG) { v_cache[(row0 + kp.pos) * kp.dv + c] = v[bh * kp.dv + c]; }
  // Other threads of this workgroup read the row just written.
  storageBarrier();
  workgroupBarrier();
  let len = kp.pos + 1u;
  var m = NEG;
  var l = 0.0;
  var acc: array<f32, ACC>;
  for (var j0 = 0u; j0 < len; j0 += WG) {
    let j = j0 + lid;
    var s = NEG;
    if (j < len) {
      s = 0.0;
      for (var c = 0u; c < kp.d; c++) { s += step_q[c] * k_cache[(row0 + j) * kp.d + c]; }
    }
    step_s[lid] = s;
    workgroupBarrier();
    let count = min(WG, len - j0);
    var bm = NEG;
    for (var jj = 0u; jj < count; jj++) { bm = max(bm, step_s[jj]); }
    let m_new = max(m, bm);
    var e = 0.0;
    if (j < len) { e = exp(s - m_new); }
    step_p[lid] = e;
    workgroupBarrier();
    let alpha = exp(m - m_new);
    l *= alpha;
    for (var u = 0u; u < STEP_NV; u++) { acc[u] *= alpha; }
    for (var jj = 0u; jj < count; jj++) {
      let pj = step_p[jj];
      l += pj;
      let vr = (row0 + j0 + jj) * kp.dv;
      for (var u = 0u; u < STEP_NV; u++) {
        let c = lid + u * WG;
        if (c < kp.dv) { acc[u] += pj * v_cache[vr + c]; }
      }
    }
    m = m_new;
    workgroupBarrier();  // step_s and step_p are rewritten by the next block
  }
  let inv = 1.0 / l;
  for (var u = 0u; u < STEP_NV; u++) {
    let c = lid + u * WG;
    if (c < kp.dv) { out[bh * kp.dv + c] = acc[u] * inv; }
  }
}
