/**
 * Contract of the intake stage: what goes in (raw upload bytes plus limits), what comes out (an upright,
 * sRGB, 8-bit, 3-channel working copy) and the choice made for each kind of input.
 *
 * Formats (sniffed from magic numbers in src/shared/sniff-format.ts, never from a file name or MIME type):
 * - accepted: JPEG, PNG, WebP, GIF (first frame only), AVIF, and HEIF/HEIC where this sharp build decodes the
 *   coded image. The prebuilt sharp's libheif decodes AV1 only, so an HEVC-coded HEIC (iPhone default) is
 *   refused with UNSUPPORTED_FORMAT `{format: 'heic'}` rather than called damaged. The decoder libvips picks must
 *   agree with the signature, or the file is UNSUPPORTED_FORMAT.
 * - refused (UNSUPPORTED_FORMAT `{format}`): SVG/XML (never handed to a decoder, so no external reference can be
 *   fetched and no script or font is loaded), TIFF (sharp reads it, but phones and Discord never send it and it is
 *   a large, multi-page, codec-rich attack surface), PDF, BMP, ICO, JPEG 2000, JPEG XL, gzip (svgz), text,
 *   and anything whose first bytes are not an accepted signature.
 * - polyglots: a file that *starts* with an accepted signature and decodes cleanly is accepted: a JPEG with a ZIP
 *   or HTML appended, a GIF whose header is also JavaScript (`GIF89a/*…*\/=…`). Whatever else the bytes mean never
 *   reaches the output, which is raw pixels, so nothing of it can be served back. A file with other content first
 *   (HTML/JS, then an image) fails the signature check.
 *
 * Limits (IntakeLimits, from config): bytes are checked before anything is parsed; width × height of one frame is
 * read from the header and refused before a pixel is decoded (and sharp's `limitInputPixels` repeats the check
 * inside libvips); the shortest side is checked after EXIF orientation.
 *
 * Decoding: sharp `failOn: 'error'`: truncated or corrupt data is BAD_IMAGE, while libjpeg's mere warnings (e.g.
 * "extraneous bytes before marker", common in phone and messenger JPEGs) are tolerated. A sharp `timeout` bounds
 * each pass (BAD_IMAGE `{reason: 'timeout'}`). Decoding is sequential and into memory: nothing is written to disk.
 *
 * Colour: EXIF orientation 1–8 is applied (after shrinking, so a portrait phone photo is not rotated at full
 * size); embedded ICC profiles other than sRGB (Display P3, Adobe RGB, CMYK) are converted to sRGB, an sRGB profile
 * is skipped as the identity it is; CMYK, greyscale and 16-bit inputs become 8-bit sRGB; alpha is flattened onto
 * white (a cut-out selfie then looks like a studio shot to the face detector, and a transparent PNG looks as most
 * viewers show it). No metadata survives: the result is raw pixels.
 *
 * Working copy: shrunk to `maxLongSide` (lanczos3, never enlarged); an image more elongated than 2:1 (a
 * panorama, a group shot, a screenshot) shrinks less, so its faces stay large enough to find: only until its
 * short side is `maxLongSide / 2`, within `maxLongSide²` pixels (workingScale in intake.ts). sharp uses JPEG
 * shrink-on-load by itself once the factor reaches 3 (and WebP's at any factor); for a 12 MP photo → 2048 the
 * decode costs about the same as the full size, and the gain is the smaller buffer every later stage reads (12 MB
 * instead of 36 MB).
 */
import type { RgbImage } from './engine.js';

import type { AcceptedFormat } from '../shared/sniff-format.js';
export { ACCEPTED_FORMATS, type AcceptedFormat, type RefusedFormat } from '../shared/sniff-format.js';

export interface IntakeLimits {
  /** Largest upload in bytes, checked before anything is parsed. Config `MAX_IMAGE_BYTES`. */
  maxBytes: number;
  /** Largest width × height (one frame, from the header), checked before decoding. Config `MAX_IMAGE_PIXELS`. */
  maxPixels: number;
  /** Smallest allowed shortest side, after EXIF orientation. Config `MIN_IMAGE_SIDE`. */
  minSide: number;
}

export interface IntakeOptions {
  /**
   * Longest side of the working copy. Larger images are shrunk (JPEG and WebP shrink while decoding);
   * smaller ones are never enlarged. 0 keeps the full size. Beyond 2:1 the long side may exceed it (workingScale).
   * @defaultValue 2048
   */
  maxLongSide?: number;
  /**
   * Seconds sharp may spend on the image before the intake gives up with `BAD_IMAGE {reason: 'timeout'}`.
   * @defaultValue 15
   */
  timeoutSeconds?: number;
}

export const INTAKE_DEFAULTS = Object.freeze({
  maxLongSide: 2048,
  timeoutSeconds: 15,
  /** sRGB white: what alpha is flattened onto. */
  background: Object.freeze({ r: 255, g: 255, b: 255 }),
});

export interface IntakeImage {
  /** The working copy: upright, sRGB, packed 8-bit RGB, no metadata. */
  image: RgbImage;
  format: AcceptedFormat;
  /** Size of the full image after EXIF orientation. */
  original: { width: number; height: number };
  /** working / original (image.width / original.width); 1 when no shrink happened. */
  scale: number;
}
