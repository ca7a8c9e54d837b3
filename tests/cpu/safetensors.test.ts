// Checkpoint files: round trips, byte-for-byte agreement with the reference implementation's own
// test vectors, files laid out by hand from the format description, and one specific error per
// kind of damage.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CHECKSUM_KEY,
  readSafetensors,
  writeSafetensors,
  type SafeTensor,
} from '../../src/train/safetensors.ts';
import { crc32 } from '../../src/util/crc32.ts';
import { uniform } from '../helpers.ts';

const bytesOf = (s: string) => new TextEncoder().encode(s);
/** Python-style byte literal helper: '\x00' sequences written as text. */
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A file laid out by hand: u64 LE header length, the header text as given, then `data`. */
function handFile(header: string | object, data: Uint8Array = new Uint8Array(0), headerLen?: bigint): Uint8Array {
  const json = bytesOf(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const sample = (): SafeTensor[] => [
  { name: 'w', dtype: 'F32', shape: [3, 5], data: uniform(15, 1) },
  { name: 'tokens', dtype: 'U8', shape: [3], data: Uint8Array.of(7, 0, 255) }, // odd size, before 'w' by name
  { name: 'step', dtype: 'U32', shape: [], data: Uint32Array.of(4_000_000_000) }, // a scalar
  { name: 'delta', dtype: 'I32', shape: [2, 1], data: Int32Array.of(-5, 2 ** 31 - 1) },
  { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
];

describe('safetensors round trip', () => {
  it('keeps names, dtypes, shapes, values and metadata, and verifies its checksum', () => {
    const tensors = sample();
    const file = readSafetensors(writeSafetensors(tensors, { step: '12', config: '{"d":256}' }));
    expect(file.checksum).toBe('verified');
    expect(file.metadata).toEqual({ step: '12', config: '{"d":256}' });
    expect([...file.tensors.keys()].sort()).toEqual(tensors.map((t) => t.name).sort());
    for (const t of tensors) {
      const got = file.tensors.get(t.name)!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(got.data.constructor).toBe(t.data.constructor);
      expect(Array.from(got.data)).toEqual(Array.from(t.data));
    }
  });

  it('puts 4-byte tensors first, each starting 4-aligned in the file, and pads the header with spaces to 8', () => {
    const bytes = writeSafetensors(sample(), { a: 'b' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(Object.keys(header)[0]).toBe('__metadata__');
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const { dtype, data_offsets } = info as { dtype: string; data_offsets: number[] };
      if (dtype !== 'U8') expect((8 + n + data_offsets[0]!) % 4, name).toBe(0);
    }
    expect(header.tokens.data_offsets[0]).toBe(15 * 4 + 4 + 2 * 4); // after F32 w, U32 step, I32 delta
  });

  it('reads a subarray of a larger buffer (a file inside something else)', () => {
    const file = writeSafetensors(sample());
    const outer = new Uint8Array(file.length + 7);
    outer.set(file, 3);
    expect(readSafetensors(outer.subarray(3, 3 + file.length)).tensors.get('w')!.data).toEqual(sample()[0]!.data);
  });
});

describe('interoperability with the reference implementation', () => {
  // From huggingface/safetensors' own tests (bindings/python/tests): save({"test": zeros((2, 2),
  // int32)}) gives exactly these bytes (header padded with spaces to 64).
  const REFERENCE_PADDED = latin1(
    '@\x00\x00\x00\x00\x00\x00\x00{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    ' + '\x00'.repeat(16),
  );
  // Older writers did not pad: header length 60 ('<'), here with data[1, 1] = 1.
  const REFERENCE_UNPADDED = latin1(
    '<\x00\x00\x00\x00\x00\x00\x00{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}' + '\x00'.repeat(12) + '\x01\x00\x00\x00',
  );

  it('writes the same bytes as the reference writer (no metadata, no checksum)', () => {
    const ours = writeSafetensors([{ name: 'test', dtype: 'I32', shape: [2, 2], data: new Int32Array(4) }], {}, { checksum: false });
    expect(Array.from(ours)).toEqual(Array.from(REFERENCE_PADDED));
  });

  it('reads reference files, padded and unpadded', () => {
    for (const [bytes, last] of [
      [REFERENCE_PADDED, 0],
      [REFERENCE_UNPADDED, 1],
    ] as const) {
      const file = readSafetensors(bytes);
      expect(file.checksum).toBe('absent');
      expect(file.metadata).toEqual({});
      const t = file.tensors.get('test')!;
      expect(t.dtype).toBe('I32');
      expect(t.shape).toEqual([2, 2]);
      expect(Array.from(t.data)).toEqual([0, 0, 0, last]);
    }
  });

  it('reads a file laid out by hand: keys in any order, unaligned U8 first, little-endian values', () => {
    // Buffer: 'ids' U8 [3] at [0, 3), 'bias' F32 [2] at [3, 11), 'count' U32 [] at [11, 15).
    const data = new Uint8Array(15);
    const dv = new DataView(data.buffer);
    data.set([1, 2, 3], 0);
    dv.setFloat32(3, 1.5, true);
    dv.setFloat32(7, -0.25, true);
    dv.setUint32(11, 0xdeadbeef, true);
    const header =
      '{"count":{"dtype":"U32","shape":[],"data_offsets":[11,15]},' +
      '"bias":{"dtype":"F32","shape":[2],"data_offsets":[3,11]},' +
      '"ids":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},' +
      '"__metadata__":{"format":"pt","note":"h\\u00e9"}}';
    const file = readSafetensors(handFile(header, data));
    expect(file.metadata).toEqual({ format: 'pt', note: 'hé' });
    expect(Array.from(file.tensors.get('ids')!.data)).toEqual([1, 2, 3]);
    expect(Array.from(file.tensors.get('bias')!.data)).toEqual([1.5, -0.25]);
    expect(file.tensors.get('count')!.shape).toEqual([]);
    expect(Array.from(file.tensors.get('count')!.data)).toEqual([0xdeadbeef]);
  });

  it('computes the standard CRC-32 (check value of "123456789", and zlib on random bytes)', () => {
    expect(crc32(bytesOf('123456789'))).toBe(0xcbf43926);
    const random = new Uint8Array(uniform(1000, 3).buffer);
    expect(crc32(random)).toBe(zlibCrc32(random));
    expect(crc32(random.subarray(500), crc32(random.subarray(0, 500)))).toBe(zlibCrc32(random));
  });
});

describe('safetensors reader errors', () => {
  const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
  const good = () => writeSafetensors([{ name: 'a', dtype: 'F32', shape: [4], data: uniform(4, 2) }]);
  const flipLastByte = (b: Uint8Array) => {
    const c = b.slice();
    c[c.length - 1] ^= 0x40;
    return c;
  };

  it.each<[string, () => Uint8Array, RegExp]>([
    ['a file shorter than the length field', () => new Uint8Array(5), /truncated file: 5 bytes, less than the 8-byte header length/],
    ['a header length beyond the file', () => handFile({}, new Uint8Array(0), 1000n), /header length 1000 goes beyond the file \(2 bytes after the length field\)/],
    ['a 2^63 header length', () => handFile({}, new Uint8Array(0), 2n ** 63n), /header length 9223372036854775808 goes beyond the file/],
    ['invalid JSON', () => handFile('{"a": '), /the 6-byte header is not valid UTF-8 JSON/],
    ['invalid UTF-8', () => { const b = handFile('{"a":1}'); b[10] = 0xff; return b; }, /not valid UTF-8 JSON/],
    ['a header that is an array', () => handFile('[]'), /the header must be a JSON object/],
    ['an unknown dtype', () => handFile({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor 'a': unsupported dtype "F16" \(supported: F32, U32, I32, U8\)/],
    ['a negative dimension', () => handFile({ a: f32(0, 8, [-2]) }, new Uint8Array(8)), /tensor 'a': shape \[-2\] must hold non-negative integers/],
    ['offsets that are not a pair', () => handFile({ a: { dtype: 'U8', shape: [1], data_offsets: [0] } }, new Uint8Array(1)), /tensor 'a': data_offsets must be \[begin, end\]/],
    ['offsets that end before they begin', () => handFile({ a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /tensor 'a': data_offsets \[4, 0\] end before they begin/],
    ['offsets out of range', () => handFile({ a: f32(0, 16), b: f32(16, 40) }, new Uint8Array(36)), /tensor 'b': data_offsets \[16, 40\] go beyond the 36-byte data buffer/],
    ['a truncated file', () => good().subarray(0, good().length - 4), /tensor 'a': data_offsets \[0, 16\] go beyond the 12-byte data buffer \(file truncated\?\)/],
    ['a shape that disagrees with the offsets', () => handFile({ a: f32(0, 20, [2, 3]) }, new Uint8Array(20)), /tensor 'a': shape \[2, 3\] of F32 needs 24 bytes but data_offsets \[0, 20\] span 20/],
    ['overlapping tensors', () => handFile({ a: f32(0, 16), b: f32(8, 24) }, new Uint8Array(24)), /tensors 'a' \[0, 16\] and 'b' \[8, 24\] overlap/],
    ['a hole between tensors', () => handFile({ a: f32(0, 8), b: f32(12, 20) }, new Uint8Array(20)), /hole of 4 bytes in the data buffer before tensor 'b' \[12, 20\], after 'a'/],
    ['a hole at the start', () => handFile({ b: f32(4, 12) }, new Uint8Array(12)), /hole of 4 bytes in the data buffer before tensor 'b' \[4, 12\]$/],
    ['bytes after the last tensor', () => handFile({ a: f32(0, 8) }, new Uint8Array(11)), /the data buffer has 11 bytes but the tensors cover 8: 3 bytes after the last tensor 'a'/],
    ['metadata that is not a string', () => handFile({ __metadata__: { step: 3 } }), /metadata 'step' must be a string, got 3/],
    ['a malformed checksum', () => handFile({ __metadata__: { [CHECKSUM_KEY]: 'xyz' } }), /metadata 'crc32' must be 8 lowercase hex digits, got 'xyz'/],
    ['a corrupted data byte', () => flipLastByte(good()), /checksum mismatch: metadata 'crc32' says [0-9a-f]{8} but the 16-byte data buffer gives [0-9a-f]{8}: the data is corrupt/],
  ])('rejects %s', (_, make, msg) => {
    expect(() => readSafetensors(make())).toThrow(msg);
  });

  it('reads a corrupted file when told not to verify, and says so', () => {
    const file = readSafetensors(flipLastByte(good()), { verify: false });
    expect(file.checksum).toBe('skipped');
    expect(file.tensors.get('a')!.data.length).toBe(4);
  });
});

describe('safetensors writer errors', () => {
  const t = (over: Partial<SafeTensor>): SafeTensor => ({ name: 'x', dtype: 'F32', shape: [2], data: new Float32Array(2), ...over });
  it.each<[string, SafeTensor[], Record<string, string>, RegExp]>([
    ['duplicate names', [t({}), t({})], {}, /two tensors are named 'x'/],
    ['an empty name', [t({ name: '' })], {}, /name must be a non-empty string/],
    ['the reserved name', [t({ name: '__metadata__' })], {}, /'__metadata__' is reserved/],
    ['an unknown dtype', [t({ dtype: 'F16' as 'F32' })], {}, /tensor 'x': unsupported dtype 'F16'/],
    ['an array of another type', [t({ data: new Int32Array(2) })], {}, /tensor 'x': dtype F32 needs a Float32Array, got Int32Array/],
    ['a shape that disagrees with the data', [t({ shape: [3] })], {}, /tensor 'x': shape \[3\] has 3 elements but the data has 2/],
    ['a fractional dimension', [t({ shape: [0.5, 4] })], {}, /tensor 'x': shape \[0.5, 4\] must hold non-negative integers/],
    ['the checksum key in metadata', [t({})], { [CHECKSUM_KEY]: '00000000' }, /metadata key 'crc32' is reserved for the checksum/],
    ['non-string metadata', [t({})], { step: 3 as unknown as string }, /metadata 'step' must be a string, got number/],
  ])('rejects %s', (_, tensors, metadata, msg) => {
    expect(() => writeSafetensors(tensors, metadata)).toThrow(msg);
  });
});
