// shaders/matmul/product.wgsl: the prelude of the product kernels (register.wgsl and
// register_vec4.wgsl for 'swiftshader', tiled.wgsl for 'gpu'), which compute the same thing: batched
// C[z] = op(A[b]) op(B[b]) (+ bias[N]) (+ C[z]) with op = identity or transpose, row-major float32.
// The backward needs no kernel of its own: dA = dC op(B)^T and dB = op(A)^T dC are the same
// kernels with other transposes, and the bias gradient is sum_rows.wgsl.
//
// Batch and split-K share the z dimension: z = b * splits + s. Chunk s covers
// k in [s * kChunk, min((s + 1) * kChunk, k)); with splits > 1 each chunk writes its own partial
// product at C + z * strideC and sum_rows adds the partials in a fixed order (no float atomics).

struct MatmulParams {
  m: u32,           // rows of op(A) and C
  n: u32,           // columns of op(B) and C
  k: u32,           // the contracted dimension (all of it, across chunks)
  strideA: u32,     // elements between batch items of A; 0 = shared across the batch
  strideB: u32,     // elements between batch items of B; 0 = shared across the batch
  strideC: u32,     // elements between z items of C (batch items or split-K partials)
  splits: u32,      // k chunks per batch item
  kChunk: u32,      // length of each k chunk
  accumulate: u32,  // 1: C += product; 0: C = product
  hasBias: u32,     // 1: add bias[col] to every row
}

// A (binding 1) and B (binding 2) are declared by each kernel: as f32 (operands.wgsl) or, where
// their rows are whole vec4s, as vec4f (register_vec4.wgsl).
@group(0) @binding(0) var<uniform> p: MatmulParams;
@group(0) @binding(3) var<storage, read> bias: array<f32>;  // [N] (any buffer when hasBias = 0)
@group(0) @binding(4) var<storage, read_write> c: array<f32>; // [batch * splits, M, N]

// Whether A is stored [K, M] (op(A) = A^T) and B stored [N, K] (op(B) = B^T); pipeline constants
// so the inner loops compile to fixed strides.
override TRANS_A: bool = false;
override TRANS_B: bool = false;

// Each invocation's block of C. Constants, not overrides: the accumulators are four vec4 registers.
const TM: u32 = 4u;
const TN: u32 = 4u;

// The register kernels' blocks of C (rows x cols each) are numbered linearly, row-major, over 1-D
// workgroups of `per_group` invocations (plan.ts linearBlockGrid): the first row and column of
// invocation `li`'s block, or false where its number lies past the last block.
fn block_origin(wid: vec3u, nwg: vec3u, li: u32, per_group: u32, rows: u32, cols: u32) -> vec3u {
  let blocksN = (p.n + cols - 1u) / cols;
  let id = grid_index(wid, nwg) * per_group + li;
  if (id >= blocksN * ((p.m + rows - 1u) / rows)) { return vec3u(0u, 0u, 0u); }
  return vec3u((id / blocksN) * rows, (id % blocksN) * cols, 1u);
}

// Where op(A)[row, kk] and op(B)[kk, col] live, relative to the batch item's first element.
fn aIndex(row: u32, kk: u32) -> u32 {
  if (TRANS_A) { return kk * p.m + row; }
  return row * p.k + kk;
}

fn bIndex(kk: u32, col: u32) -> u32 {
  if (TRANS_B) { return col * p.k + kk; }
  return kk * p.n + col;
}

struct Job {
  aBase: u32,
  bBase: u32,
  cBase: u32,
  kBegin: u32,
  kEnd: u32,
}

fn job(z: u32) -> Job {
  let batch = z / p.splits;
  let chunk = z % p.splits;
  let kBegin = chunk * p.kChunk;
  return Job(batch * p.strideA, batch * p.strideB, z * p.strideC, kBegin, min(kBegin + p.kChunk, p.k));
}

// Writes one row of an invocation's block, whose columns are col0 + t * colStep: masks what lies
// past the edge, adds the bias and the old C if asked.
fn storeRow(j: Job, row: u32, col0: u32, colStep: u32, v: vec4f) {
  if (row >= p.m) { return; }
  let base = j.cBase + row * p.n;
  for (var t = 0u; t < TN; t++) {
    let col = col0 + t * colStep;
    if (col < p.n) {
      var x = v[t];
      if (p.hasBias != 0u) { x += bias[col]; }
      if (p.accumulate != 0u) { x += c[base + col]; }
      c[base + col] = x;
    }
  }
}
