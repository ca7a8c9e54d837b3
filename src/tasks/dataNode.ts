/**
 * Node-only loaders (they read files with node:fs); the browser uses `fetchMnist` instead. Kept
 * apart so that no browser bundle ever imports node: modules.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadIdxDataset, type ImageSet } from './idx.ts';
import { MNIST_BIN_FILE, parseMnistBin } from './mnist.ts';

/** public/mnist-10k.bin of this checkout, as scripts/build-mnist.mjs writes it. */
export const MNIST_BIN_PATH = fileURLToPath(new URL(`../../public/${MNIST_BIN_FILE}`, import.meta.url));
/** Where Debian's dataset-fashion-mnist package installs its IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

async function readBytes(path: string, hint: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path} not found: ${hint}`);
    throw err;
  }
}

/** The default MNIST set from public/mnist-10k.bin (or another file of that layout). */
export async function loadMnistFile(path = MNIST_BIN_PATH): Promise<ImageSet & { labels: Uint8Array }> {
  return parseMnistBin(await readBytes(path, 'build it with `node scripts/build-mnist.mjs`'));
}

/** Fashion-MNIST from its IDX files: 'train' (60,000 images) or 't10k' (10,000). */
export async function loadFashionMnist(split: 'train' | 't10k', dir = FASHION_MNIST_DIR): Promise<ImageSet> {
  const hint = 'install it with `apt-get install dataset-fashion-mnist`';
  const [images, labels] = await Promise.all([
    readBytes(`${dir}/${split}-images-idx3-ubyte.gz`, hint),
    readBytes(`${dir}/${split}-labels-idx1-ubyte.gz`, hint),
  ]);
  return loadIdxDataset(images, labels);
}
