// Pipelines compile in the background (createComputePipelineAsync): work recorded while a kernel
// it dispatches is compiling is held back and replayed in order once the kernel is built. These
// tests record against kernels that have just been created, so every one of them is still
// compiling when its dispatches are recorded.
import { describe, expect, it } from 'vitest';
import { Gpu, STORAGE_USAGE } from '../../src/engine/gpu.ts';
import type { Kernel } from '../../src/engine/kernel.ts';
import { ScalarRing } from '../../src/engine/readback.ts';
import { fromArray } from '../../src/engine/tensor.ts';
import { useGpu } from '../helpers.ts';

/** x = 2 x + add on the first n values. */
const TWICE_PLUS = /* wgsl */ `
struct TwicePlus { add: f32, n: u32 }
@group(0) @binding(0) var<uniform> tp: TwicePlus;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
override WG: u32 = 64;
@compute @workgroup_size(WG)
fn twice_plus(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < tp.n) { x[g.x] = 2.0 * x[g.x] + tp.add; }
}
`;

let fresh = 0;
/** A kernel no Gpu has built before (a new label), so it is compiling when this returns. */
function newKernel(gpu: Gpu, constants?: Record<string, number>): Kernel {
  return gpu.kernel({ label: `test/compile/twice_plus_${fresh++}`, code: TWICE_PLUS, entry: 'twice_plus', ...(constants ? { constants } : {}) });
}

describe('kernels compile in the background; work that needs them waits, in order', () => {
  const gpu = useGpu();

  it('replays dispatches, writes, copies and submissions held for a compiling kernel in the order they were recorded', async () => {
    const g = gpu();
    const k = newKernel(g);
    expect(k.pipeline).toBeNull();
    expect(g.compiling).toBeGreaterThan(0);
    const x = fromArray(g, new Float32Array([1, 2, 3]), [3], 'x');
    const ring = new ScalarRing(g, 4, 'compile.ring');
    k.run({ x }, { add: 1, n: 3 }, [1]); // [3, 5, 7]
    ring.push(x, 0);
    g.flush(); // a submission of its own, with its own uniform values
    k.run({ x }, { add: 10, n: 3 }, [1]); // [16, 20, 24]
    ring.push(x, 2);
    const data = new Float32Array([100, 200, 300]);
    g.write(x.buffer, data); // after the two dispatches, before the next
    data.fill(-1); // the held write keeps its own copy
    k.run({ x }, { add: 0.5, n: 2 }, [1]); // [200.5, 400.5, 300]
    ring.push(x, 1);
    const read = x.read();
    expect(k.pipeline).toBeNull(); // nothing above waited for the compiler
    expect(Array.from(await read)).toEqual([200.5, 400.5, 300]);
    expect(Array.from(await ring.drain())).toEqual([3, 24, 400.5]);
    expect(k.pipeline).not.toBeNull();
    await g.settled();
    // Built now: the same kernel records directly.
    k.run({ x }, { add: 0, n: 3 }, [1]);
    expect(Array.from(await x.read())).toEqual([401, 801, 600]);
    ring.destroy();
    x.dispose();
  });

  it('frees a buffer only after the held work that uses it', async () => {
    const g = gpu();
    const k = newKernel(g);
    const own = g.device.createBuffer({ size: 16, usage: STORAGE_USAGE, label: 'compile.own' });
    g.write(own, new Float32Array([1, 2, 3, 4]));
    k.run({ x: { buffer: own } }, { add: 0, n: 4 }, [1]);
    const out = fromArray(g, new Float32Array(4), [4], 'compile.out');
    g.copy({ buffer: own }, { buffer: out.buffer }, 16);
    g.destroyBuffer(own); // while the dispatch and the copy are still held
    expect(Array.from(await out.read())).toEqual([2, 4, 6, 8]);
    await g.sync(); // no validation error from a destroyed buffer in a submission
    out.dispose();
  });

  it('waits for every kernel the held work needs, compiled in any order', async () => {
    const g = gpu();
    const a = newKernel(g, { WG: 32 });
    const b = newKernel(g, { WG: 16 });
    const x = fromArray(g, new Float32Array([1, -1, 0.5, 7, 9]), [5], 'x');
    a.run({ x }, { add: 1, n: 5 }, [1]);
    b.run({ x }, { add: -3, n: 4 }, [1]);
    a.run({ x }, { add: 0, n: 1 }, [1]);
    expect(Array.from(await x.read())).toEqual([2 * (2 * (2 * 1 + 1) - 3), 2 * (2 * -1 + 1) - 3, 2 * (2 * 0.5 + 1) - 3, 2 * (2 * 7 + 1) - 3, 19]);
    expect(g.compiling).toBe(0);
    x.dispose();
  });
});

describe('a kernel that fails to compile', () => {
  it('fails the device with the kernel named, and the held work is never run', async () => {
    const g = await Gpu.open();
    try {
      const x = fromArray(g, new Float32Array([1, 2]), [2], 'x');
      await x.read();
      // A workgroup over the device's invocation limit: valid WGSL, refused when the pipeline is built.
      const k = newKernel(g, { WG: g.limits.maxComputeInvocationsPerWorkgroup * 2 });
      k.run({ x }, { add: 1, n: 2 }, [1]);
      await expect(x.read()).rejects.toThrow(/compiling test\/compile\/twice_plus_\d+:twice_plus/);
      expect(() => k.run({ x }, { add: 1, n: 2 }, [1])).toThrow(/compiling/);
    } finally {
      g.destroy();
    }
  });
});
