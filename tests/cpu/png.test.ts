// The PNG writer: a real decoder's view of the bytes (chunk CRCs, zlib stream, rows), and tiling.
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeGreyPng, tileImages } from '../../src/tasks/png.ts';
import { crc32 } from '../../src/util/crc32.ts';

function chunks(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset);
  const out: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at < png.length; ) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    expect(view.getUint32(at + 8 + len), `${type} CRC`).toBe(crc32(png.subarray(at + 4, at + 8 + len)));
    out.push({ type, data });
    at += 12 + len;
  }
  return out;
}

describe('encodeGreyPng', () => {
  it('writes a valid 8-bit greyscale PNG whose rows decode to the pixels (odd size 5 x 3)', async () => {
    const pixels = Uint8Array.from({ length: 15 }, (_, i) => i * 17);
    const png = await encodeGreyPng(pixels, 5, 3);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const h = new DataView(cs[0]!.data.buffer, cs[0]!.data.byteOffset);
    expect([h.getUint32(0), h.getUint32(4), cs[0]!.data[8], cs[0]!.data[9]]).toEqual([5, 3, 8, 0]);
    const raw = inflateSync(cs[1]!.data);
    expect(raw.length).toBe(3 * 6);
    for (let y = 0; y < 3; y++) {
      expect(raw[y * 6]).toBe(0);
      expect([...raw.subarray(y * 6 + 1, y * 6 + 6)]).toEqual([...pixels.subarray(y * 5, y * 5 + 5)]);
    }
  });

  it('refuses a pixel count that does not match the size', async () => {
    await expect(encodeGreyPng(new Uint8Array(5), 2, 3)).rejects.toThrow(/5 pixels for 2 x 3/);
  });
});

describe('tileImages', () => {
  it('places images in a grid with a one-pixel gutter', () => {
    const imgs = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 3 images of 2x2
    const t = tileImages(imgs, 3, 2, 2);
    expect([t.width, t.height]).toEqual([7, 7]);
    expect(t.pixels[1 * 7 + 1]).toBe(1);
    expect(t.pixels[2 * 7 + 2]).toBe(4);
    expect(t.pixels[1 * 7 + 4]).toBe(5);
    expect(t.pixels[4 * 7 + 1]).toBe(9);
    expect(t.pixels[4 * 7 + 4]).toBe(128); // the empty fourth cell
  });
});
