/**
 * In-memory image fixtures for tests: transforms of tests/fixtures/astronaut.png and hand-built bad inputs.
 * Nothing here writes to disk. Every function returns encoded bytes (a Buffer) unless it says RgbImage.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { RgbImage } from '../../src/pipeline/engine.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

const cache = new Map<string, Promise<Buffer>>();

/** A committed fixture's bytes, read once per test file. */
export function loadFixture(name: string): Promise<Buffer> {
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = readFile(`${FIXTURES_DIR}${name}`);
    cache.set(name, bytes);
  }
  return bytes;
}

/** The 512×512 public-domain astronaut portrait (PNG). */
export const loadAstronaut = (): Promise<Buffer> => loadFixture('astronaut.png');
/** A face-less photo (PNG). */
export const loadCoffee = (): Promise<Buffer> => loadFixture('coffee.png');

export type EncodeFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heif' | 'tiff';

const isRgb = (value: Uint8Array | RgbImage): value is RgbImage => !(value instanceof Uint8Array);

/** Encodes `input` (encoded bytes in any format sharp reads, or packed RGB) as `format`. AVIF/HEIF use libheif (AV1). */
export async function encodeAs(input: Uint8Array | RgbImage, format: EncodeFormat, quality = 90): Promise<Buffer> {
  const image = isRgb(input)
    ? sharp(Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength), {
        raw: { width: input.width, height: input.height, channels: 3 },
      })
    : sharp(input);
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality }).toBuffer();
    case 'png':
      return image.png().toBuffer();
    case 'webp':
      return image.webp({ quality }).toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    case 'avif':
      return image.avif({ quality: Math.min(quality, 80), effort: 0 }).toBuffer();
    case 'heif':
      // sharp's prebuilt libheif encodes AV1 only; this is HEIF with AV1 inside, brand 'mif1'/'avif'.
      return image.heif({ compression: 'av1', quality: Math.min(quality, 80), effort: 0 }).toBuffer();
    case 'tiff':
      return image.tiff().toBuffer();
  }
}

/** Decodes any image sharp reads to packed RGB (alpha flattened on white), for comparisons in tests. */
export async function decodeRgb(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes)
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}


/** The RGB triple at (x, y). */
export function pixelAt(image: RgbImage, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** Mean absolute difference per channel of two same-sized images (0–255). */
export function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size mismatch: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 1) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

// ---------------------------------------------------------------------------------------------------------------
// EXIF orientation

export type ExifOrientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
export const EXIF_ORIENTATIONS: readonly ExifOrientation[] = [1, 2, 3, 4, 5, 6, 7, 8];

/**
 * Where the stored pixel (x, y) of a `w`×`h` image lands on screen once EXIF orientation `o` is applied,
 * and the displayed size. Orientation 6 is "rotate 90° clockwise to display", 8 is 90° counter-clockwise.
 */
export function orientPoint(o: ExifOrientation, x: number, y: number, w: number, h: number): [number, number] {
  switch (o) {
    case 1: return [x, y];
    case 2: return [w - 1 - x, y];
    case 3: return [w - 1 - x, h - 1 - y];
    case 4: return [x, h - 1 - y];
    case 5: return [y, x];
    case 6: return [h - 1 - y, x];
    case 7: return [h - 1 - y, w - 1 - x];
    case 8: return [y, w - 1 - x];
  }
}

/** Pixels as stored in a file tagged `o` whose upright (displayed) picture is `upright`. */
export function storeForOrientation(upright: RgbImage, o: ExifOrientation): RgbImage {
  const swap = o >= 5;
  const w = swap ? upright.height : upright.width;
  const h = swap ? upright.width : upright.height;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      const [dx, dy] = orientPoint(o, x, y, w, h);
      const from = (dy * upright.width + dx) * 3;
      const to = (y * w + x) * 3;
      data[to] = upright.data[from]!;
      data[to + 1] = upright.data[from + 1]!;
      data[to + 2] = upright.data[from + 2]!;
    }
  }
  return { data, width: w, height: h };
}

/**
 * A JPEG (or WebP) whose stored pixels are `upright` transformed so that a viewer honouring EXIF orientation `o`
 * shows `upright`. Orientation 6 is what a phone held in portrait writes.
 */
export async function withExifOrientation(
  upright: Uint8Array,
  o: ExifOrientation,
  format: 'jpeg' | 'webp' = 'jpeg',
): Promise<Buffer> {
  const stored = storeForOrientation(await decodeRgb(upright), o);
  const image = sharp(Buffer.from(stored.data), { raw: { width: stored.width, height: stored.height, channels: 3 } })
    .withMetadata({ orientation: o });
  return format === 'jpeg' ? image.jpeg({ quality: 95 }).toBuffer() : image.webp({ quality: 95 }).toBuffer();
}

/**
 * A non-square test card with a coloured block in each corner (red top-left, green top-right, blue bottom-left,
 * black bottom-right) on mid grey: checking the corners tells the orientation apart, mirrors included.
 */
export function orientationCard(width = 240, height = 160, block = 40): RgbImage {
  const data = new Uint8Array(width * height * 3).fill(128);
  const paint = (x0: number, y0: number, rgb: [number, number, number]) => {
    for (let y = y0; y < y0 + block; y += 1) {
      for (let x = x0; x < x0 + block; x += 1) data.set(rgb, (y * width + x) * 3);
    }
  };
  paint(0, 0, [255, 0, 0]);
  paint(width - block, 0, [0, 255, 0]);
  paint(0, height - block, [0, 0, 255]);
  paint(width - block, height - block, [0, 0, 0]);
  return { data, width, height };
}

/** The corner colours of `orientationCard`, sampled half a block in from each corner. */
export function cardCorners(image: RgbImage, block = 40): Record<'tl' | 'tr' | 'bl' | 'br', [number, number, number]> {
  const m = Math.floor(block / 2);
  return {
    tl: pixelAt(image, m, m),
    tr: pixelAt(image, image.width - 1 - m, m),
    bl: pixelAt(image, m, image.height - 1 - m),
    br: pixelAt(image, image.width - 1 - m, image.height - 1 - m),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Geometric and colour transforms of a photo

/** Rotated clockwise by `degrees` in the image plane (canvas grows; corners filled with `background`). */
export function rotateInPlane(bytes: Uint8Array, degrees: number, background = '#808080'): Promise<Buffer> {
  return sharp(bytes).rotate(degrees, { background }).png().toBuffer();
}

/** Resized to `width` px wide (aspect kept). JPEG by default: a 4000 px PNG is slow to encode. */
export function resizeToWidth(bytes: Uint8Array, width: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const image = sharp(bytes).resize({ width, kernel: 'lanczos3' });
  return format === 'jpeg' ? image.jpeg({ quality: 92 }).toBuffer() : image.png().toBuffer();
}

/** Two copies of the image next to each other (a "group photo" of two identical faces). */
export async function sideBySide(bytes: Uint8Array, gap = 0): Promise<Buffer> {
  return sharp([bytes, bytes], { join: { across: 2, shim: gap, background: '#808080' } }).png().toBuffer();
}

/** Single-channel greyscale PNG. */
export function grayscale(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).grayscale().toColourspace('b-w').png().toBuffer();
}

/** A CMYK JPEG (no embedded profile; sharp converts with its default CMYK profile). */
export function cmykJpeg(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
}

/** A 16 bit per channel RGB PNG. */
export function png16(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).toColourspace('rgb16').png().toBuffer();
}

/** An RGBA PNG whose left half is fully transparent (pixels there are black but must never show). */
export async function pngWithTransparentLeftHalf(bytes: Uint8Array): Promise<Buffer> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let y = 0; y < info.height; y += 1) {
    for (let x = 0; x < info.width / 2; x += 1) {
      const i = (y * info.width + x) * 4;
      data[i] = 0;
      data[i + 1] = 0;
      data[i + 2] = 0;
      data[i + 3] = 0;
    }
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
}

/** An animated GIF (or WebP) whose frames are solid `colors` (first frame first). */
export function animatedGif(
  colors: [number, number, number][],
  width = 160,
  height = 160,
  format: 'gif' | 'webp' = 'gif',
): Promise<Buffer> {
  const frame = width * height * 3;
  const data = Buffer.alloc(frame * colors.length);
  colors.forEach((rgb, f) => {
    for (let i = 0; i < width * height; i += 1) data.set(rgb, f * frame + i * 3);
  });
  const frames = sharp(data, { raw: { width, height: height * colors.length, channels: 3, pageHeight: height } });
  return format === 'gif'
    ? frames.gif({ delay: 100, loop: 0 }).toBuffer()
    : frames.webp({ delay: 100, loop: 0, lossless: true }).toBuffer();
}

/** A solid-colour image of any size, encoded. */
export function solid(
  width: number,
  height: number,
  format: EncodeFormat = 'png',
  rgb: [number, number, number] = [51, 102, 204],
): Promise<Buffer> {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i += 1) data.set(rgb, i * 3);
  return encodeAs({ data, width, height }, format);
}

/** A crude head turn: columns left of `cx` squeezed by `k`, the rest stretched to keep the width. */
export function turnedFace(image: RgbImage, cx: number, k: number): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  const newCx = cx * k;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = x < newCx ? x / k : cx + ((x - newCx) * (width - cx)) / (width - newCx);
      const xi = Math.min(width - 1, Math.round(sx));
      out.set(data.subarray((y * width + xi) * 3, (y * width + xi) * 3 + 3), (y * width + x) * 3);
    }
  }
  return { data: out, width, height };
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-built bad inputs

/** The first `fraction` of the file: what an interrupted upload leaves. */
export function truncated(bytes: Uint8Array, fraction = 0.6): Buffer {
  return Buffer.from(bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

function pngChunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/**
 * A decompression bomb: a valid PNG header claiming `side`×`side` RGB pixels (50k² = 7.5 GB decoded) with a
 * few hundred bytes of compressed data behind it.
 */
export function pngBomb(side = 50_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const oneRow = Buffer.alloc(side * 3 + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(oneRow, { level: 9 })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** A JPEG whose frame header (SOF0/SOF2) is patched to claim `width`×`height`: a bomb in JPEG form. */
export function withJpegFrameSize(jpeg: Uint8Array, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let at = 2; at + 9 < out.length; ) {
    if (out[at] !== 0xff) throw new Error(`no marker at ${at}`);
    const marker = out[at + 1]!;
    if (marker === 0xc0 || marker === 0xc2) {
      out.writeUInt16BE(height, at + 5);
      out.writeUInt16BE(width, at + 7);
      return out;
    }
    at += 2 + out.readUInt16BE(at + 2);
  }
  throw new Error('no SOF0/SOF2 frame header found');
}

/**
 * A progressive-JPEG "scan bomb": a flat 2000×2000 progressive JPEG with its smallest scan repeated `repeats`
 * times. Each scan is a pass over every coefficient, so a decoder that accepted them would spin for seconds on a
 * file of a few hundred KB.
 */
export async function jpegScanBomb(repeats = 20_000): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#808080' } })
    .jpeg({ progressive: true, quality: 90 })
    .toBuffer();
  const segments: Buffer[] = [];
  let smallestScan: Buffer | undefined;
  for (let at = 2; at < jpeg.length; ) {
    const marker = jpeg[at + 1]!;
    if (jpeg[at] !== 0xff || marker === 0xd9) break;
    let end = at + 2 + jpeg.readUInt16BE(at + 2);
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart marker.
      while (end + 1 < jpeg.length && !(jpeg[end] === 0xff && jpeg[end + 1] !== 0 && (jpeg[end + 1]! & 0xf8) !== 0xd0)) end += 1;
      const scan = jpeg.subarray(at, end);
      if (!smallestScan || scan.length < smallestScan.length) smallestScan = scan;
    }
    segments.push(jpeg.subarray(at, end));
    at = end;
  }
  if (!smallestScan) throw new Error('no scan found in the progressive JPEG');
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, ...Array<Buffer>(repeats).fill(smallestScan), Buffer.from([0xff, 0xd9])]);
}

/** An SVG that, if rendered, would fetch `href` (an external image reference). */
export function svgWithExternalImage(href: string): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="512" height="512">` +
      `<image href="${href}" xlink:href="${href}" x="0" y="0" width="512" height="512"/>` +
      `<rect width="10" height="10" fill="red"/></svg>\n`,
  );
}

/** An empty but valid ZIP archive (just the end-of-central-directory record), plus an HTML payload. */
export function zipAndHtmlTrailer(): Buffer {
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  return Buffer.concat([Buffer.from('<html><script>alert(document.domain)</script></html>\n'), eocd]);
}

/** A polyglot: a complete image with a ZIP/HTML trailer appended after its end marker. */
export function withTrailer(image: Uint8Array, trailer: Uint8Array = zipAndHtmlTrailer()): Buffer {
  return Buffer.concat([image, trailer]);
}

/**
 * A GIF/JavaScript polyglot: the logical screen width is patched to the bytes `/*`, so the file reads as
 * `GIF89a/* …binary… *\/=1;alert(…)` to a JS parser, while the GIF decoder still sees one `gif` frame.
 */
export function gifJsPolyglot(gif: Uint8Array): Buffer {
  if (Buffer.from(gif.subarray(0, 6)).toString('latin1') !== 'GIF89a') throw new Error('expected a GIF89a');
  const poly = Buffer.concat([gif, Buffer.from('*/=1;alert(document.domain);//')]);
  poly[6] = 0x2f; // '/'
  poly[7] = 0x2a; // '*'
  return poly;
}

/** The reverse polyglot: an HTML page first, a valid image embedded later (e.g. after a comment). */
export function htmlThenImage(image: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('<!doctype html><html><body><script>/*'), image, Buffer.from('*/</script></body></html>')]);
}

/**
 * A `width`×`height` JPEG of flat grey-green with `photo` resized to `side` px wide pasted at each (left, top):
 * a panorama, a group shot or a screenshot with small faces in it.
 */
export async function onCanvas(
  photo: Uint8Array,
  canvas: { width: number; height: number },
  side: number,
  at: ReadonlyArray<{ left: number; top: number }>,
): Promise<Buffer> {
  const resized = await sharp(photo).resize(side).toBuffer();
  return sharp({ create: { ...canvas, channels: 3, background: '#6a7a70' } })
    .composite(at.map(({ left, top }) => ({ input: resized, left, top })))
    .jpeg({ quality: 90 })
    .toBuffer();
}
