// One compute pipeline built once and encoded many times. Resources are bound by their WGSL
// variable names; the bind group layout and the uniform struct's byte layout come from the shader
// itself through webgpu-utils, never from hand-computed offsets.
import './float16-shim.ts';
import {
  makeBindGroupLayoutDescriptors,
  makeShaderDataDefinitions,
  makeStructuredView,
  type ShaderDataDefinitions,
  type StructuredView,
} from 'webgpu-utils';
import common from '../../shaders/common.wgsl?raw';
import type { BufferSlice, Gpu } from './gpu.ts';

export interface KernelSpec {
  /** Names the kernel in errors and GPU debug labels; also its cache key with entry and constants. */
  label: string;
  /** WGSL source: whole files of shaders/ (shaders/common.wgsl is prepended here, for every kernel). */
  code: string;
  entry: string;
  /** Values for the shader's `override` declarations (workgroup sizes, tile sizes). */
  constants?: Record<string, number>;
}

/** Anything with a GPU buffer and a byte length: a Tensor, or a raw slice. */
export interface Bindable {
  buffer: GPUBuffer;
  byteOffset?: number;
  byteLength: number;
}

export type Binding = Bindable | BufferSlice;

const defsCache = new Map<string, ShaderDataDefinitions>();
const moduleCache = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

function definitions(code: string): ShaderDataDefinitions {
  let d = defsCache.get(code);
  if (!d) defsCache.set(code, (d = makeShaderDataDefinitions(code)));
  return d;
}

function shaderModule(device: GPUDevice, code: string, label: string): GPUShaderModule {
  let perDevice = moduleCache.get(device);
  if (!perDevice) moduleCache.set(device, (perDevice = new Map()));
  let m = perDevice.get(code);
  if (!m) perDevice.set(code, (m = device.createShaderModule({ code, label })));
  return m;
}

/** The kernel's source after the shared prelude (grid index, phi, momentum weights). */
function withCommon(code: string): string {
  // Directives (enable, diagnostic) must open the module, so they move before common.wgsl.
  const directive = /^(?:enable|diagnostic)\b[^;]*;$/gm;
  const directives = code.match(directive);
  if (!directives) return `${common}\n${code}`;
  return `${directives.join('\n')}\n${common}\n${code.replace(directive, '')}`;
}

/** Small integer ids for buffers, the keys of the bind group caches. */
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;

function bufferId(b: GPUBuffer): number {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = nextBufferId++));
  return id;
}

/**
 * Bind groups a kernel keeps, by the buffers (and byte ranges) bound: a training step binds the
 * same pooled buffers step after step. Past this many the cache starts over, so buffers freed by
 * a pool trim are not held for long.
 */
export const BIND_GROUP_CACHE_SIZE = 256;

function isBindable(b: Binding): b is Bindable {
  return (b as Bindable).byteLength !== undefined;
}

export class Kernel {
  readonly label: string;
  /**
   * The compiled pipeline; null while it compiles. Pipelines are built with
   * createComputePipelineAsync, so a browser compiles them off the thread that draws the page
   * (a synchronous build of the row attention kernels held Chromium's frames for 1-10 s); the
   * Gpu holds back work that dispatches a kernel until it is compiled (see Gpu.dispatch).
   */
  pipeline: GPUComputePipeline | null = null;
  /** Settles when the pipeline is built: resolves, or rejects with the compiler's message. */
  readonly compiled: Promise<GPUComputePipeline>;
  private layout: GPUBindGroupLayout;
  private resources: { name: string; binding: number; uniform: boolean }[];
  private uniformView: StructuredView | null = null;
  private uniformName: string | null = null;
  private uniformFields: string[] = [];
  private bindGroups = new Map<string, GPUBindGroup>();

  constructor(private gpu: Gpu, spec: KernelSpec) {
    this.label = `${spec.label}:${spec.entry}`;
    const code = withCommon(spec.code);
    const defs = definitions(code);
    const entry = defs.entryPoints[spec.entry];
    if (!entry) throw new Error(`${spec.label}: no entry point '${spec.entry}' in its WGSL`);
    const [desc] = makeBindGroupLayoutDescriptors(defs, { compute: { entryPoint: spec.entry } });
    this.resources = entry.resources.map((r) => ({
      name: r.name,
      binding: r.entry.binding,
      uniform: r.name in defs.uniforms,
    }));
    // The uniform slot moves through the arena every dispatch: bind it with a dynamic offset, so a
    // bind group depends on the storage buffers alone and can be reused.
    const uniformBindings = new Set(this.resources.filter((r) => r.uniform).map((r) => r.binding));
    const entries = [...desc!.entries].map((e) =>
      uniformBindings.has(e.binding) ? { ...e, buffer: { ...e.buffer, type: 'uniform' as const, hasDynamicOffset: true } } : e,
    );
    this.layout = gpu.device.createBindGroupLayout({ entries, label: this.label });
    const uniforms = this.resources.filter((r) => r.uniform);
    if (uniforms.length > 1) throw new Error(`${this.label}: at most one uniform struct per entry point`);
    if (uniforms[0]) {
      this.uniformName = uniforms[0].name;
      const def = defs.uniforms[this.uniformName]!;
      this.uniformView = makeStructuredView(def);
      this.uniformFields = Object.keys((def.typeDefinition as { fields?: object }).fields ?? {});
    }
    const module = shaderModule(gpu.device, code, spec.label);
    this.compiled = gpu.device
      .createComputePipelineAsync({
        label: this.label,
        layout: gpu.device.createPipelineLayout({ bindGroupLayouts: [this.layout], label: this.label }),
        compute: { module, entryPoint: spec.entry, constants: spec.constants },
      })
      .then((p) => (this.pipeline = p));
  }

  /**
   * Records one dispatch. `bindings` names each storage variable the entry point uses; `params`
   * fills its uniform struct by field name; `workgroups` is the dispatch grid.
   */
  run(
    bindings: Record<string, Binding>,
    params: Record<string, unknown> | null,
    workgroups: readonly [number, number?, number?],
  ): void {
    const entries: GPUBindGroupEntry[] = [];
    const offsets: number[] = [];
    let key = '';
    for (const r of this.resources) {
      if (r.uniform) {
        if (!params) throw new Error(`${this.label}: needs uniform values for '${r.name}'`);
        // A field left out would keep the previous dispatch's value: refuse instead.
        for (const f of this.uniformFields) {
          if (params[f] === undefined) throw new Error(`${this.label}: uniform field '${r.name}.${f}' not given`);
        }
        this.uniformView!.set(params);
        const slot = this.gpu.uniform(new Uint8Array(this.uniformView!.arrayBuffer));
        entries.push({ binding: r.binding, resource: { buffer: slot.buffer, offset: 0, size: slot.size } });
        offsets.push(slot.offset);
        key += `u${bufferId(slot.buffer)}:${slot.size};`;
        continue;
      }
      const b = bindings[r.name];
      if (!b) throw new Error(`${this.label}: no buffer given for '${r.name}'`);
      const offset = isBindable(b) ? (b.byteOffset ?? 0) : (b.offset ?? 0);
      const size = isBindable(b) ? Math.max(4, Math.ceil(b.byteLength / 4) * 4) : b.size;
      entries.push({ binding: r.binding, resource: { buffer: b.buffer, offset, size } });
      key += `${bufferId(b.buffer)}:${offset}:${size ?? ''};`;
    }
    for (const name of Object.keys(bindings)) {
      if (!this.resources.some((r) => r.name === name)) {
        throw new Error(`${this.label}: the entry point does not use a binding named '${name}'`);
      }
    }
    // Profiling hook: the observer (when set) also gets the uniform values and the bytes bound.
    const observed = this.gpu.observer
      ? { params, boundBytes: entries.reduce((s, e, i) => (this.resources[i]!.uniform ? s : s + ((e.resource as GPUBufferBinding).size ?? 0)), 0) }
      : undefined;
    this.gpu.dispatch(this, this.bindGroup(key, entries), workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1, offsets, observed);
  }

  /** The cached bind group for these entries, made on first use. */
  private bindGroup(key: string, entries: GPUBindGroupEntry[]): GPUBindGroup {
    let group = this.bindGroups.get(key);
    if (!group) {
      if (this.bindGroups.size >= BIND_GROUP_CACHE_SIZE) this.bindGroups.clear();
      group = this.gpu.device.createBindGroup({ layout: this.layout, entries, label: this.label });
      this.bindGroups.set(key, group);
      this.gpu.bindGroupCount++;
    }
    return group;
  }
}
