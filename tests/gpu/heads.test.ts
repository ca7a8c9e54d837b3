import { describe, expect, it } from 'vitest';
import * as cpu from '../../src/engine/cpu/heads.ts';
import * as k from '../../src/engine/kernels/heads.ts';
import { mergeHeads, splitHeads } from '../../src/engine/ops/heads.ts';
import { fromArray, Tape, variable, type Tensor } from '../../src/engine/tensor.ts';
import { VARIANTS } from '../../src/engine/variants.ts';
import { checkDirectional, expectClose, randn, useGpu } from '../helpers.ts';

// B, N, H, D, P: trivial; a fused QKV; D = 1; more elements than one workgroup moves (256); D a
// multiple of 4 (the per-row copy's four-at-a-time loop alone; 5 and 9 add its tail) over more rows
// than one workgroup of the per-row variant.
const CASES = [
  { B: 1, N: 1, H: 1, D: 1, P: 1 },
  { B: 2, N: 37, H: 3, D: 5, P: 3 },
  { B: 3, N: 7, H: 2, D: 1, P: 2 },
  { B: 1, N: 300, H: 4, D: 9, P: 3 },
  { B: 2, N: 19, H: 3, D: 8, P: 3 },
];

describe('head reshapes against the CPU reference', () => {
  const gpu = useGpu();

  for (const [c, variant] of CASES.flatMap((c) => VARIANTS.map((v) => [c, v] as const))) {
    const { B, N, H, D, P } = c;
    const dims = { B, N, H, D, variant };
    const per = B * N * H * D;
    it(`split, merge and their backwards ${JSON.stringify(c)}, ${variant} variant`, async () => {
      const g = gpu();
      const x = randn(per * P, 1);
      const tx = fromArray(g, x, [B, N, P * H * D], 'x');
      const outs = Array.from({ length: P }, (_, q) => fromArray(g, new Float32Array(per), [B, H, N, D], `part${q}`));
      k.splitHeadsForward(g, dims, tx, outs);
      const ref = cpu.splitHeadsForward(x, dims, P);
      for (let q = 0; q < P; q++) expectClose(await outs[q]!.read(), ref[q]!, { atol: 0, label: `split part ${q}` });

      // Backward, once with every gradient and once with the last part's missing (taken as zero).
      const grads = Array.from({ length: P }, (_, q) => randn(per, 10 + q));
      const tgrads = grads.map((v, q) => fromArray(g, v, [B, H, N, D], `dpart${q}`));
      for (const drop of P > 1 ? [false, true] : [false]) {
        const used = tgrads.map((t, q) => (drop && q === P - 1 ? null : t));
        const tdx = fromArray(g, randn(per * P, 99), [B, N, P * H * D], 'dx'); // garbage that must be overwritten
        k.splitHeadsBackward(g, dims, used, tdx);
        const expected = cpu.splitHeadsBackward(grads.map((v, q) => (drop && q === P - 1 ? null : v)), dims);
        expectClose(await tdx.read(), expected, { atol: 0, label: `split backward drop=${drop}` });
        tdx.dispose();
      }

      const tm = fromArray(g, new Float32Array(per), [B, N, H * D], 'merged');
      k.mergeHeadsForward(g, dims, outs[0]!, tm);
      expectClose(await tm.read(), cpu.mergeHeadsForward(ref[0]!, dims), { atol: 0, label: 'merge' });
      const tdm = fromArray(g, new Float32Array(per), [B, H, N, D], 'dmerged');
      k.mergeHeadsBackward(g, dims, tm, tdm);
      expectClose(await tdm.read(), ref[0]!, { atol: 0, label: 'merge backward (round trip)' });
      for (const t of [tx, ...outs, ...tgrads, tm, tdm]) t.dispose();
    });
  }
});

describe('splitHeads and mergeHeads on the tape', () => {
  const gpu = useGpu();
  const [B, N, H, D, P] = [2, 37, 3, 5, 3];
  const per = B * N * H * D;

  /** Forward through splitHeads then mergeHeads of each part, concatenated: [P, B, N, H*D]. */
  async function forward(x: Float32Array, dout: Float32Array | null) {
    const tape = new Tape(gpu(), { grad: dout !== null });
    const tx = tape.own(variable(gpu(), x, [B, N, P * H * D], 'x'));
    const merged = splitHeads(tape, tx, H, P).map((part) => mergeHeads(tape, part));
    let grad: Float32Array | null = null;
    if (dout) {
      // Seed every merged output's gradient; backward(loss) replays all entries reached from them.
      merged.forEach((m, q) => {
        m.grad = tape.own(fromArray(gpu(), dout.subarray(q * per, (q + 1) * per), m.shape, `dout${q}`));
      });
      tape.backward(merged[0]!, merged[0]!.grad!);
      grad = await tx.grad!.read();
    }
    const outs = await Promise.all(merged.map((m) => m.read()));
    tape.dispose();
    const out = new Float32Array(P * per);
    outs.forEach((o, q) => out.set(o, q * per));
    return { out, grad };
  }

  it('round trip: merging the split parts gives the fused input', async () => {
    const x = randn(P * per, 3);
    const { out } = await forward(x, null);
    // mergeHeads(part q) is part q's columns of x: [B, N, H*D] per part.
    const expected = new Float32Array(P * per);
    for (let b = 0; b < B; b++)
      for (let n = 0; n < N; n++)
        for (let q = 0; q < P; q++)
          for (let j = 0; j < H * D; j++) expected[q * per + (b * N + n) * H * D + j] = x[((b * N + n) * P + q) * H * D + j]!;
    expectClose(out, expected, { atol: 0, label: 'merge(split(x))' });
  });

  it('backward passes a directional-derivative check', async () => {
    const x = randn(P * per, 4);
    const dout = randn(P * per, 5);
    const { grad } = await forward(x, dout);
    await checkDirectional({ forward: async ([v]) => (await forward(v!, null)).out, inputs: [x], grads: [grad!], dout, label: 'split+merge' });
  });

  it('rejects bad shapes before allocating anything', () => {
    const tape = new Tape(gpu());
    const x = tape.own(fromArray(gpu(), new Float32Array(2 * 3 * 12), [2, 3, 12], 'x'));
    const before = gpu().pool.inUseBytes;
    expect(() => splitHeads(tape, x, 5, 3)).toThrow(/12 of x is not divisible by parts \* heads = 3 \* 5/);
    expect(() => splitHeads(tape, x, 0, 3)).toThrow(/heads must be a positive integer/);
    expect(() => splitHeads(tape, x.reshape([6, 12]) as Tensor, 2, 3)).toThrow(/must be \[B, N, P\*H\*D\]/);
    expect(() => mergeHeads(tape, x)).toThrow(/must be \[B, H, N, D\]/);
    expect(gpu().pool.inUseBytes).toBe(before);
    tape.dispose();
  });
});
