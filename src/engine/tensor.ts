// Tensors on GPU buffers, and the tape that records each op's backward beside its forward.
import coreWgsl from '../../shaders/core.wgsl?raw';
import { STORAGE_USAGE, type Gpu } from './gpu.ts';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= s;
  }
  return n;
}

/** A float32 (or u32, by `dtype`) array in a GPU buffer. Pooled unless `persistent`. */
export class Tensor {
  readonly size: number;
  grad: Tensor | null = null;
  private released = false;

  constructor(
    readonly gpu: Gpu,
    readonly shape: Shape,
    readonly buffer: GPUBuffer,
    readonly label: string,
    readonly requiresGrad = false,
    readonly persistent = false,
    readonly dtype: 'f32' | 'u32' = 'f32',
  ) {
    this.size = numel(shape);
  }

  get byteLength(): number {
    return this.size * 4;
  }

  /** A view of the same buffer with another shape of equal size. */
  reshape(shape: Shape): Tensor {
    if (numel(shape) !== this.size) {
      throw new Error(`${this.label}: cannot reshape [${this.shape.join(', ')}] to [${shape.join(', ')}]`);
    }
    const t = new Tensor(this.gpu, shape, this.buffer, this.label, this.requiresGrad, true, this.dtype);
    return t;
  }

  async read(): Promise<Float32Array> {
    if (this.released) throw new Error(`${this.label}: read after dispose`);
    return new Float32Array(await this.gpu.readBytes(this, this.byteLength));
  }

  async readU32(): Promise<Uint32Array> {
    return new Uint32Array(await this.gpu.readBytes(this, this.byteLength));
  }

  write(data: Float32Array | Uint32Array | Int32Array): void {
    if (data.length !== this.size) {
      throw new Error(`${this.label}: writing ${data.length} values into a tensor of ${this.size}`);
    }
    this.gpu.write(this.buffer, data);
  }

  /**
   * Returns a pooled buffer to the pool. Persistent tensors (parameters, optimizer state, reshaped
   * views) are left alone: whoever created their buffer destroys it.
   */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    if (this.persistent) return;
    this.gpu.pool.release(this.buffer);
  }

  get isDisposed(): boolean {
    return this.released;
  }
}

export function empty(gpu: Gpu, shape: Shape, label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
  const n = numel(shape);
  return new Tensor(gpu, shape, gpu.pool.acquire(n * 4, label), label, false, false, dtype);
}

export function fromArray(gpu: Gpu, data: Float32Array | Uint32Array, shape: Shape, label: string): Tensor {
  const t = empty(gpu, shape, label, data instanceof Uint32Array ? 'u32' : 'f32');
  t.write(data);
  return t;
}

/** A pooled tensor that collects a gradient: an input a caller differentiates with respect to. */
export function variable(gpu: Gpu, data: Float32Array, shape: Shape, label: string): Tensor {
  const t = new Tensor(gpu, shape, gpu.pool.acquire(numel(shape) * 4, label), label, true);
  t.write(data);
  return t;
}

/** A persistent tensor that owns its buffer and collects gradients (a model parameter). */
export function parameter(gpu: Gpu, data: Float32Array, shape: Shape, label: string): Tensor {
  const bytes = Math.max(16, numel(shape) * 4);
  const buf = gpu.device.createBuffer({ size: Math.ceil(bytes / 16) * 16, usage: STORAGE_USAGE, label });
  const t = new Tensor(gpu, shape, buf, label, true, true);
  t.write(data);
  return t;
}

/** Threads per workgroup of the core kernels (the WGSL's `override WG`). */
const CORE_WG = 256;

/** Records a core kernel over `size` values: four per invocation where size is a multiple of 4. */
function runCore(gpu: Gpu, entry: 'accumulate' | 'fill', bindings: { dst: Tensor; src?: Tensor }, size: number, value: number) {
  const vec4 = size % 4 === 0;
  const code = `alias V = ${vec4 ? 'vec4f' : 'f32'};\n${coreWgsl}`;
  const n = vec4 ? size / 4 : size;
  gpu
    .kernel({ label: vec4 ? 'core.vec4' : 'core', code, entry, constants: { WG: CORE_WG } })
    .run(bindings, { n, value }, gpu.grid(Math.ceil(n / CORE_WG)));
}

/** dst += src, elementwise, on the GPU. */
export function addInto(dst: Tensor, src: Tensor): void {
  if (dst.size !== src.size) throw new Error(`addInto: ${dst.label} has ${dst.size} values, ${src.label} ${src.size}`);
  runCore(dst.gpu, 'accumulate', { dst, src }, dst.size, 0);
}

export function fill(t: Tensor, value: number): void {
  runCore(t.gpu, 'fill', { dst: t }, t.size, value);
}

interface TapeEntry {
  name: string;
  outputs: Tensor[];
  backward: () => void;
}

/**
 * Records ops in order; `backward(loss)` replays their backwards in reverse. Each backward reads
 * its outputs' `.grad` and calls `tape.accumulate(input, g)` for each input that needs a gradient,
 * so a tensor used twice gets the sum. Intermediates and gradients made during the step are owned
 * by the tape and returned to the pool by `dispose()`.
 */
export class Tape {
  private entries: TapeEntry[] = [];
  private owned = new Set<Tensor>();
  /** False for inference: ops then record nothing and keep nothing for a backward. */
  readonly grad: boolean;

  constructor(readonly gpu: Gpu, opts: { grad?: boolean } = {}) {
    this.grad = opts.grad ?? true;
  }

  /** An intermediate tensor that lives until dispose(). */
  empty(shape: Shape, label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
    return this.own(empty(this.gpu, shape, label, dtype));
  }

  own<T extends Tensor>(t: T): T {
    this.owned.add(t);
    return t;
  }

  record(name: string, outputs: Tensor[], backward: () => void): void {
    this.entries.push({ name, outputs, backward });
  }

  /** Whether an op with these inputs needs its backward recorded. */
  needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
    return this.grad && inputs.some((t) => t && (t.requiresGrad || this.produced.has(t)));
  }

  private produced = new Set<Tensor>();

  /** Marks an op's output as depending on something that needs a gradient. */
  tracks(t: Tensor): Tensor {
    this.produced.add(t);
    return t;
  }

  /** Adds g to t.grad (taking ownership of g when t has none yet). */
  accumulate(t: Tensor, g: Tensor): void {
    if (!t.requiresGrad && !this.produced.has(t)) {
      g.dispose();
      return;
    }
    if (!t.grad) {
      t.grad = g;
      this.owned.add(g);
    } else {
      addInto(t.grad, g);
      g.dispose();
    }
  }

  /**
   * A differentiable reshape: a view of x's buffer with another shape whose gradient flows back
   * to x. (`Tensor.reshape` alone makes a view the tape does not know about.)
   */
  view(x: Tensor, shape: Shape): Tensor {
    const v = x.reshape(shape);
    if (this.needsGrad(x)) {
      this.tracks(v);
      this.record('view', [v], () => this.accumulate(x, v.grad!.reshape(x.shape)));
    }
    return v;
  }

  /** Seeds d(loss)/d(loss) = 1 (or `seed`) and runs every recorded backward in reverse. */
  backward(loss: Tensor, seed?: Tensor): void {
    const g = seed ?? this.empty(loss.shape, 'dloss');
    if (!seed) fill(g, 1);
    loss.grad = g;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.outputs.some((o) => o.grad)) e.backward();
    }
  }

  /** Releases intermediates and gradients (parameters keep `.grad` only until this call). */
  dispose(params: Tensor[] = []): void {
    for (const p of params) p.grad = null;
    for (const t of this.owned) t.dispose();
    this.owned.clear();
    this.entries = [];
    this.produced.clear();
  }
}
