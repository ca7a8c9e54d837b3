// Greyscale PNG encoding for generated digits, with the platform's zlib (CompressionStream
// 'deflate'), so Node and browsers share it. 8-bit grey, no interlace, filter 0 on every row.
import { crc32 } from '../util/crc32.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An 8-bit greyscale PNG of `pixels` [height, width] (0 black .. 255 white). */
export async function encodeGreyPng(pixels: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodeGreyPng: width and height must be positive integers; got ${width} x ${height}`);
  }
  if (pixels.length !== width * height) throw new Error(`encodeGreyPng: ${pixels.length} pixels for ${width} x ${height}`);
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: greyscale
  const raw = new Uint8Array(height * (width + 1)); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', header), chunk('IDAT', await deflate(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Lays out `count` images [count, side, side] in a grid `cols` wide, with a 1-pixel grey gutter. */
export function tileImages(images: Uint8Array, count: number, side: number, cols: number): { pixels: Uint8Array; width: number; height: number } {
  if (images.length !== count * side * side) throw new Error(`tileImages: ${images.length} pixels for ${count} images of ${side}x${side}`);
  const rows = Math.ceil(count / cols);
  const width = cols * (side + 1) + 1;
  const height = rows * (side + 1) + 1;
  const pixels = new Uint8Array(width * height).fill(128);
  for (let n = 0; n < count; n++) {
    const x0 = (n % cols) * (side + 1) + 1;
    const y0 = Math.floor(n / cols) * (side + 1) + 1;
    for (let y = 0; y < side; y++) pixels.set(images.subarray((n * side + y) * side, (n * side + y + 1) * side), (y0 + y) * width + x0);
  }
  return { pixels, width, height };
}
