// The device layer: one Gpu owns a GPUDevice, a buffer pool, a uniform arena and a recorder that
// batches every dispatch of a step into one command buffer. Errors (validation, out-of-memory,
// device loss) are caught by error scopes around each submission and rethrown on the next read,
// so a broken kernel never passes as silently wrong numbers.
import { openDevice, type OpenOptions, type OpenedDevice } from './device.ts';
import { Kernel, type KernelSpec } from './kernel.ts';

/** WebGPU's buffer usage and map mode bits (spec values; Node has no globals until a device opens). */
export const Usage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ_MODE = 0x1;
/** Storage buffers: bound by kernels, copied from (readback) and to (writes, clears). */
export const STORAGE_USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;
/** Uniform slots are this far apart (WebGPU's minUniformBufferOffsetAlignment is at most 256). */
const UNIFORM_ALIGN = 256;
const UNIFORM_CHUNK_BYTES = 256 * 1024;

/** Pool bucket for a byte size: powers of two from 256 B, so a freed buffer fits many later requests. */
export function bucketBytes(bytes: number): number {
  let b = 256;
  while (b < bytes) b *= 2;
  return b;
}

/** Reuses storage buffers by size bucket and keeps the byte counts that benchmarks report. */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  /** Bytes held by buffers handed out and not yet released. */
  inUseBytes = 0;
  /** Largest inUseBytes seen since the last resetPeak(). */
  peakBytes = 0;
  /** Bytes of all buffers this pool created and still holds (in use or free). */
  allocatedBytes = 0;

  /** `destroy` frees a buffer (the Gpu's destroyBuffer, so held-back work that binds it runs first). */
  constructor(
    private device: GPUDevice,
    private maxBuffer: number,
    private destroy: (b: GPUBuffer) => void = (b) => b.destroy(),
  ) {}

  acquire(bytes: number, label: string): GPUBuffer {
    const size = bucketBytes(Math.max(bytes, 4));
    if (size > this.maxBuffer && bytes <= this.maxBuffer) return this.create(bytes, label, bytes);
    if (bytes > this.maxBuffer) {
      throw new Error(`${label}: a buffer of ${bytes} bytes exceeds this device's limit of ${this.maxBuffer} bytes`);
    }
    const list = this.free.get(size);
    const reused = list?.pop();
    // A reused buffer takes its new tensor's label, so a validation error names the right tensor.
    if (reused) reused.label = label;
    const buf = reused ?? this.create(size, label, size);
    this.inUseBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.inUseBytes);
    return buf;
  }

  private create(size: number, label: string, counted: number): GPUBuffer {
    this.allocatedBytes += counted;
    return this.device.createBuffer({ size: Math.ceil(size / 4) * 4, usage: STORAGE_USAGE, label });
  }

  release(buf: GPUBuffer): void {
    const size = buf.size;
    this.inUseBytes -= size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buf);
  }

  resetPeak(): void {
    this.peakBytes = this.inUseBytes;
  }

  /** Frees every buffer not in use (e.g. after a big benchmark). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.allocatedBytes -= b.size;
        this.destroy(b);
      }
    }
    this.free.clear();
  }
}

interface UniformChunk {
  buffer: GPUBuffer;
  shadow: Uint8Array;
  used: number;
}

/** Uniform values for every dispatch of one submission, written to the GPU once at submit. */
class UniformArena {
  private chunks: UniformChunk[] = [];
  private current = 0;

  constructor(private device: GPUDevice) {}

  alloc(bytes: Uint8Array): { buffer: GPUBuffer; offset: number; size: number } {
    const size = Math.ceil(bytes.byteLength / 16) * 16;
    let chunk = this.chunks[this.current];
    if (chunk && chunk.used + size > UNIFORM_CHUNK_BYTES) chunk = this.chunks[++this.current];
    if (!chunk) {
      chunk = {
        buffer: this.device.createBuffer({
          size: UNIFORM_CHUNK_BYTES,
          usage: Usage.UNIFORM | Usage.COPY_DST,
          label: `uniform-arena-${this.chunks.length}`,
        }),
        shadow: new Uint8Array(UNIFORM_CHUNK_BYTES),
        used: 0,
      };
      this.chunks.push(chunk);
      this.current = this.chunks.length - 1;
    }
    const offset = chunk.used;
    chunk.shadow.set(bytes, offset);
    chunk.used = Math.ceil((offset + size) / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    return { buffer: chunk.buffer, offset, size };
  }

  /** Uploads what this submission used; queue order makes reuse by the next submission safe. */
  upload(queue: GPUQueue): void {
    this.empty((c) => queue.writeBuffer(c.buffer, 0, c.shadow, 0, c.used));
  }

  /**
   * What this submission used, copied, and the arena emptied for the next: the returned function
   * uploads the copy. For a submission held back while kernels compile, whose upload comes later.
   */
  take(): (queue: GPUQueue) => void {
    const parts: { buffer: GPUBuffer; bytes: Uint8Array }[] = [];
    this.empty((c) => parts.push({ buffer: c.buffer, bytes: c.shadow.slice(0, c.used) }));
    return (queue) => {
      for (const p of parts) queue.writeBuffer(p.buffer, 0, p.bytes);
    };
  }

  /** Hands each chunk in use to `used`, then empties the arena for the next submission. */
  private empty(used: (c: UniformChunk) => void): void {
    for (const c of this.chunks) {
      if (c.used > 0) used(c);
      c.used = 0;
    }
    this.current = 0;
  }
}

// --- Profiling hook (used by src/bench/profile.ts; nothing changes while `observer` is null) ---
/** What a dispatch observer is told about each dispatch as it is recorded. */
export interface DispatchInfo {
  /** The kernel as `label:entry`. */
  label: string;
  workgroups: readonly [number, number, number];
  /** The uniform values the kernel was given (null when it has none or was dispatched directly). */
  params: Record<string, unknown> | null;
  /** Bytes of the storage buffers bound: the most the dispatch can read or write. */
  boundBytes: number;
  /** The kernel dispatched; its `pipeline` may still be compiling (it is built once `gpu.settled()` resolves). */
  kernel: Kernel;
  bindGroup: GPUBindGroup;
  /** The bind group's dynamic offsets (the uniform's slot in the arena). */
  dynamicOffsets: readonly number[];
}
/** Returns timestamp writes to give this dispatch a compute pass of its own that is timed. */
export type DispatchObserver = (info: DispatchInfo) => GPUComputePassTimestampWrites | void;
// --- end of the profiling hook's types ---

export interface BufferSlice {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/** The engine's handle on one device. */
export class Gpu {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly backend: 'swiftshader' | 'gpu';
  readonly description: string;
  readonly limits: GPUSupportedLimits;
  /** The subgroup size where the 'subgroups' feature is on and the size is fixed (min = max), else null. */
  readonly subgroupSize: number | null;
  readonly pool: BufferPool;
  private readonly keepAlive: unknown;
  private arena: UniformArena;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  private pendingScopes: Promise<void>[] = [];
  private failure: Error | null = null;
  private destroyed = false;
  private kernels = new Map<string, Kernel>();
  /**
   * Work recorded while a kernel it dispatches is still compiling, in order (null when none is
   * held): dispatches, copies, clears, writes, submissions and buffer frees, replayed as soon as
   * every kernel in `waitingFor` is built. Callers never see it: reads and sync() wait for it.
   */
  private held: (() => void)[] | null = null;
  private waitingFor = new Set<Kernel>();
  private heldDone: { promise: Promise<void>; resolve: () => void } | null = null;
  /** Buffers freed while commands that use them were recorded and not yet submitted. */
  private destroyAfterSubmit: GPUBuffer[] = [];
  /** Dispatches recorded since creation (benchmarks read it). */
  dispatchCount = 0;
  /** Bind groups created since creation (kernels cache them by the buffers bound). */
  bindGroupCount = 0;
  submitCount = 0;
  /** Profiling hook: told of every dispatch while set (see DispatchObserver). */
  observer: DispatchObserver | null = null;

  constructor(opened: OpenedDevice) {
    this.device = opened.device;
    this.adapter = opened.adapter;
    this.backend = opened.backend;
    this.description = opened.description;
    this.keepAlive = opened.keepAlive;
    this.limits = opened.device.limits;
    const info = opened.adapter.info as (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
    const fixed = info?.subgroupMinSize !== undefined && info.subgroupMinSize === info.subgroupMaxSize;
    this.subgroupSize = opened.device.features.has('subgroups') && fixed ? info.subgroupMinSize! : null;
    this.pool = new BufferPool(this.device, Math.min(this.limits.maxBufferSize, this.limits.maxStorageBufferBindingSize), (b) =>
      this.destroyBuffer(b),
    );
    this.arena = new UniformArena(this.device);
    this.device.addEventListener('uncapturederror', (ev) => {
      this.fail(new Error(`WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`));
    });
    void this.device.lost.then((info) => {
      if (!this.destroyed) this.fail(new Error(`The GPU device was lost (${info.reason}): ${info.message}`));
    });
  }

  static async open(opts: OpenOptions = {}): Promise<Gpu> {
    return new Gpu(await openDevice(opts));
  }

  /** The first error seen on this device, if any; further work is refused after one. */
  get error(): Error | null {
    return this.failure;
  }

  fail(err: Error): void {
    if (!this.failure) this.failure = err;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
    if (this.destroyed) throw new Error('This Gpu has been destroyed');
  }

  /**
   * A kernel, built once per (label, entry point, constants) and cached: a label names one code.
   * It compiles in the background; work that dispatches it is held back until it is built.
   */
  kernel(spec: KernelSpec): Kernel {
    const key = `${spec.label}|${spec.entry}|${JSON.stringify(spec.constants ?? {})}`;
    let k = this.kernels.get(key);
    if (!k) {
      this.device.pushErrorScope('validation');
      const made = new Kernel(this, spec);
      this.track(this.device.popErrorScope(), `compiling ${spec.label}:${spec.entry}`);
      made.compiled.then(
        () => this.compiledOne(made),
        (e: unknown) => {
          this.fail(new Error(`WebGPU error while compiling ${made.label}: ${e instanceof Error ? e.message : String(e)}`));
          this.compiledOne(made);
        },
      );
      this.kernels.set(key, (k = made));
    }
    return k;
  }

  /** Resolves when no recorded work is held back for a kernel still compiling. */
  settled(): Promise<void> {
    return this.heldDone?.promise ?? Promise.resolve();
  }

  /** Kernels not built yet (the worker's busy line and tests read it; one that failed to build stays counted). */
  get compiling(): number {
    let n = 0;
    for (const k of this.kernels.values()) if (!k.pipeline) n++;
    return n;
  }

  /** Queues `op` behind held work, or runs it now when nothing is held. */
  private inOrder(op: () => void): void {
    if (this.held) this.held.push(op);
    else op();
  }

  private hold(k: Kernel): void {
    this.waitingFor.add(k);
    if (this.held) return;
    this.held = [];
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.heldDone = { promise, resolve };
  }

  /** A kernel finished compiling (or failed): replays the held work once nothing it needs is missing. */
  private compiledOne(k: Kernel): void {
    if (!this.waitingFor.delete(k) || this.waitingFor.size > 0 || !this.held) return;
    const ops = this.held;
    const done = this.heldDone!;
    this.held = null;
    this.heldDone = null;
    try {
      // A failed device refuses work: the held work is dropped, and the next read reports why.
      if (!this.failure && !this.destroyed) for (const op of ops) op();
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      done.resolve();
    }
  }

  /**
   * Frees a buffer after every recorded use of it: WebGPU refuses a submission that uses a
   * destroyed buffer, so with commands still unsubmitted it is destroyed right after their submit.
   */
  destroyBuffer(b: GPUBuffer): void {
    this.inOrder(() => {
      if (this.encoder) this.destroyAfterSubmit.push(b);
      else b.destroy();
    });
  }

  /** Follows an error scope's promise; an error fails the device for every later read. */
  track(scope: Promise<GPUError | null>, what: string): void {
    this.pendingScopes.push(
      scope.then((err) => {
        if (err) this.fail(new Error(`WebGPU ${err.constructor?.name ?? 'error'} while ${what}: ${err.message}`));
      }),
    );
  }

  private ensurePass(): GPUComputePassEncoder {
    this.throwIfFailed();
    if (!this.encoder) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder({ label: 'step' });
    }
    if (!this.pass) this.pass = this.encoder.beginComputePass({ label: 'compute' });
    return this.pass;
  }

  private ensureEncoder(): GPUCommandEncoder {
    this.ensurePass();
    this.pass!.end();
    this.pass = null;
    return this.encoder!;
  }

  uniform(bytes: Uint8Array): { buffer: GPUBuffer; offset: number; size: number } {
    return this.arena.alloc(bytes);
  }

  /**
   * Records one dispatch into the current command buffer; while `kernel` compiles (or other work
   * is held back for a kernel), the dispatch and all work after it wait, in order, and are
   * recorded once the kernels are built.
   */
  dispatch(
    kernel: Kernel,
    bindGroup: GPUBindGroup,
    x: number,
    y = 1,
    z = 1,
    dynamicOffsets: number[] = [],
    observed?: { params: Record<string, unknown> | null; boundBytes: number },
  ): void {
    this.throwIfFailed();
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new Error(`${kernel.label}: dispatch (${x}, ${y}, ${z}) exceeds ${max} workgroups per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    this.dispatchCount++;
    // Profiling hook, told now, as the dispatch is recorded, even if it is encoded later: a
    // dispatch given timestamp writes runs in a compute pass of its own.
    const timestampWrites =
      this.observer?.({
        label: kernel.label,
        workgroups: [x, y, z],
        params: observed?.params ?? null,
        boundBytes: observed?.boundBytes ?? 0,
        kernel,
        bindGroup,
        dynamicOffsets,
      }) ?? null;
    if (!kernel.pipeline) this.hold(kernel);
    this.inOrder(() => this.encodeDispatch(kernel.pipeline!, bindGroup, x, y, z, dynamicOffsets, timestampWrites));
  }

  private encodeDispatch(
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    x: number,
    y: number,
    z: number,
    dynamicOffsets: number[],
    timestampWrites: GPUComputePassTimestampWrites | null,
  ): void {
    if (timestampWrites) {
      const enc = this.ensureEncoder();
      const timed = enc.beginComputePass({ label: pipeline.label, timestampWrites });
      timed.setPipeline(pipeline);
      timed.setBindGroup(0, bindGroup, dynamicOffsets);
      timed.dispatchWorkgroups(x, y, z);
      timed.end();
      this.pendingDispatches++;
      return;
    }
    const pass = this.ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, dynamicOffsets);
    pass.dispatchWorkgroups(x, y, z);
    this.pendingDispatches++;
  }

  /** Splits a 1-D workgroup count over x and y so neither exceeds the per-dimension limit. */
  grid(workgroups: number): [number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (workgroups <= max) return [workgroups, 1];
    const y = Math.ceil(workgroups / max);
    return [Math.ceil(workgroups / y), y];
  }

  copy(src: BufferSlice, dst: BufferSlice, bytes: number): void {
    this.throwIfFailed();
    this.inOrder(() => this.ensureEncoder().copyBufferToBuffer(src.buffer, src.offset ?? 0, dst.buffer, dst.offset ?? 0, bytes));
  }

  clear(dst: BufferSlice, bytes: number): void {
    this.throwIfFailed();
    this.inOrder(() => this.ensureEncoder().clearBuffer(dst.buffer, dst.offset ?? 0, Math.ceil(bytes / 4) * 4));
  }

  /** Writes host data into a buffer, in order with everything recorded before it. */
  write(dst: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    this.throwIfFailed();
    if (this.held) {
      // Held back: the caller may change `data` once this returns, so the write keeps a copy.
      this.flush();
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
      this.held.push(() => this.device.queue.writeBuffer(dst, offset, bytes));
      return;
    }
    // queue.writeBuffer runs ahead of unsubmitted commands, so submit them first.
    if (this.encoder) this.flush();
    this.device.queue.writeBuffer(dst, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Submits what has been recorded (once held-back work is recorded, if some is). Never waits for the GPU. */
  flush(): void {
    if (this.held) {
      // The uniform values of the dispatches recorded so far go with this submission.
      const upload = this.arena.take();
      this.held.push(() => this.submit(upload));
      return;
    }
    this.submit((queue) => this.arena.upload(queue));
  }

  private submit(upload: (queue: GPUQueue) => void): void {
    if (!this.encoder) return;
    if (this.pass) this.pass.end();
    this.pass = null;
    const cmd = this.encoder.finish();
    this.encoder = null;
    upload(this.device.queue);
    this.device.queue.submit([cmd]);
    for (const b of this.destroyAfterSubmit.splice(0)) b.destroy();
    this.track(this.device.popErrorScope(), 'running kernels');
    this.track(this.device.popErrorScope(), 'allocating buffers');
    this.pendingDispatches = 0;
    this.submitCount++;
  }

  /**
   * Copies `bytes` of a buffer to the host. Returns a promise; the copy is recorded now, so later
   * work may reuse the buffer. Throws if any error happened on the device before the data arrived.
   */
  readBytes(src: BufferSlice, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({
      size: Math.max(size, 4),
      usage: Usage.MAP_READ | Usage.COPY_DST,
      label: 'readback',
    });
    if (size > 0) this.copy(src, { buffer: staging }, size);
    this.flush();
    return (async () => {
      // Held-back work is submitted (and its error scopes opened) once its kernels are built.
      await this.settled();
      const scopes = this.pendingScopes;
      this.pendingScopes = [];
      try {
        if (this.failure) throw this.failure;
        await staging.mapAsync(MAP_READ_MODE);
        await Promise.all(scopes);
        this.throwIfFailed();
        return staging.getMappedRange().slice(0, bytes);
      } catch (e) {
        await Promise.all(scopes);
        throw this.failure ?? e;
      } finally {
        staging.destroy();
      }
    })();
  }

  /** Waits for all submitted work and surfaces any error it raised. */
  async sync(): Promise<void> {
    this.flush();
    await this.settled();
    const scopes = this.pendingScopes;
    this.pendingScopes = [];
    await this.device.queue.onSubmittedWorkDone();
    await Promise.all(scopes);
    this.throwIfFailed();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.held = null; // work held for compiling kernels is dropped with the device
    this.heldDone?.resolve();
    this.heldDone = null;
    this.waitingFor.clear();
    this.pool.trim();
    this.device.destroy();
    void this.keepAlive;
  }
}
