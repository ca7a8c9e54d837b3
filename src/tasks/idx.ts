/**
 * IDX files (the MNIST / Fashion-MNIST distribution format, http://yann.lecun.com/exdb/mnist/):
 * a big-endian magic 0x0000TTDD (TT: element type, DD: number of dimensions), DD big-endian u32
 * sizes, then the elements in row-major order. Files are often gzipped; we detect that by the gzip
 * magic 1f 8b and inflate with DecompressionStream, which Node (>= 18) and browsers both have.
 * Only unsigned bytes (type 0x08), what image and label files use, are supported.
 *
 * Also home of `ImageSet`, the one image container that MNIST and IDX loaders both produce.
 */

/** Images as raw grey bytes, so a model can train on MNIST or any IDX set alike. */
export interface ImageSet {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array; // [count, rows, cols] 0..255, raster order
  labels?: Uint8Array; // [count]
}

export class IdxFormatError extends Error {
  override name = 'IdxFormatError';
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const MAGIC_BYTES = 4;
const DIM_BYTES = 4;
const TYPE_U8 = 0x08;
const IMAGE_DIMS = 3;
const LABEL_DIMS = 1;

/** Every type code the IDX description defines, to tell "valid but unsupported" from garbage. */
const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (v: number, digits: number) => '0x' + v.toString(16).padStart(digits, '0');

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * Inflates a gzip stream. A corrupt or truncated stream throws an Error saying so, with the
 * compressed size, how far inflation got, and the runtime's own message.
 */
export async function gunzip(bytes: Uint8Array, what = 'gzip stream'): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new Error(`${what}: this runtime has no DecompressionStream (needs Node >= 18 or a current browser)`);
  }
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  // Write and read concurrently: awaiting the write first could stall on backpressure. Errors
  // surface on the reading side, so the writer's own rejections are only silenced here.
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    throw new Error(
      `${what} is corrupt or truncated: inflating ${bytes.length} compressed bytes failed after ${total} output bytes (${cause})`,
      { cause: err },
    );
  }
  const out = new Uint8Array(total); // [total]
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export interface IdxArray {
  type: 'u8';
  dims: number[];
  data: Uint8Array; // [product of dims], row-major
}

/** Parses an IDX file, gzipped or not. Throws IdxFormatError naming the problem and the sizes. */
export async function parseIdx(bytes: Uint8Array): Promise<IdxArray> {
  const gz = isGzip(bytes);
  let raw = bytes;
  if (gz) {
    try {
      raw = await gunzip(bytes, 'IDX file (gzip)');
    } catch (err) {
      throw new IdxFormatError((err as Error).message, { cause: err });
    }
  }
  const src = gz ? `IDX file (${bytes.length} bytes gzipped, ${raw.length} inflated)` : `IDX file (${raw.length} bytes)`;
  if (raw.length < MAGIC_BYTES) {
    throw new IdxFormatError(`${src}: header too short: ${raw.length} bytes, the magic number alone needs ${MAGIC_BYTES}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0, false);
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new IdxFormatError(`${src}: wrong magic ${hex(magic, 8)}: an IDX file starts with two zero bytes (e.g. 0x00000803)`);
  }
  const typeCode = raw[2]!;
  const ndims = raw[3]!;
  if (typeCode !== TYPE_U8) {
    const known = IDX_TYPES[typeCode];
    throw new IdxFormatError(
      known
        ? `${src}: type code ${hex(typeCode, 2)} (${known}) is valid IDX but unsupported; only ${hex(TYPE_U8, 2)} (unsigned byte) is read`
        : `${src}: unknown type code ${hex(typeCode, 2)} in magic ${hex(magic, 8)}`,
    );
  }
  if (ndims === 0) throw new IdxFormatError(`${src}: magic ${hex(magic, 8)} announces 0 dimensions`);
  const headerBytes = MAGIC_BYTES + DIM_BYTES * ndims;
  if (raw.length < headerBytes) {
    throw new IdxFormatError(
      `${src}: header too short: ${raw.length} bytes, but magic ${hex(magic, 8)} announces ${ndims} dimensions, which need a ${headerBytes}-byte header`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(MAGIC_BYTES + DIM_BYTES * i, false));
  const zeroAt = dims.indexOf(0);
  if (zeroAt >= 0) throw new IdxFormatError(`${src}: dimension ${zeroAt} of [${dims.join(', ')}] is 0`);
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = raw.length - headerBytes;
  if (actual !== expected) {
    const why = actual < expected ? `${expected - actual} bytes missing: truncated?` : `${actual - expected} bytes too many`;
    throw new IdxFormatError(
      `${src}: data is ${actual} bytes but dims [${dims.join(', ')}] need ${expected} (${why})`,
    );
  }
  // Inflated output is already ours; an uncompressed input is copied so callers may reuse theirs.
  const data = gz ? raw.subarray(headerBytes) : raw.slice(headerBytes);
  return { type: 'u8', dims, data };
}

/** An IDX image file (u8, [count, rows, cols]) as an ImageSet without labels. */
export async function loadIdxImages(bytes: Uint8Array): Promise<ImageSet> {
  const { dims, data } = await parseIdx(bytes);
  if (dims.length !== IMAGE_DIMS) {
    throw new IdxFormatError(`IDX images: expected ${IMAGE_DIMS} dimensions [count, rows, cols], got [${dims.join(', ')}]`);
  }
  const [count, rows, cols] = dims as [number, number, number];
  return { count, rows, cols, pixels: data };
}

/** An IDX label file (u8, [count]). */
export async function loadIdxLabels(bytes: Uint8Array): Promise<Uint8Array> {
  const { dims, data } = await parseIdx(bytes);
  if (dims.length !== LABEL_DIMS) {
    const magic = (d: number) => hex((TYPE_U8 << 8) | d, 8);
    throw new IdxFormatError(
      `IDX labels: expected ${LABEL_DIMS} dimension [count], got [${dims.join(', ')}]: magic ${magic(dims.length)}, where a labels file has ${magic(LABEL_DIMS)} (wrong magic for a labels file${dims.length === IMAGE_DIMS ? '; is it an images file?' : ''})`,
    );
  }
  return data;
}

/** An image file and its label file together; their counts must agree. */
export async function loadIdxDataset(imageBytes: Uint8Array, labelBytes: Uint8Array): Promise<ImageSet> {
  const [images, labels] = await Promise.all([loadIdxImages(imageBytes), loadIdxLabels(labelBytes)]);
  if (labels.length !== images.count) {
    throw new IdxFormatError(`IDX dataset: ${images.count} images but ${labels.length} labels`);
  }
  return { ...images, labels };
}
