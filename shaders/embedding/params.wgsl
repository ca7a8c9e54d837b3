// shaders/embedding/params.wgsl: the prelude of every embedding kernel (one file each, joined
// after this one: src/engine/kernels/embedding/shaders.ts). Token embedding with a learned or
// sinusoidal position code (added, or concatenated after the token's features), and its backward
// without float atomics.
//
// d(table) is a scatter-add over token ids. It walks an index that groups positions by id
// (offsets[V + 1], order and sortedIds: a stable counting sort, built on the host from the ids it
// uploaded or here by embed_index_*), so every sum runs in one fixed order and repeats bit for bit.
// A frequent id (the separator, a black pixel) owns thousands of positions, so one thread per
// (id, feature) would serialise them: embed_table_partial first sums fixed segments of SEG sorted
// entries, flushing at each id boundary, and embed_table_reduce adds each id's few segment sums.
//
// Workgroups are numbered over a 2-D grid (grid_index, shaders/common.wgsl) so long inputs stay under the
// per-dimension limit. Ids >= V are left out of the index; the forward writes NaN for them, so a
// bad id read from the GPU surfaces as a NaN loss instead of a row read out of bounds.

struct EmbedParams {
  rows: u32,       // B * N positions
  seq: u32,        // N
  vocab: u32,      // V
  dim: u32,        // E, features of a token row
  pos_dim: u32,    // P, features of the position code (0 without one)
  pos_rows: u32,   // Nmax of a learned table (dpos is [Nmax, P])
  width: u32,      // C, features of an output row: E, or E + P when concatenated
  column: u32,     // where the position code (forward) or the table's slice of dout (backward) starts
  pos_kind: u32,   // POS_NONE, POS_LEARNED or POS_SINUSOIDAL
  chunks: u32,     // index building: ceil(rows / IWG) chunks of positions
  pos_offset: u32, // forward: position n of the input gets the code of n + pos_offset (sampling)
}

const POS_NONE: u32 = 0u;
const POS_LEARNED: u32 = 1u;
const POS_SINUSOIDAL: u32 = 2u;

@group(0) @binding(0) var<uniform> p: EmbedParams;
