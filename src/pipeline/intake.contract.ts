/**
 * Contract of the intake stage: what goes in (raw upload bytes plus limits), what comes out (an upright,
 * sRGB, 8-bit, 3-channel working copy) and the choices made for each kind of input.
 *
 * Formats (sniffed from magic numbers, never from a file name or MIME type):
 * - accepted: JPEG, PNG, WebP, GIF (first frame only), AVIF, and HEIF/HEIC where this sharp build decodes the
 *   coded images. The prebuilt sharp has libheif with the AV1 decoder only, so HEVC-coded HEIC is refused with
 *   UNSUPPORTED_FORMAT (`format: 'heic'`) rather than reported as a damaged file.
 * - refused (UNSUPPORTED_FORMAT): SVG (never handed to a decoder, so no external reference is ever fetched),
 *   TIFF (phones never send it; a large, multi-page, codec-rich attack surface), PDF, BMP, ICO, JPEG 2000/XL,
 *   text, and anything whose first bytes are not one of the accepted signatures.
 * - polyglots: a file that *starts* with an accepted signature and decodes cleanly is accepted. Whatever follows
 *   the image data (a ZIP or HTML appended to a JPEG) never reaches the output, which is raw pixels only.
 *   A file that embeds an image after other content (HTML/JS first) is refused by the signature check.
 *
 * Errors: `HairError` with `UNSUPPORTED_FORMAT {format}`, `BAD_IMAGE {format, reason}` (empty, truncated,
 * corrupt, timeout), `IMAGE_TOO_LARGE {limit}` (bytes before any parsing, pixels from the header before any
 * decoding), `IMAGE_TOO_SMALL {minSide}` (shortest side after EXIF orientation).
 *
 * Colour: EXIF orientation applied (all 8 values); ICC profiles, CMYK, greyscale and 16-bit inputs are
 * converted to sRGB 8-bit; alpha is flattened onto white (a cut-out selfie then looks like a studio shot to
 * the face detector, and a transparent PNG looks as it does in most viewers). No metadata survives.
 */
import type { RgbImage } from './engine.js';

export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'heif'] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

/** Formats recognised only in order to name them in the refusal. */
export type RefusedFormat = 'svg' | 'tiff' | 'pdf' | 'bmp' | 'ico' | 'jp2' | 'jxl' | 'heic' | 'unknown';

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
   * smaller ones are never enlarged. 0 keeps the full size.
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
