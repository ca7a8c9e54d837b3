// The row layout of the adaptive form's two row reductions (after adaptive.wgsl): a workgroup is
// TY rows of TX threads each; a row's TX threads stride over its columns (coalesced on a GPU) and
// meet in a fixed-order tree, so results repeat bit for bit. On SwiftShader TX = 1 (a thread
// walks a row alone, no barrier work). src/engine/variants.ts CONNECTION_ROWS sets both.

/// Threads per row (a power of two) and rows per workgroup.
override TX: u32 = 64;
override TY: u32 = 4;

fn row_of(wid: vec3u, nwg: vec3u, ly: u32) -> u32 {
  return grid_index(wid, nwg) * TY + ly;
}
