// Scalars (losses, gradient norms) read back asynchronously and in batches: each step records a
// GPU-side copy of its value into the next slot of a ring, and the host maps the whole ring once
// every few steps, so a training step never waits on the GPU.
import { STORAGE_USAGE, type Gpu } from './gpu.ts';
import type { Tensor } from './tensor.ts';

export class ScalarRing {
  private buffer: GPUBuffer;
  private count = 0;

  constructor(private gpu: Gpu, readonly capacity: number, readonly label = 'scalar-ring') {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`${label}: capacity must be a positive integer`);
    this.buffer = gpu.device.createBuffer({ size: capacity * 4, usage: STORAGE_USAGE, label }); // [capacity]
  }

  /** Values recorded and not yet drained. */
  get pending(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Records a copy of element `index` of `t` into the next slot (no host wait). */
  push(t: Tensor, index = 0): void {
    if (this.full) throw new Error(`${this.label}: full; drain() before pushing more`);
    if (index < 0 || index >= t.size) throw new Error(`${this.label}: index ${index} outside ${t.label} (${t.size} values)`);
    this.gpu.copy({ buffer: t.buffer, offset: index * 4 }, { buffer: this.buffer, offset: this.count * 4 }, 4);
    this.count++;
  }

  /** Reads every recorded value in push order and empties the ring; later pushes may continue at once. */
  drain(): Promise<Float32Array> {
    const n = this.count;
    this.count = 0;
    if (n === 0) return Promise.resolve(new Float32Array(0));
    return this.gpu.readBytes({ buffer: this.buffer }, n * 4).then((b) => new Float32Array(b));
  }

  destroy(): void {
    this.gpu.destroyBuffer(this.buffer);
  }
}
