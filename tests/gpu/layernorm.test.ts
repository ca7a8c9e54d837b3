import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/layernorm.ts';
import * as k from '../../src/engine/kernels/layernorm.ts';
import { layerNorm } from '../../src/engine/ops/layernorm.ts';
import { fromArray, Tape, variable, type Tensor } from '../../src/engine/tensor.ts';
import { checkDirectional, expectClose, randn, uniform, useGpu } from '../helpers.ts';

const VARIANTS: k.LayerNormVariant[] = ['gpu', 'swiftshader'];

// [R, C]: single values, short rows (C < the smallest row workgroup), C just past a power of two
// (257: a 256-wide workgroup strides twice), rows over two strides (600), more rows than a
// thread-per-row workgroup (70 > 64). C a multiple of 4 reads rows as vec4s (600, 4, 64, 1028:
// 257 loads a row, so a 256-wide workgroup strides twice); the others one value a load.
const SHAPES: [number, number][] = [
  [37, 4],
  [70, 64],
  [3, 1028],
  [1, 5],
  [37, 5],
  [7, 37],
  [5, 257],
  [3, 600],
  [70, 33],
];

/** Inputs with a large common offset, so a one-pass variance would lose digits. */
function inputs(R: number, C: number) {
  const x = randn(R * C, R * 1000 + C, 2).map((v) => v + 5);
  return { x, gain: uniform(C, 2, 0.5, 1.5), bias: uniform(C, 3), dy: randn(R * C, 4) };
}

describe('LayerNorm kernels against the CPU reference', () => {
  const gpu = useGpu();

  for (const variant of VARIANTS) {
    for (const [R, C] of SHAPES) {
      it(`${variant}: forward and backward [${R}, ${C}]`, async () => {
        const { x, gain, bias, dy } = inputs(R, C);
        const g = gpu();
        const tx = fromArray(g, x, [R, C], 'x');
        const tg = fromArray(g, gain, [C], 'gain');
        const tb = fromArray(g, bias, [C], 'bias');
        const tdy = fromArray(g, dy, [R, C], 'dy');
        const ty = fromArray(g, new Float32Array(R * C), [R, C], 'y');
        const tmean = fromArray(g, new Float32Array(R), [R], 'mean');
        const trstd = fromArray(g, new Float32Array(R), [R], 'rstd');
        k.layerNormForward(g, tx, tg, tb, ty, tmean, trstd, 1e-5, { variant });
        const ref = cpu.layerNormForward(x, gain, bias);
        expectClose(await ty.read(), ref.y, { atol: 1e-5, label: 'y' });
        expectClose(await tmean.read(), ref.mean, { atol: 1e-5, label: 'mean' });
        expectClose(await trstd.read(), ref.rstd, { atol: 1e-5, label: 'rstd' });

        const refB = cpu.layerNormBackward(x, gain, ref.mean, ref.rstd, dy);
        // Default chunking, every row its own chunk, and all rows in one chunk.
        for (const rowsPerChunk of [undefined, 1, 1000]) {
          const tdx = fromArray(g, new Float32Array(R * C), [R, C], 'dx');
          const tdg = fromArray(g, new Float32Array(C), [C], 'dgain');
          const tdb = fromArray(g, new Float32Array(C), [C], 'dbias');
          k.layerNormBackward(g, tx, tg, tmean, trstd, tdy, tdx, tdg, tdb, { variant, rowsPerChunk });
          const what = `rowsPerChunk=${rowsPerChunk ?? 'default'}`;
          expectClose(await tdx.read(), refB.dx, { atol: 1e-4, label: `dx ${what}` });
          expectClose(await tdg.read(), refB.dgain, { atol: 1e-4, label: `dgain ${what}` });
          expectClose(await tdb.read(), refB.dbias, { atol: 1e-4, label: `dbias ${what}` });
          for (const t of [tdx, tdg, tdb]) t.dispose();
        }
        for (const t of [tx, tg, tb, tdy, ty, tmean, trstd]) t.dispose();
      });
    }
  }

  it('picks a power-of-two workgroup per row between 32 and 256', () => {
    expect([1, 5, 32, 33, 100, 256, 257, 4096].map(k.rowWorkgroupSize)).toEqual([32, 32, 32, 64, 128, 256, 256, 256]);
  });
});

describe('layerNorm op on the tape', () => {
  const gpu = useGpu();

  async function run(x: Float32Array, gain: Float32Array, bias: Float32Array, shape: number[], dout: Float32Array | null, variant: k.LayerNormVariant) {
    const C = shape[shape.length - 1]!;
    const tape = new Tape(gpu(), { grad: dout !== null });
    const ts = [variable(gpu(), x, shape, 'x'), variable(gpu(), gain, [C], 'gain'), variable(gpu(), bias, [C], 'bias')];
    ts.forEach((t) => tape.own(t));
    const [tx, tg, tb] = ts as [Tensor, Tensor, Tensor];
    const y = layerNorm(tape, tx, tg, tb, 1e-5, { variant });
    let grads: Float32Array[] = [];
    if (dout) {
      tape.backward(y, tape.own(fromArray(gpu(), dout, y.shape, 'dout')));
      grads = await Promise.all(ts.map((t) => t.grad!.read()));
    }
    const out = await y.read();
    tape.dispose();
    return { out, grads };
  }

  for (const variant of VARIANTS) {
    it(`${variant}: backward passes a directional-derivative check on [2, 9, 37]`, async () => {
      const shape = [2, 9, 37];
      const n = 2 * 9 * 37;
      const x = randn(n, 1);
      const gain = uniform(37, 2, 0.5, 1.5);
      const bias = uniform(37, 3);
      const dout = randn(n, 4);
      const { grads } = await run(x, gain, bias, shape, dout, variant);
      await checkDirectional({
        forward: async ([a, b, c]) => (await run(a!, b!, c!, shape, null, variant)).out,
        inputs: [x, gain, bias],
        grads,
        dout,
        label: `layerNorm ${variant}`,
      });
    });
  }

  it('repeats bit for bit', async () => {
    const x = randn(37 * 257, 5);
    const gain = uniform(257, 6);
    const bias = uniform(257, 7);
    const dout = randn(37 * 257, 8);
    for (const variant of VARIANTS) {
      const a = await run(x, gain, bias, [37, 257], dout, variant);
      const b = await run(x, gain, bias, [37, 257], dout, variant);
      a.grads.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(b.grads[i]!)));
    }
  });

  it('computes only the gradients that are needed', async () => {
    const tape = new Tape(gpu());
    const x = tape.own(variable(gpu(), randn(10, 1), [2, 5], 'x'));
    const gain = tape.own(fromArray(gpu(), uniform(5, 2), [5], 'gain'));
    const bias = tape.own(fromArray(gpu(), uniform(5, 3), [5], 'bias'));
    const y = layerNorm(tape, x, gain, bias);
    tape.backward(y, tape.own(fromArray(gpu(), randn(10, 4), [2, 5], 'dout')));
    expect(x.grad).not.toBeNull();
    expect(gain.grad).toBeNull();
    expect(bias.grad).toBeNull();
    await x.grad!.read();
    tape.dispose();
  });

  it('rejects bad arguments before allocating anything', () => {
    const tape = new Tape(gpu());
    const x = tape.own(fromArray(gpu(), new Float32Array(12), [3, 4], 'x'));
    const g4 = tape.own(fromArray(gpu(), new Float32Array(4), [4], 'g4'));
    const g3 = tape.own(fromArray(gpu(), new Float32Array(3), [3], 'g3'));
    const before = gpu().pool.inUseBytes;
    expect(() => layerNorm(tape, x, g3, g4)).toThrow(/g3 has shape \[3\], expected \[4\]/);
    expect(() => layerNorm(tape, x, g4, g3)).toThrow(/g3 has shape \[3\], expected \[4\]/);
    expect(() => layerNorm(tape, x, g4, g4, 0)).toThrow(/eps must be a positive number/);
    expect(() => layerNorm(tape, x, g4, g4, 1e-5, { variant: 'bogus' as k.LayerNormVariant })).toThrow(/unknown variant/);
    expect(gpu().pool.inUseBytes).toBe(before);
    tape.dispose();
  });
});
