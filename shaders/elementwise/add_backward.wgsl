// dx = db = dy, as separate buffers: the tape takes ownership of each gradient it accumulates.

@group(0) @binding(1) var<storage, read> dy: array<V>;
@group(0) @binding(2) var<storage, read_write> dx: array<V>;
@group(0) @binding(3) var<storage, read_write> db: array<V>;

@compute @workgroup_size(WG)
fn add_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let g = dy[i];
  dx[i] = g;
  db[i] = g;
}
