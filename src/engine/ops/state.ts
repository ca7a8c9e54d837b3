// Tensors that own their buffers (parameters, optimizer state) beyond one step: freeing them, and
// keeping a copy of their contents on the GPU to go back to (a trainer's rollback), so no caller
// outside the engine creates, copies or destroys a GPU buffer itself.
import { Usage, type Gpu } from '../gpu.ts';
import type { Tensor } from '../tensor.ts';

/** Frees tensors that own their buffers; a pooled tensor is refused (its buffer is the pool's). */
export function destroyTensors(tensors: Iterable<Tensor>): void {
  const list = [...tensors];
  for (const t of list) {
    if (!t.persistent) throw new Error(`destroyTensors: ${t.label} is pooled; dispose() it instead`);
  }
  for (const t of list) {
    t.dispose();
    t.gpu.destroyBuffer(t.buffer);
  }
}

/**
 * A GPU-side copy of some tensors' contents: `save()` records copies of their current values,
 * `restore()` records copies back. Both only encode; the caller's flush submits them in order
 * with the rest of its work.
 */
export class TensorSnapshot {
  private readonly copies: { src: Tensor; copy: GPUBuffer }[];
  private destroyed = false;

  constructor(private readonly gpu: Gpu, tensors: readonly Tensor[], label: string) {
    this.copies = tensors.map((src) => ({
      src,
      copy: gpu.device.createBuffer({ size: src.buffer.size, usage: Usage.COPY_SRC | Usage.COPY_DST, label: `${src.label}.${label}` }),
    }));
  }

  save(): void {
    this.check('save');
    for (const c of this.copies) this.gpu.copy({ buffer: c.src.buffer }, { buffer: c.copy }, c.src.buffer.size);
  }

  restore(): void {
    this.check('restore');
    for (const c of this.copies) this.gpu.copy({ buffer: c.copy }, { buffer: c.src.buffer }, c.src.buffer.size);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.copies) this.gpu.destroyBuffer(c.copy);
  }

  private check(what: string): void {
    if (this.destroyed) throw new Error(`TensorSnapshot.${what}() after destroy()`);
  }
}
