import { describe, expect, it } from 'vitest';
import { Tape, addInto, fill, fromArray, parameter } from '../../src/engine/tensor.ts';
import { expectClose, uniform, useGpu } from '../helpers.ts';

describe('engine core on a real WebGPU adapter', () => {
  const gpu = useGpu();

  it('opens an adapter and reports it', () => {
    expect(gpu().device).toBeTruthy();
    expect(gpu().description.length).toBeGreaterThan(0);
  });

  // Odd sizes run a value per invocation; multiples of 4 four (core.wgsl), here past one workgroup.
  it('accumulates and fills on odd sizes and multiples of 4, including past one workgroup row', async () => {
    for (const n of [1, 37, 255, 257, 70001, 4, 1028, 70004]) {
      const a = uniform(n, 1);
      const b = uniform(n, 2);
      const ta = fromArray(gpu(), a, [n], 'a');
      const tb = fromArray(gpu(), b, [n], 'b');
      addInto(ta, tb);
      expectClose(await ta.read(), a.map((v, i) => v + b[i]!), { label: `add n=${n}` });
      fill(tb, 2.5);
      expectClose(await tb.read(), new Float32Array(n).fill(2.5), { label: `fill n=${n}` });
      ta.dispose();
      tb.dispose();
    }
  });

  it('splits huge 1-D dispatches over two grid dimensions', () => {
    const max = gpu().limits.maxComputeWorkgroupsPerDimension;
    const [x, y] = gpu().grid(max * 3 + 5);
    expect(x).toBeLessThanOrEqual(max);
    expect(x * y).toBeGreaterThanOrEqual(max * 3 + 5);
  });

  it('sums the gradient of a tensor used twice', async () => {
    const tape = new Tape(gpu());
    const p = parameter(gpu(), new Float32Array([1, 2, 3]), [3], 'p');
    const g1 = tape.empty([3], 'g1');
    const g2 = tape.empty([3], 'g2');
    fill(g1, 1);
    fill(g2, 2);
    tape.accumulate(p, g1);
    tape.accumulate(p, g2);
    expectClose(await p.grad!.read(), [3, 3, 3]);
    tape.dispose([p]);
    expect(p.grad).toBeNull();
  });

  it('surfaces a validation error instead of returning numbers', async () => {
    const t = fromArray(gpu(), new Float32Array(4), [4], 't');
    const bad = gpu().device.createBuffer({ size: 4, usage: 0x1 | 0x8, label: 'map-only' });
    // Copying out of a buffer without COPY_SRC is invalid: the next read must throw.
    gpu().copy({ buffer: bad }, { buffer: t.buffer }, 4);
    await expect(t.read()).rejects.toThrow(/COPY_SRC|usage|invalid/i);
  });
});

describe('scalar readback and device loss', () => {
  const gpu = useGpu();

  it('reads scalars back in batches, in push order, while recording continues', async () => {
    const { ScalarRing } = await import('../../src/engine/readback.ts');
    const ring = new ScalarRing(gpu(), 5);
    const t = fromArray(gpu(), new Float32Array([0, 0, 0]), [3], 'loss');
    for (let step = 0; step < 5; step++) {
      fill(t, step * 1.5);
      ring.push(t, step % 3);
    }
    expect(ring.full).toBe(true);
    expect(() => ring.push(t)).toThrow(/full/);
    const first = ring.drain();
    fill(t, 42);
    ring.push(t, 0);
    expect(Array.from(await first)).toEqual([0, 1.5, 3, 4.5, 6]);
    expect(Array.from(await ring.drain())).toEqual([42]);
    ring.destroy();
    t.dispose();
  });
});

describe('a lost device', () => {
  it('fails every later read with the reason instead of returning numbers', async () => {
    const { Gpu } = await import('../../src/engine/gpu.ts');
    const g = await Gpu.open();
    const t = fromArray(g, new Float32Array([1, 2]), [2], 't');
    g.device.destroy(); // lost from outside the engine, as a driver reset would
    await new Promise((r) => setTimeout(r, 50));
    expect(g.error?.message).toMatch(/lost/);
    await expect(t.read()).rejects.toThrow(/lost/);
    g.destroy();
  });
});
