// Opening a WebGPU device in the browser (navigator.gpu) or in Node (the `webgpu` package, Dawn).
// In Node without a GPU driver, Vulkan is pointed at SwiftShader (from Debian's chromium package).

/** What the engine needs of an adapter; the device is asked for the adapter's maximum of each. */
export const REQUIRED_LIMITS = {
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxStorageBufferBindingSize: 128 << 20,
  maxBufferSize: 128 << 20,
} as const;

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export const NO_ADAPTER_HELP = [
  'No WebGPU adapter was found.',
  '- In a browser: use a recent Chrome or Edge (WebGPU is on by default); on Linux start it with',
  '  --enable-unsafe-webgpu (and --enable-features=Vulkan), or Firefox Nightly / Safari 18+.',
  '- In Node (tests, CLI): the `webgpu` npm package needs the Vulkan loader and a Vulkan driver.',
  '  Without a GPU, install Debian\'s SwiftShader and loader: `apt-get install -y chromium libvulkan1`',
  `  (it provides ${SWIFTSHADER_ICD}); \`npm run setup\` does this when run as root.`,
].join('\n');

export interface OpenedDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** 'swiftshader' (CPU emulation) or 'gpu'; kernels pick their variants by it. */
  backend: 'swiftshader' | 'gpu';
  description: string;
  /** Node's `create()` result, kept alive as long as the device lives (GC of it crashes Node). */
  keepAlive: unknown;
}

export interface OpenOptions {
  /** Force SwiftShader in Node even where a GPU driver exists. */
  forceSwiftShader?: boolean;
  powerPreference?: GPUPowerPreference;
  /** Request 'timestamp-query' where the adapter has it (benchmark profiles); off by default. */
  timestamps?: boolean;
}

const keepAlive = new Set<unknown>();

interface NodeWebGpu {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

async function loadNodeWebGpu(): Promise<NodeWebGpu> {
  const pkg = 'webgpu';
  try {
    const mod = (await import(/* @vite-ignore */ pkg)) as NodeWebGpu;
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    return mod;
  } catch (e) {
    throw new Error(`Cannot load the 'webgpu' npm package (run npm install): ${(e as Error).message}\n${NO_ADAPTER_HELP}`);
  }
}

/**
 * Node: a real GPU's Vulkan driver when the machine has GPU device nodes, else (or when that
 * yields no adapter) SwiftShader. The Vulkan loader reads VK_ICD_FILENAMES at each instance.
 */
async function nodeAdapter(opts: OpenOptions): Promise<{ adapter: GPUAdapter | null; handle: unknown }> {
  const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  const env = proc?.env ?? {};
  const fs = await import(/* @vite-ignore */ 'node:fs');
  const mod = await loadNodeWebGpu();
  if (!env.XDG_RUNTIME_DIR) env.XDG_RUNTIME_DIR = '/tmp';
  const chosen = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES;
  const hasGpuNodes =
    fs.existsSync('/dev/nvidia0') ||
    (fs.existsSync('/dev/dri') && fs.readdirSync('/dev/dri').some((f: string) => f.startsWith('renderD')));
  const powerPreference = opts.powerPreference ?? 'high-performance';
  if (chosen || (hasGpuNodes && !opts.forceSwiftShader)) {
    const gpu = mod.create([]);
    keepAlive.add(gpu);
    const adapter = await gpu.requestAdapter({ powerPreference });
    if (adapter || chosen) return { adapter, handle: gpu };
  }
  if (!fs.existsSync(SWIFTSHADER_ICD)) return { adapter: null, handle: null };
  env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const gpu = mod.create([]);
  keepAlive.add(gpu);
  return { adapter: await gpu.requestAdapter({ powerPreference }), handle: gpu };
}

function clampLimit(adapter: GPUAdapter, name: keyof typeof REQUIRED_LIMITS): number {
  const have = adapter.limits[name] as number;
  const need = REQUIRED_LIMITS[name];
  if (have < need) {
    throw new Error(
      `This WebGPU adapter offers ${name} = ${have}, but the playground needs at least ${need}. ` +
        'Try another browser or GPU.',
    );
  }
  return have;
}

export async function openDevice(opts: OpenOptions = {}): Promise<OpenedDevice> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const inNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  let adapter: GPUAdapter | null = null;
  let handle: unknown = null;
  if (nav?.gpu) {
    adapter = await nav.gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } else if (inNode) {
    ({ adapter, handle } = await nodeAdapter(opts));
  } else {
    throw new Error(`WebGPU is not available here (navigator.gpu is missing).\n${NO_ADAPTER_HELP}`);
  }
  if (!adapter) throw new Error(NO_ADAPTER_HELP);
  const requiredLimits: Record<string, number> = {};
  for (const name of Object.keys(REQUIRED_LIMITS) as (keyof typeof REQUIRED_LIMITS)[]) {
    requiredLimits[name] = clampLimit(adapter, name);
  }
  const requiredFeatures: GPUFeatureName[] = opts.timestamps && adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  // Subgroup broadcasts let SwiftShader's matmul share loads between SIMD lanes (Gpu.subgroupSize).
  if (adapter.features.has('subgroups')) requiredFeatures.push('subgroups');
  const device = await adapter.requestDevice({ label: 'playground', requiredLimits, requiredFeatures });
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  const isSwiftShader = /swiftshader/i.test(text);
  return {
    device,
    adapter,
    backend: isSwiftShader ? 'swiftshader' : 'gpu',
    description: text || (isSwiftShader ? 'SwiftShader (CPU)' : 'unknown adapter'),
    keepAlive: handle,
  };
}
