#!/usr/bin/env node
// Makes sure what the tests need outside npm is on this machine: a Chromium (browser tests, and
// SwiftShader, its CPU Vulkan driver, for WebGPU without a GPU), the Vulkan loader that the
// `webgpu` package (Dawn) links against, Debian's Fashion-MNIST (a real IDX file for tests), and
// for the PyTorch twin (python/) Debian's PyTorch, NumPy, pytest and OpenBLAS for /usr/bin/python3.
// As root with apt-get it installs Debian's packages; otherwise it says exactly what to install.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const FASHION = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
const TWIN_PYTHON = '/usr/bin/python3';

function hasLibrary(pattern, fallbacks = []) {
  try {
    return new RegExp(`${pattern}\\b`).test(execSync('/sbin/ldconfig -p', { encoding: 'utf8' }));
  } catch {
    return fallbacks.some(existsSync);
  }
}

function hasVulkanLoader() {
  return hasLibrary('libvulkan\\.so\\.1', ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1']);
}

const missing = [];
if (!CHROMIUM_PATHS.some(existsSync) || !existsSync(SWIFTSHADER_ICD)) missing.push('chromium');
if (!hasVulkanLoader()) missing.push('libvulkan1');
// `--runtime`: only what training and benchmarks in Node need (the tests also read Fashion-MNIST).
const runtimeOnly = process.argv.includes('--runtime');
if (!runtimeOnly && !existsSync(FASHION)) missing.push('dataset-fashion-mnist');
// The twin's tests (and `--twin`: npm run twin:check) need torch, numpy and pytest importable by
// Debian's python3, and OpenBLAS (Debian's default reference BLAS makes PyTorch several times slower).
if (!runtimeOnly || process.argv.includes('--twin')) {
  const imports = (mods) => spawnSync(TWIN_PYTHON, ['-c', `import ${mods}`], { encoding: 'utf8' }).status === 0;
  if (!imports('torch, numpy, pytest')) {
    for (const [mod, pkg] of [['torch', 'python3-torch'], ['numpy', 'python3-numpy'], ['pytest', 'python3-pytest']]) {
      if (!imports(mod)) missing.push(pkg);
    }
  }
  if (!hasLibrary('libopenblas\\.so\\.0')) missing.push('libopenblas0-pthread');
}

if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
if (isRoot && hasApt) {
  console.log(`setup: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (cmd) => {
    const r = spawnSync('sh', ['-c', cmd], { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`setup: '${cmd}' failed (exit ${r.status})`);
      process.exit(1);
    }
  };
  run('apt-get update -qq');
  run(`apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`);
  process.exit(0);
}

console.error(
  [
    `setup: missing ${missing.join(', ')}.`,
    'The tests need, from Debian (or your distribution):',
    `  sudo apt-get install -y ${missing.join(' ')}`,
    '- chromium: the browser the end-to-end tests drive, and SwiftShader (its software Vulkan driver,',
    `  ${SWIFTSHADER_ICD}) so WebGPU runs without a GPU;`,
    '- libvulkan1: the Vulkan loader used by the `webgpu` npm package (Dawn) in Node;',
    '- dataset-fashion-mnist: IDX files that the data-loading tests read;',
    `- python3-torch, python3-numpy, python3-pytest, libopenblas0-pthread: the PyTorch twin (python/) and its`,
    `  tests, run by ${TWIN_PYTHON} (elsewhere: PyTorch >= 1.13, NumPy and pytest for that python, or set TWIN_PYTHON).`,
  ].join('\n'),
);
process.exit(1);
