/**
 * Checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
 *
 *   [0, 8)        N, the header length, u64 little-endian
 *   [8, 8+N)      UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, ...,
 *                               "__metadata__": { string: string } }
 *   [8+N, end)    the data buffer; offsets are relative to its start, and the tensors' byte ranges
 *                 tile it exactly (no overlap, no hole, nothing after the last one)
 *
 * Tensor data is little-endian and row-major. Like the reference writer we pad the header with
 * spaces to a multiple of 8 bytes and order tensors by element size, then name, so every 4-byte
 * tensor starts 4-aligned; with no metadata our output is byte-identical to the reference's.
 *
 * Integrity: the writer stores the CRC-32 (IEEE 802.3, zlib's) of the whole data buffer in the
 * metadata under CHECKSUM_KEY as 8 lowercase hex digits; the reader verifies it when present and
 * hands back the metadata without that key. Other tools keep and ignore it (it is a plain string).
 */
import { crc32 } from '../util/crc32.ts';

export type SafeDtype = 'F32' | 'U32' | 'I32' | 'U8';
export type SafeData = Float32Array | Uint32Array | Int32Array | Uint8Array;

export interface SafeTensor {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  data: SafeData; // [product of shape], row-major
}

export interface SafetensorsFile {
  tensors: Map<string, { dtype: SafeDtype; shape: number[]; data: SafeData }>;
  metadata: Record<string, string>;
  /** 'verified': the file carried our checksum and it matched; 'skipped': it had one, `verify` was
   * false; 'absent': it had none. */
  checksum: 'verified' | 'skipped' | 'absent';
}

/** Metadata key of the data buffer's CRC-32. */
export const CHECKSUM_KEY = 'crc32';
const METADATA_KEY = '__metadata__';
const LENGTH_BYTES = 8;
const HEADER_ALIGN = 8;
/** The reference implementation refuses larger headers; so do we, before decoding anything. */
const MAX_HEADER_BYTES = 100_000_000;

const DTYPES: Record<SafeDtype, { bytes: number; array: new (buffer: ArrayBuffer) => SafeData }> = {
  F32: { bytes: 4, array: Float32Array },
  U32: { bytes: 4, array: Uint32Array },
  I32: { bytes: 4, array: Int32Array },
  U8: { bytes: 1, array: Uint8Array },
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

function fail(msg: string): never {
  throw new SafetensorsError(msg);
}

function checkHost(): void {
  // Typed arrays use the host's byte order; every WebGPU platform is little-endian.
  if (!LITTLE_ENDIAN_HOST) fail('safetensors: this host is big-endian, which this reader does not support');
}

const crcHex = (v: number) => v.toString(16).padStart(8, '0');

function numelOf(shape: unknown, where: string): number {
  if (!Array.isArray(shape)) fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  let n = 1;
  for (const s of shape) {
    if (!Number.isSafeInteger(s) || (s as number) < 0) {
      fail(`${where}: shape [${shape.join(', ')}] must hold non-negative integers`);
    }
    n *= s as number;
  }
  if (!Number.isSafeInteger(n)) fail(`${where}: shape [${shape.join(', ')}] has too many elements`);
  return n;
}

export interface WriteOptions {
  /** Store the data buffer's CRC-32 under CHECKSUM_KEY (default true). */
  checksum?: boolean;
}

/** Serialises tensors and string metadata into one safetensors file. */
export function writeSafetensors(
  tensors: SafeTensor[],
  metadata: Record<string, string> = {},
  options: WriteOptions = {},
): Uint8Array {
  checkHost();
  const { checksum = true } = options;
  const names = new Set<string>();
  for (const t of tensors) {
    const where = `tensor '${t.name}'`;
    if (typeof t.name !== 'string' || t.name.length === 0) fail(`safetensors: a tensor name must be a non-empty string, got ${JSON.stringify(t.name)}`);
    if (t.name === METADATA_KEY) fail(`safetensors: '${METADATA_KEY}' is reserved and cannot name a tensor`);
    if (names.has(t.name)) fail(`safetensors: two tensors are named '${t.name}'`);
    names.add(t.name);
    const info = DTYPES[t.dtype];
    if (!info) fail(`${where}: unsupported dtype '${t.dtype}' (supported: ${Object.keys(DTYPES).join(', ')})`);
    if (!(t.data instanceof info.array)) {
      fail(`${where}: dtype ${t.dtype} needs a ${info.array.name}, got ${t.data?.constructor?.name ?? typeof t.data}`);
    }
    const n = numelOf(t.shape, where);
    if (t.data.length !== n) fail(`${where}: shape [${t.shape.join(', ')}] has ${n} elements but the data has ${t.data.length}`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') fail(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    if (checksum && k === CHECKSUM_KEY) fail(`safetensors: metadata key '${CHECKSUM_KEY}' is reserved for the checksum`);
  }

  // Larger elements first, then by name (the reference writer's order): keeps 4-byte data aligned.
  const ordered = [...tensors].sort(
    (a, b) => DTYPES[b.dtype].bytes - DTYPES[a.dtype].bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  let offset = 0;
  const entries: Record<string, { dtype: SafeDtype; shape: number[]; data_offsets: [number, number] }> = {};
  for (const t of ordered) {
    const end = offset + t.data.byteLength;
    entries[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const dataBytes = offset;
  const buffer = new Uint8Array(dataBytes); // [dataBytes]
  for (const t of ordered) {
    const [begin] = entries[t.name]!.data_offsets;
    buffer.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), begin);
  }

  const meta = checksum ? { ...metadata, [CHECKSUM_KEY]: crcHex(crc32(buffer)) } : metadata;
  const header = Object.keys(meta).length > 0 ? { [METADATA_KEY]: meta, ...entries } : entries;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / HEADER_ALIGN) * HEADER_ALIGN;
  const out = new Uint8Array(LENGTH_BYTES + headerLen + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, LENGTH_BYTES);
  out.fill(0x20, LENGTH_BYTES + json.length, LENGTH_BYTES + headerLen); // spaces: still valid JSON
  out.set(buffer, LENGTH_BYTES + headerLen);
  return out;
}

export interface ReadOptions {
  /** Verify the checksum when the file has one (default true). */
  verify?: boolean;
}

/** Parses and validates a safetensors file; every error names the tensor and the sizes involved. */
export function readSafetensors(bytes: Uint8Array, options: ReadOptions = {}): SafetensorsFile {
  checkHost();
  const { verify = true } = options;
  if (bytes.length < LENGTH_BYTES) {
    fail(`safetensors: truncated file: ${bytes.length} bytes, less than the ${LENGTH_BYTES}-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLenBig = view.getBigUint64(0, true);
  const room = bytes.length - LENGTH_BYTES;
  if (headerLenBig > BigInt(room)) {
    fail(`safetensors: header length ${headerLenBig} goes beyond the file (${room} bytes after the length field): truncated or not safetensors`);
  }
  const headerLen = Number(headerLenBig);
  if (headerLen > MAX_HEADER_BYTES) fail(`safetensors: header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(LENGTH_BYTES, LENGTH_BYTES + headerLen));
    header = JSON.parse(text);
  } catch (err) {
    fail(`safetensors: the ${headerLen}-byte header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail('safetensors: the header must be a JSON object');
  }

  const dataStart = LENGTH_BYTES + headerLen;
  const dataBytes = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const infos: { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(`safetensors: '${METADATA_KEY}' must be an object of strings`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') fail(`safetensors: metadata '${k}' must be a string, got ${JSON.stringify(v)}`);
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const where = `safetensors: tensor '${name}'`;
    if (typeof entry !== 'object' || entry === null) fail(`${where}: entry must be an object with dtype, shape, data_offsets`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPES)) {
      fail(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
    }
    const n = numelOf(shape, where);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataBytes) {
      fail(`${where}: data_offsets [${begin}, ${end}] go beyond the ${dataBytes}-byte data buffer (file truncated?)`);
    }
    const need = n * DTYPES[dtype as SafeDtype].bytes;
    if (end - begin !== need) {
      fail(`${where}: shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${need} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    infos.push({ name, dtype: dtype as SafeDtype, shape: shape as number[], begin, end });
  }

  // The ranges must tile the buffer: sorted by start, each begins where the previous one ended.
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: (typeof sorted)[number] | null = null;
  for (const t of sorted) {
    const range = `'${t.name}' [${t.begin}, ${t.end}]`;
    if (t.begin < at) fail(`safetensors: tensors '${prev!.name}' [${prev!.begin}, ${prev!.end}] and ${range} overlap`);
    if (t.begin > at) {
      fail(`safetensors: hole of ${t.begin - at} bytes in the data buffer before tensor ${range}${prev ? `, after '${prev.name}'` : ''}`);
    }
    at = t.end;
    prev = t;
  }
  if (at !== dataBytes) {
    fail(`safetensors: the data buffer has ${dataBytes} bytes but the tensors cover ${at}: ${dataBytes - at} bytes after the last tensor${prev ? ` '${prev.name}'` : ''}`);
  }

  const data = bytes.subarray(dataStart);
  let checksum: SafetensorsFile['checksum'] = 'absent';
  if (CHECKSUM_KEY in metadata) {
    const stored = metadata[CHECKSUM_KEY]!;
    if (!/^[0-9a-f]{8}$/.test(stored)) fail(`safetensors: metadata '${CHECKSUM_KEY}' must be 8 lowercase hex digits, got '${stored}'`);
    if (verify) {
      const actual = crcHex(crc32(data));
      if (actual !== stored) {
        fail(`safetensors: checksum mismatch: metadata '${CHECKSUM_KEY}' says ${stored} but the ${dataBytes}-byte data buffer gives ${actual}: the data is corrupt`);
      }
      checksum = 'verified';
    } else {
      checksum = 'skipped';
    }
    delete metadata[CHECKSUM_KEY];
  }

  const tensors: SafetensorsFile['tensors'] = new Map();
  for (const t of infos) {
    // Copy into a fresh buffer: the file's ranges need not be aligned for 4-byte views.
    const copy = data.slice(t.begin, t.end).buffer;
    tensors.set(t.name, { dtype: t.dtype, shape: [...t.shape], data: new DTYPES[t.dtype].array(copy) });
  }
  return { tensors, metadata, checksum };
}
