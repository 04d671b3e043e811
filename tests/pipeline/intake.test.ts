import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intake, intakeLimits, workingScale } from '../../src/pipeline/intake.js';
import { formatByteLimit } from '../../src/shared/format-bytes.js';
import type { IntakeLimits } from '../../src/pipeline/intake.js';
import { loadConfig } from '../../src/shared/config.js';
import { HairError, type ErrorCode } from '../../src/shared/errors.js';
import {
  EXIF_ORIENTATIONS,
  animatedGif,
  cardCorners,
  cmykJpeg,
  decodeRgb,
  encodeAs,
  gifJsPolyglot,
  grayscale,
  htmlThenImage,
  jpegScanBomb,
  loadAstronaut,
  loadFixture,
  meanAbsDiff,
  orientationCard,
  pixelAt,
  png16,
  pngBomb,
  pngWithTransparentLeftHalf,
  resizeToWidth,
  solid,
  svgWithExternalImage,
  truncated,
  withExifOrientation,
  withJpegFrameSize,
  withTrailer,
} from '../helpers/images.js';
import type { RgbImage } from '../../src/pipeline/engine.js';

const limits: IntakeLimits = intakeLimits(loadConfig({ env: {} }));

/** Runs intake and returns the HairError it must throw (fails the test on success or any other error). */
async function refusal(bytes: Uint8Array, lim: IntakeLimits = limits): Promise<HairError> {
  const outcome = await intake(bytes, lim).then(
    (ok) => ({ ok }),
    (error: unknown) => ({ error }),
  );
  if ('ok' in outcome) throw new Error(`expected a refusal, got a ${outcome.ok.image.width}x${outcome.ok.image.height} image`);
  expect(outcome.error).toBeInstanceOf(HairError);
  return outcome.error as HairError;
}

async function expectCode(bytes: Uint8Array, code: ErrorCode, lim?: IntakeLimits): Promise<HairError> {
  const error = await refusal(bytes, lim);
  expect(error.code, error.message).toBe(code);
  return error;
}

let astronaut: Buffer;
let astronautRgb: RgbImage;
let astronautJpeg: Buffer;

beforeAll(async () => {
  astronaut = await loadAstronaut();
  astronautRgb = await decodeRgb(astronaut);
  astronautJpeg = await encodeAs(astronaut, 'jpeg', 92);
});

describe('intake: the limits come from config', () => {
  it('uses MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS and MIN_IMAGE_SIDE', () => {
    expect(limits).toEqual({ maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000, minSide: 128 });
    const custom = intakeLimits(loadConfig({ env: { MAX_IMAGE_BYTES: '2048', MAX_IMAGE_PIXELS: '5000', MIN_IMAGE_SIDE: '20' } }));
    expect(custom).toEqual({ maxBytes: 2048, maxPixels: 5000, minSide: 20 });
  });

  it('writes byte limits as people read them', () => {
    expect(formatByteLimit(10 * 1024 * 1024)).toBe('10 MB');
    expect(formatByteLimit(512 * 1024)).toBe('512 KB');
    expect(formatByteLimit(1536 * 1024)).toBe('1.5 MB');
  });
});

describe('intake: accepted formats decode to upright sRGB 8-bit RGB', () => {
  const cases = [
    { format: 'jpeg', lib: 'jpeg', sniffed: 'jpeg', tolerance: 3 },
    { format: 'png', lib: 'png', sniffed: 'png', tolerance: 0 },
    { format: 'webp', lib: 'webp', sniffed: 'webp', tolerance: 4 },
    { format: 'gif', lib: 'gif', sniffed: 'gif', tolerance: 8 },
    { format: 'avif', lib: 'heif', sniffed: 'avif', tolerance: 5 },
    // sharp's prebuilt libheif encodes AV1 only, so the HEIF it writes carries the 'avif' brand.
    { format: 'heif', lib: 'heif', sniffed: 'avif', tolerance: 5 },
  ] as const;

  for (const { format, lib, sniffed, tolerance } of cases) {
    it.runIf(sharp.format[lib].output.buffer && sharp.format[lib].input.buffer)(`${format}`, async () => {
      const bytes = await encodeAs(astronaut, format);
      const result = await intake(bytes, limits);
      expect(result.format).toBe(sniffed);
      expect(result.original).toEqual({ width: 512, height: 512 });
      expect(result.scale).toBe(1);
      expect(result.image.width).toBe(512);
      expect(result.image.height).toBe(512);
      expect(result.image.data).toBeInstanceOf(Uint8Array);
      expect(result.image.data.length).toBe(512 * 512 * 3);
      expect(meanAbsDiff(result.image, astronautRgb)).toBeLessThanOrEqual(tolerance);
    });
  }

  // tests/fixtures/solid-160x128.heic (393 bytes): a real HEVC HEIC made with Debian's heif-enc 1.15.1 (x265),
  // since nothing in node_modules encodes HEVC. The prebuilt sharp's libheif has no HEVC decoder.
  it.runIf('heif' in sharp.versions)('HEIC (HEVC) → UNSUPPORTED_FORMAT in the prebuilt sharp, not BAD_IMAGE', async () => {
    const bytes = await loadFixture('solid-160x128.heic');
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.compression, meta.width, meta.height]).toEqual(['heif', 'hevc', 160, 128]);
    const error = await expectCode(bytes, 'UNSUPPORTED_FORMAT', { ...limits, minSide: 16 });
    expect(error.params).toEqual({ format: 'heic' });
  });

  it('greyscale becomes three equal channels', async () => {
    const bytes = await grayscale(astronaut);
    expect((await sharp(bytes).metadata()).channels).toBe(1);
    const { image } = await intake(bytes, limits);
    expect(image.data.length).toBe(512 * 512 * 3);
    const [r, g, b] = pixelAt(image, 256, 100);
    expect(r).toBe(g);
    expect(g).toBe(b);
  });

  it('CMYK JPEG is converted to sRGB', async () => {
    const bytes = await cmykJpeg(astronaut);
    const meta = await sharp(bytes).metadata();
    expect(meta.space).toBe('cmyk');
    expect(meta.channels).toBe(4);
    const { image } = await intake(bytes, limits);
    expect(image.data.length).toBe(512 * 512 * 3);
    // A round trip through a CMYK profile is not exact, but the picture must be the same picture.
    expect(meanAbsDiff(image, astronautRgb)).toBeLessThan(12);
  });

  it('an embedded Display P3 profile is honoured; an sRGB one changes nothing', async () => {
    const p3 = await sharp(astronaut).withIccProfile('p3').png().toBuffer();
    const srgbTagged = await sharp(astronaut).withIccProfile('srgb').png().toBuffer();
    expect((await sharp(p3).metadata()).hasProfile).toBe(true);
    // The P3 file's numbers differ from the sRGB ones; colour management brings them back.
    const p3Numbers = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    const rawDiff = meanAbsDiff({ ...astronautRgb, data: p3Numbers }, astronautRgb);
    expect(rawDiff).toBeGreaterThan(3);
    expect(meanAbsDiff((await intake(p3, limits)).image, astronautRgb)).toBeLessThan(1.5);
    expect(meanAbsDiff((await intake(srgbTagged, limits)).image, astronautRgb)).toBeLessThanOrEqual(0.5);
  });

  it('16-bit PNG is reduced to 8 bits', async () => {
    const bytes = await png16(astronaut);
    expect((await sharp(bytes).metadata()).depth).toBe('ushort');
    const { image } = await intake(bytes, limits);
    expect(image.data.length).toBe(512 * 512 * 3);
    expect(meanAbsDiff(image, astronautRgb)).toBeLessThanOrEqual(1);
  });

  it('PNG alpha is flattened onto white', async () => {
    const bytes = await pngWithTransparentLeftHalf(astronaut);
    expect((await sharp(bytes).metadata()).hasAlpha).toBe(true);
    const { image } = await intake(bytes, limits);
    expect(image.data.length).toBe(512 * 512 * 3);
    expect(pixelAt(image, 10, 10)).toEqual([255, 255, 255]);
    expect(pixelAt(image, 200, 400)).toEqual([255, 255, 255]);
    expect(pixelAt(image, 400, 300)).toEqual(pixelAt(astronautRgb, 400, 300));
  });

  it('animated GIF: only the first frame is used', async () => {
    const bytes = await animatedGif([[255, 0, 0], [0, 255, 0], [0, 0, 255]], 160, 160);
    expect((await sharp(bytes).metadata()).pages).toBe(3);
    const { image, original } = await intake(bytes, limits);
    expect(original).toEqual({ width: 160, height: 160 });
    expect(image.height).toBe(160);
    for (const [x, y] of [[0, 0], [80, 80], [159, 159]] as const) {
      const [r, g, b] = pixelAt(image, x, y);
      expect(r).toBeGreaterThan(240);
      expect(g).toBeLessThan(15);
      expect(b).toBeLessThan(15);
    }
  });

  it('animated WebP: only the first frame is used', async () => {
    const bytes = await animatedGif([[0, 0, 255], [255, 0, 0]], 160, 160, 'webp');
    expect((await sharp(bytes).metadata()).pages).toBe(2);
    const { image, format } = await intake(bytes, limits);
    expect(format).toBe('webp');
    expect(image.height).toBe(160);
    expect(pixelAt(image, 80, 80)).toEqual([0, 0, 255]);
  });

  it('returns raw pixels only: no metadata can survive', async () => {
    const tagged = await sharp(astronaut).jpeg().withMetadata({ orientation: 1 }).withExifMerge({ IFD0: { Artist: 'someone' } }).toBuffer();
    const result = await intake(tagged, limits);
    expect(Object.keys(result).sort()).toEqual(['format', 'image', 'original', 'scale']);
    expect(Object.keys(result.image).sort()).toEqual(['data', 'height', 'width']);
    expect(result.image.data.length).toBe(result.image.width * result.image.height * 3);
  });

  it('does not modify the input bytes', async () => {
    const copy = Buffer.from(astronautJpeg);
    await intake(astronautJpeg, limits);
    expect(Buffer.compare(copy, astronautJpeg)).toBe(0);
  });
});

describe('intake: EXIF orientation 1–8 comes out upright', () => {
  const card = orientationCard(240, 160, 40);
  const red = [255, 0, 0];
  const green = [0, 255, 0];
  const blue = [0, 0, 255];
  const black = [0, 0, 0];
  const near = (actual: [number, number, number], expected: number[]) =>
    actual.every((v, i) => Math.abs(v - expected[i]!) <= 12);

  for (const orientation of EXIF_ORIENTATIONS) {
    it(`orientation ${orientation}`, async () => {
      const bytes = await withExifOrientation(await encodeAs(card, 'png'), orientation);
      const meta = await sharp(bytes).metadata();
      expect(meta.orientation).toBe(orientation);
      // The stored pixels really are transformed: sideways for 5–8.
      expect([meta.width, meta.height]).toEqual(orientation >= 5 ? [160, 240] : [240, 160]);

      const result = await intake(bytes, { ...limits, minSide: 16 });
      expect(result.original).toEqual({ width: 240, height: 160 });
      expect([result.image.width, result.image.height]).toEqual([240, 160]);
      const corners = cardCorners(result.image, 40);
      expect(near(corners.tl, red), `top-left ${corners.tl.join(',')}`).toBe(true);
      expect(near(corners.tr, green), `top-right ${corners.tr.join(',')}`).toBe(true);
      expect(near(corners.bl, blue), `bottom-left ${corners.bl.join(',')}`).toBe(true);
      expect(near(corners.br, black), `bottom-right ${corners.br.join(',')}`).toBe(true);
    });
  }

  it('every orientation is also upright in a shrunk working copy', async () => {
    const big = await encodeAs(orientationCard(1200, 800, 200), 'png');
    for (const orientation of EXIF_ORIENTATIONS) {
      const result = await intake(await withExifOrientation(big, orientation), limits, { maxLongSide: 600 });
      expect(result.original).toEqual({ width: 1200, height: 800 });
      expect([result.image.width, result.image.height, result.scale]).toEqual([600, 400, 0.5]);
      const corners = cardCorners(result.image, 100);
      expect([near(corners.tl, red), near(corners.tr, green), near(corners.bl, blue), near(corners.br, black)], `orientation ${orientation}`)
        .toEqual([true, true, true, true]);
    }
  });

  it('WebP with orientation 6 as well', async () => {
    const bytes = await withExifOrientation(await encodeAs(card, 'png'), 6, 'webp');
    const result = await intake(bytes, { ...limits, minSide: 16 });
    expect([result.image.width, result.image.height]).toEqual([240, 160]);
    expect(near(cardCorners(result.image).tl, red)).toBe(true);
    expect(near(cardCorners(result.image).tr, green)).toBe(true);
  });

  it('the minimum side is checked after orientation', async () => {
    // Stored 100×300, displayed 300×100: too small either way on the short side.
    const bytes = await withExifOrientation(await solid(300, 100, 'png'), 6);
    const error = await expectCode(bytes, 'IMAGE_TOO_SMALL', { ...limits, minSide: 128 });
    expect(error.params).toEqual({ minSide: 128 });
  });
});

describe('intake: working copy', () => {
  it('caps the long side at 2048 and reports the scale', async () => {
    const bytes = await withExifOrientation(await solid(1500, 3000, 'png'), 1, 'webp');
    const result = await intake(bytes, limits);
    expect(result.original).toEqual({ width: 1500, height: 3000 });
    expect([result.image.width, result.image.height]).toEqual([1024, 2048]);
    expect(result.scale).toBeCloseTo(2048 / 3000, 6);
  });

  it('a 4000 px JPEG becomes a 2048 px working copy of the same picture', async () => {
    const bytes = await resizeToWidth(astronaut, 4000);
    const result = await intake(bytes, limits);
    expect(result.original).toEqual({ width: 4000, height: 4000 });
    expect([result.image.width, result.image.height]).toEqual([2048, 2048]);
    expect(result.scale).toBeCloseTo(2048 / 4000, 6);
    const reference = await decodeRgb(await sharp(bytes).resize(2048).png().toBuffer());
    expect(meanAbsDiff(result.image, reference)).toBeLessThan(2);
  });

  it('keeps the full size with maxLongSide 0 and a custom cap otherwise', async () => {
    const bytes = await resizeToWidth(astronaut, 1200);
    const full = await intake(bytes, limits, { maxLongSide: 0 });
    expect([full.image.width, full.image.height, full.scale]).toEqual([1200, 1200, 1]);
    const capped = await intake(bytes, limits, { maxLongSide: 600 });
    expect([capped.image.width, capped.image.height, capped.scale]).toEqual([600, 600, 0.5]);
    // The shrunk copy is the same picture.
    const fullSmall = await decodeRgb(await sharp(Buffer.from(full.image.data), { raw: { width: 1200, height: 1200, channels: 3 } }).resize(600).png().toBuffer());
    expect(meanAbsDiff(capped.image, fullSmall)).toBeLessThan(3);
  });

  it('never enlarges a small image', async () => {
    const bytes = await resizeToWidth(astronaut, 300);
    const result = await intake(bytes, limits);
    expect([result.image.width, result.image.height, result.scale]).toEqual([300, 300, 1]);
  });

  it('a rotated phone photo keeps its upright size in `original`', async () => {
    const bytes = await withExifOrientation(await solid(3000, 2000, 'png'), 8);
    expect((await sharp(bytes).metadata()).width).toBe(2000);
    const result = await intake(bytes, limits);
    expect(result.original).toEqual({ width: 3000, height: 2000 });
    expect([result.image.width, result.image.height]).toEqual([2048, 1365]);
  });
});

describe('intake: working copy of elongated images (panoramas, group shots, screenshots)', () => {
  it('workingScale: up to 2:1 the long side fits; beyond, the short side keeps maxLongSide / 2 within maxLongSide² pixels', () => {
    for (const [w, h] of [[4000, 3000], [3000, 4000], [4000, 2250], [3000, 3000], [4000, 2000]] as const) {
      expect(workingScale(w, h, 2048)).toBeCloseTo(2048 / Math.max(w, h), 9);
    }
    expect(workingScale(6000, 2000, 2048)).toBeCloseTo(1024 / 2000, 9);
    // 6000×1000 would keep its 1000 px short side, but that is 6 MP: the pixel budget (2048²) decides.
    expect(workingScale(6000, 1000, 2048)).toBeCloseTo(2048 / Math.sqrt(6_000_000), 9);
    expect(workingScale(1000, 6000, 2048)).toBe(workingScale(6000, 1000, 2048));
    expect(workingScale(3000, 900, 2048)).toBe(1);
    expect(workingScale(1000, 1000, 2048)).toBe(1);
    expect(workingScale(6000, 1000, 0)).toBe(1);
    for (const [w, h] of [[6000, 1000], [40_000, 1000], [20_000, 2000], [9000, 3000]] as const) {
      const k = workingScale(w, h, 2048);
      expect(w * k * h * k).toBeLessThanOrEqual(2048 * 2048 * 1.000001);
    }
  });

  it('a 6000×1000 panorama keeps a 5017×836 working copy (the old cap made it 2048×341), orientation applied', async () => {
    const wide = await intake(await solid(6000, 1000, 'jpeg'), limits);
    expect([wide.image.width, wide.image.height]).toEqual([5017, 836]);
    expect(wide.scale).toBeCloseTo(5017 / 6000, 6);
    // Shown 1000×6000, stored 6000×1000 (EXIF 6): the same budget, turned.
    const tall = await intake(await withExifOrientation(await solid(1000, 6000, 'png'), 6), limits);
    expect(tall.original).toEqual({ width: 1000, height: 6000 });
    expect([tall.image.width, tall.image.height]).toEqual([836, 5017]);
  });
});

describe('intake: bad inputs get a code, never a crash or a hang', () => {
  it('zero bytes → BAD_IMAGE', async () => {
    const error = await expectCode(new Uint8Array(0), 'BAD_IMAGE');
    expect(error.params).toEqual({ reason: 'empty' });
  });

  it('a text file (whatever it is called, e.g. notes.png) → UNSUPPORTED_FORMAT', async () => {
    // intake never sees a file name: only the bytes decide.
    await expectCode(Buffer.from('This is not a PNG, just text saved as notes.png\n'), 'UNSUPPORTED_FORMAT');
  });

  it('truncated JPEG → BAD_IMAGE (truncated)', async () => {
    const error = await expectCode(truncated(astronautJpeg, 0.6), 'BAD_IMAGE');
    expect(error.params).toEqual({ format: 'jpeg', reason: 'truncated' });
  });

  it('truncated PNG → BAD_IMAGE', async () => {
    const error = await expectCode(truncated(astronaut, 0.5), 'BAD_IMAGE');
    expect(error.params.format).toBe('png');
  });

  it('a JPEG signature followed by garbage → BAD_IMAGE', async () => {
    await expectCode(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x41)]), 'BAD_IMAGE');
  });

  it('PNG decompression bomb (50k × 50k header, tiny data) → IMAGE_TOO_LARGE without decoding', async () => {
    const bomb = pngBomb(50_000);
    expect(bomb.length).toBeLessThan(20_000);
    const error = await expectCode(bomb, 'IMAGE_TOO_LARGE');
    expect(error.params).toEqual({ limit: '40 MP' });
  });

  it('JPEG bomb (frame header claims 65000 × 65000) → IMAGE_TOO_LARGE', async () => {
    const bomb = withJpegFrameSize(astronautJpeg, 65_000, 65_000);
    expect((await sharp(bomb, { limitInputPixels: false }).metadata()).width).toBe(65_000);
    await expectCode(bomb, 'IMAGE_TOO_LARGE');
  });

  it('progressive JPEG scan bomb (20 000 repeated scans) → BAD_IMAGE, without spinning', async () => {
    const bomb = await jpegScanBomb(20_000);
    expect(bomb.length).toBeLessThan(limits.maxBytes);
    const error = await expectCode(bomb, 'BAD_IMAGE');
    expect(error.params.format).toBe('jpeg');
  });

  it('a bomb just over a lowered pixel limit is refused from the header too', async () => {
    await expectCode(pngBomb(2_001), 'IMAGE_TOO_LARGE', { ...limits, maxPixels: 2_000 * 2_000 });
  });

  it('1×1 image → IMAGE_TOO_SMALL', async () => {
    const error = await expectCode(await solid(1, 1, 'png'), 'IMAGE_TOO_SMALL');
    expect(error.params).toEqual({ minSide: 128 });
  });

  it('over the byte limit → IMAGE_TOO_LARGE with a readable limit, before parsing', async () => {
    // Ten megabytes and one byte of zeros: refused on size, never sniffed or decoded.
    const error = await expectCode(new Uint8Array(10 * 1024 * 1024 + 1), 'IMAGE_TOO_LARGE');
    expect(error.params).toEqual({ limit: '10 MB' });
    const small = await expectCode(astronautJpeg, 'IMAGE_TOO_LARGE', { ...limits, maxBytes: astronautJpeg.length - 1 });
    expect(small.params.limit).toMatch(/KB$/);
  });

  it('TIFF → UNSUPPORTED_FORMAT (refused by choice, though sharp reads it)', async () => {
    const error = await expectCode(await encodeAs(astronaut, 'tiff'), 'UNSUPPORTED_FORMAT');
    expect(error.params).toEqual({ format: 'tiff' });
  });

  it('PDF → UNSUPPORTED_FORMAT', async () => {
    await expectCode(Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n'), 'UNSUPPORTED_FORMAT');
  });

  it('gzip-compressed SVG (svgz) → UNSUPPORTED_FORMAT', async () => {
    const { gzipSync } = await import('node:zlib');
    await expectCode(gzipSync(svgWithExternalImage('http://127.0.0.1:9/x.png')), 'UNSUPPORTED_FORMAT');
  });

  describe('SVG with an external reference', () => {
    let server: Server;
    const requests: string[] = [];
    let base = '';

    beforeAll(async () => {
      server = createServer((req, res) => {
        requests.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'image/png' }).end(astronaut);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('→ UNSUPPORTED_FORMAT and nothing is fetched', async () => {
      for (const svg of [
        svgWithExternalImage(`${base}/plain.png`),
        Buffer.concat([Buffer.from('\uFEFF\n  '), svgWithExternalImage(`${base}/bom.png`)]),
        Buffer.from(svgWithExternalImage(`${base}/no-decl.png`).toString().replace(/^<\?xml[^>]*>\n/, '')),
      ]) {
        const error = await expectCode(svg, 'UNSUPPORTED_FORMAT');
        expect(error.params).toEqual({ format: 'svg' });
      }
      // A JPEG signature in front of SVG text goes to the JPEG decoder, which fails; it is never rendered.
      await expectCode(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), svgWithExternalImage(`${base}/jpeg-head.png`)]), 'BAD_IMAGE');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(requests).toEqual([]);
      // The recorder works: a real request shows up.
      await fetch(`${base}/control`).then((r) => r.arrayBuffer());
      expect(requests).toEqual(['/control']);
    });
  });

  describe('polyglots', () => {
    it('a valid JPEG with a ZIP + HTML appended is accepted: the trailer never reaches the pixels', async () => {
      const polyglot = withTrailer(astronautJpeg);
      expect(polyglot.includes(Buffer.from('<script>'))).toBe(true);
      const clean = await intake(astronautJpeg, limits);
      const result = await intake(polyglot, limits);
      expect(result.format).toBe('jpeg');
      expect(Buffer.compare(Buffer.from(result.image.data), Buffer.from(clean.image.data))).toBe(0);
    });

    it('a valid PNG with a trailer is accepted the same way', async () => {
      const result = await intake(withTrailer(astronaut), limits);
      expect(meanAbsDiff(result.image, astronautRgb)).toBe(0);
    });

    it('a GIF/JS polyglot is accepted as the GIF it also is: only its pixels come out', async () => {
      const gif = await solid(160, 160, 'gif', [255, 0, 0]);
      const polyglot = gifJsPolyglot(gif);
      expect(polyglot.subarray(0, 8).toString('latin1')).toBe('GIF89a/*');
      const result = await intake(polyglot, { ...limits, minSide: 16 });
      expect(result.format).toBe('gif');
      expect(result.original).toEqual({ width: 160, height: 160 });
      expect(pixelAt(result.image, 80, 80)).toEqual([255, 0, 0]);
      expect(result.image.data.length).toBe(160 * 160 * 3);
    });

    it('an HTML/JS page with an image embedded after it → UNSUPPORTED_FORMAT', async () => {
      await expectCode(htmlThenImage(astronaut), 'UNSUPPORTED_FORMAT');
      await expectCode(htmlThenImage(astronautJpeg), 'UNSUPPORTED_FORMAT');
    });
  });

  it('wrong argument types are programming errors (TypeError), not user errors', async () => {
    await expect(intake('a string' as unknown as Uint8Array, limits)).rejects.toThrow(TypeError);
    await expect(intake(astronaut, { ...limits, maxPixels: 0 })).rejects.toThrow(/limits\.maxPixels/);
    await expect(intake(astronaut, limits, { maxLongSide: -1 })).rejects.toThrow(/maxLongSide/);
  });
});
