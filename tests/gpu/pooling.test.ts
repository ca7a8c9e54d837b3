import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/pooling.ts';
import { meanPool } from '../../src/engine/ops/pooling.ts';
import { fromArray, Tape, variable } from '../../src/engine/tensor.ts';
import { checkDirectional, expectClose, randn, useGpu } from '../helpers.ts';

// B, N, C: one token; odd sizes with mixed lengths; more outputs than one workgroup holds (256).
const CASES = [
  { B: 1, N: 1, C: 1, lengths: [1] },
  { B: 3, N: 37, C: 5, lengths: [37, 1, 20] },
  { B: 5, N: 9, C: 70, lengths: [9, 3, 8, 1, 5] },
];

describe('mean pooling against the CPU reference', () => {
  const gpu = useGpu();

  for (const c of CASES) {
    it(`forward and backward ${JSON.stringify(c)}`, async () => {
      const g = gpu();
      const { B, N, C, lengths } = c;
      const dims = { B, N, C };
      const x = randn(B * N * C, 1);
      const dy = randn(B * C, 2);
      const tape = new Tape(g);
      const tx = tape.own(variable(g, x, [B, N, C], 'x'));
      const tl = tape.own(fromArray(g, Uint32Array.from(lengths), [B], 'lengths'));
      const y = meanPool(tape, tx, tl);
      tape.backward(y, tape.own(fromArray(g, dy, [B, C], 'dy')));
      expectClose(await y.read(), cpu.meanPoolForward(x, lengths, dims), { atol: 1e-6, label: 'y' });
      expectClose(await tx.grad!.read(), cpu.meanPoolBackward(dy, lengths, dims), { atol: 1e-7, label: 'dx' });
      tape.dispose();
    });
  }

  it('directional derivative on the GPU matches finite differences', async () => {
    const g = gpu();
    const [B, N, C] = [2, 11, 3];
    const lengths = Uint32Array.from([11, 6]);
    const x = randn(B * N * C, 4);
    const dout = randn(B * C, 5);
    const run = async (xv: Float32Array, seedGrad: Float32Array | null) => {
      const tape = new Tape(g, { grad: seedGrad !== null });
      const tx = tape.own(variable(g, xv, [B, N, C], 'x'));
      const y = meanPool(tape, tx, tape.own(fromArray(g, lengths, [B], 'lengths')));
      if (seedGrad) tape.backward(y, tape.own(fromArray(g, seedGrad, [B, C], 'dy')));
      const out = { y: await y.read(), dx: seedGrad ? await tx.grad!.read() : null };
      tape.dispose();
      return out;
    };
    const { dx } = await run(x, dout);
    await checkDirectional({ forward: async ([xv]) => (await run(xv!, null)).y, inputs: [x], grads: [dx!], dout, label: 'meanPool' });
  });

  it('refuses wrong shapes and dtypes, naming them', () => {
    const g = gpu();
    const tape = new Tape(g);
    const x = tape.own(fromArray(g, new Float32Array(12), [2, 3, 2], 'x'));
    const flat = tape.own(fromArray(g, new Float32Array(6), [2, 3], 'flat'));
    const good = tape.own(fromArray(g, Uint32Array.from([1, 2]), [2], 'lengths'));
    const three = tape.own(fromArray(g, Uint32Array.from([1, 2, 3]), [3], 'lengths3'));
    const floats = tape.own(fromArray(g, new Float32Array(2), [2], 'flengths'));
    expect(() => meanPool(tape, flat, good)).toThrow(/x 'flat' must be \[batch, seq, width\]; got \[2, 3\]/);
    expect(() => meanPool(tape, x, three)).toThrow(/lengths 'lengths3' has 3 entries; x has batch 2/);
    expect(() => meanPool(tape, x, floats)).toThrow(/lengths 'flengths' must be u32/);
    tape.dispose();
  });
});
