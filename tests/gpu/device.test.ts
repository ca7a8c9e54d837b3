// The device layer's caches and labels: bind groups are made once per set of bound buffers, and a
// pooled buffer takes the label of the tensor that holds it now.
import { describe, expect, it } from 'vitest';
import { empty, fill, fromArray } from '../../src/engine/tensor.ts';
import { useGpu } from '../helpers.ts';

describe('device layer', () => {
  const gpu = useGpu();

  it('reuses a bind group for the same buffers and makes a new one when a buffer changes', async () => {
    const a = empty(gpu(), [37], 'cache.a');
    const b = empty(gpu(), [37], 'cache.b');
    fill(a, 1); // first use of these buffers with the fill kernel: one new bind group
    const afterFirst = gpu().bindGroupCount;
    fill(a, 2); // same buffer, other uniform values: the cached group
    fill(a, 3);
    expect(gpu().bindGroupCount).toBe(afterFirst);
    fill(b, 4); // another buffer: a new group
    expect(gpu().bindGroupCount).toBe(afterFirst + 1);
    fill(a, 5); // back to the first: still cached
    expect(gpu().bindGroupCount).toBe(afterFirst + 1);
    // The cached group binds the right buffer and each dispatch its own uniform values.
    expect(Array.from(await a.read())).toEqual(new Array(37).fill(5));
    expect(Array.from(await b.read())).toEqual(new Array(37).fill(4));
    a.dispose();
    b.dispose();
  });

  it('gives a reused pooled buffer the label of its new tensor', () => {
    const first = fromArray(gpu(), new Float32Array(50), [50], 'label.first');
    const buffer = first.buffer;
    expect(buffer.label).toBe('label.first');
    first.dispose();
    const second = empty(gpu(), [50], 'label.second');
    expect(second.buffer).toBe(buffer); // the pool handed the same buffer back
    expect(second.buffer.label).toBe('label.second');
    second.dispose();
  });
});
