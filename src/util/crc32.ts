// CRC-32 (IEEE 802.3; the one zlib, gzip, PNG and our safetensors checksums use). Shared by the
// checkpoint writer (src/train/safetensors.ts) and the PNG encoder (src/tasks/png.ts).

let crcTable: Uint32Array | null = null; // [256]

/** CRC-32 (reflected polynomial 0xEDB88320, as zlib, gzip and PNG). Pass `crc` to continue one. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    const REFLECTED_POLY = 0xedb88320;
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? REFLECTED_POLY ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
