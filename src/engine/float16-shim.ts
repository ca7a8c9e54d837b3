// webgpu-utils 2.x names Float16Array in its type table at load time. Node 20 lacks it (Chrome has
// it since 135). The engine uses no f16 types, so a stand-in with the same element size suffices.
const g = globalThis as { Float16Array?: unknown };
if (typeof g.Float16Array === 'undefined') g.Float16Array = Uint16Array;
export {};
