import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { HairError } from '../shared/errors.js';
import type { PipelineConfig } from '../shared/config.js';
import {
  INTAKE_DEFAULTS,
  type AcceptedFormat,
  type IntakeImage,
  type IntakeLimits,
  type IntakeOptions,
} from './intake.contract.js';
import { isSrgbProfile } from './is-srgb-profile.js';
import { sniffFormat } from '../shared/sniff-format.js';
import { formatByteLimit } from '../shared/format-bytes.js';

export type { AcceptedFormat, IntakeImage, IntakeLimits, IntakeOptions } from './intake.contract.js';
export { ACCEPTED_FORMATS, INTAKE_DEFAULTS } from './intake.contract.js';

/** The intake limits of a pipeline configuration. */
export function intakeLimits(
  config: Pick<PipelineConfig, 'MAX_IMAGE_BYTES' | 'MAX_IMAGE_PIXELS' | 'MIN_IMAGE_SIDE'>,
): IntakeLimits {
  return { maxBytes: config.MAX_IMAGE_BYTES, maxPixels: config.MAX_IMAGE_PIXELS, minSide: config.MIN_IMAGE_SIDE };
}

/** "40 MP": the pixel limit as users read it. */
export function formatPixelLimit(pixels: number): string {
  const mp = pixels / 1_000_000;
  return `${mp >= 10 ? Math.round(mp) : Number(mp.toFixed(1))} MP`;
}

/** The decoder sharp reports for each accepted format (AVIF goes through libheif). */
const SHARP_FORMAT: Record<AcceptedFormat, string> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  avif: 'heif',
  heif: 'heif',
};

function checkArguments(bytes: unknown, limits: IntakeLimits, options: IntakeOptions): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Expected Uint8Array for bytes but received ${typeof bytes}`);
  }
  for (const name of ['maxBytes', 'maxPixels', 'minSide'] as const) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`Expected positive integer for limits.${name} but received ${String(value)}`);
    }
  }
  const { maxLongSide, timeoutSeconds } = options;
  if (maxLongSide !== undefined && (!Number.isSafeInteger(maxLongSide) || maxLongSide < 0)) {
    throw new TypeError(`Expected integer >= 0 for options.maxLongSide but received ${String(maxLongSide)}`);
  }
  if (timeoutSeconds !== undefined && (!Number.isSafeInteger(timeoutSeconds) || timeoutSeconds < 1)) {
    throw new TypeError(`Expected integer >= 1 for options.timeoutSeconds but received ${String(timeoutSeconds)}`);
  }
}

/** Turns a libvips/sharp failure into the intake's codes. The message goes to `detail` (logs), never to users. */
function decodeError(error: unknown, format: AcceptedFormat, limits: IntakeLimits, compression?: string): HairError {
  const message = error instanceof Error ? error.message : String(error);
  const detail = `intake (${format}): ${message}`;
  if (/exceeds pixel limit/i.test(message)) {
    return new HairError('IMAGE_TOO_LARGE', { limit: formatPixelLimit(limits.maxPixels) }, { cause: error, detail });
  }
  if (/^timeout/i.test(message)) {
    return new HairError('BAD_IMAGE', { format, reason: 'timeout' }, { cause: error, detail });
  }
  if (/unsupported image format/i.test(message)) {
    return new HairError('UNSUPPORTED_FORMAT', { format }, { cause: error, detail });
  }
  // libheif without an HEVC decoder (the prebuilt sharp): a HEIC photo is unsupported here, not damaged.
  if (format === 'heif' && (compression === 'hevc' || /compression format has not been built in|unsupported codec/i.test(message))) {
    return new HairError('UNSUPPORTED_FORMAT', { format: 'heic' }, { cause: error, detail });
  }
  const reason = /truncat|premature end|unexpected end|end of (file|stream|data)|not enough/i.test(message)
    ? 'truncated'
    : 'corrupt';
  return new HairError('BAD_IMAGE', { format, reason }, { cause: error, detail });
}

/**
 * sharp operations that display stored pixels tagged with EXIF orientation 2–8. On raw input sharp mirrors
 * *before* it rotates (tests/pipeline/intake.test.ts checks all eight against a corner-marked card).
 */
const ORIENTATION_OPS: Record<number, { rotate: 0 | 90 | 180 | 270; flop?: true; flip?: true }> = {
  2: { rotate: 0, flop: true },
  3: { rotate: 180 },
  4: { rotate: 0, flip: true },
  5: { rotate: 90, flip: true },
  6: { rotate: 90 },
  7: { rotate: 90, flop: true },
  8: { rotate: 270 },
};

async function orient(
  decoded: { data: Buffer; info: OutputInfo },
  orientation: number | undefined,
  timeoutSeconds: number,
): Promise<{ data: Buffer; info: OutputInfo }> {
  const ops = orientation === undefined ? undefined : ORIENTATION_OPS[orientation];
  if (!ops) return decoded;
  const { width, height } = decoded.info;
  let image = sharp(decoded.data, { raw: { width, height, channels: 3 } }).timeout({ seconds: timeoutSeconds });
  if (ops.rotate) image = image.rotate(ops.rotate);
  if (ops.flop) image = image.flop();
  if (ops.flip) image = image.flip();
  return image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
}

/**
 * How much the working copy shrinks a `width`×`height` image (1 = not at all; `maxLongSide` 0 = never).
 * Up to 2:1 the long side fits `maxLongSide`. A more elongated image (panorama, group shot, screenshot) would
 * leave its faces too small for the detector that way, so it shrinks less: only until its short side is
 * `maxLongSide / 2` (where a 2:1 image's short side ends up), and never beyond `maxLongSide²` pixels (what a
 * square photo keeps), so memory stays bounded as before.
 */
export function workingScale(width: number, height: number, maxLongSide: number): number {
  if (maxLongSide <= 0) return 1;
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  const keepShortSide = Math.min(maxLongSide / (2 * short), maxLongSide / Math.sqrt(width * height));
  return Math.min(1, Math.max(maxLongSide / long, keepShortSide));
}

/**
 * Upload bytes → an upright sRGB 8-bit RGB working copy, within the byte and pixel limits.
 * Pure: reads only its arguments, writes nothing to disk, logs nothing. See intake.contract.ts for the rules.
 */
export async function intake(bytes: Uint8Array, limits: IntakeLimits, options: IntakeOptions = {}): Promise<IntakeImage> {
  checkArguments(bytes, limits, options);
  const maxLongSide = options.maxLongSide ?? INTAKE_DEFAULTS.maxLongSide;
  const timeoutSeconds = options.timeoutSeconds ?? INTAKE_DEFAULTS.timeoutSeconds;

  if (bytes.length === 0) throw new HairError('BAD_IMAGE', { reason: 'empty' }, { detail: 'intake: zero bytes' });
  if (bytes.length > limits.maxBytes) {
    throw new HairError('IMAGE_TOO_LARGE', { limit: formatByteLimit(limits.maxBytes) }, {
      detail: `intake: ${bytes.length} bytes > limit ${limits.maxBytes}`,
    });
  }

  const sniffed = sniffFormat(bytes);
  if (!sniffed.accepted) {
    throw new HairError('UNSUPPORTED_FORMAT', { format: sniffed.format }, {
      detail: `intake: refused ${sniffed.format} (first bytes are not an accepted image signature)`,
    });
  }
  const format = sniffed.format;
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const open = (ignoreIcc = false) =>
    sharp(input, {
      ignoreIcc,
      failOn: 'error',
      limitInputPixels: limits.maxPixels,
      limitInputChannels: 5,
      autoOrient: false,
      pages: 1,
      page: 0,
    });

  // Header only: refuses decompression bombs and too-small images before a pixel is decoded.
  let metadata: Metadata;
  try {
    metadata = await open().metadata();
  } catch (error) {
    throw decodeError(error, format, limits);
  }
  if (metadata.format !== SHARP_FORMAT[format]) {
    throw new HairError('UNSUPPORTED_FORMAT', { format }, {
      detail: `intake: signature says ${format} but the decoder found ${String(metadata.format)}`,
    });
  }
  const { width, height } = metadata.autoOrient;
  if (!(width > 0 && height > 0)) {
    throw new HairError('BAD_IMAGE', { format, reason: 'corrupt' }, { detail: `intake: header size ${width}x${height}` });
  }
  if (width * height > limits.maxPixels) {
    throw new HairError('IMAGE_TOO_LARGE', { limit: formatPixelLimit(limits.maxPixels) }, {
      detail: `intake: ${width}x${height} = ${width * height} pixels > limit ${limits.maxPixels}`,
    });
  }
  if (Math.min(width, height) < limits.minSide) {
    throw new HairError('IMAGE_TOO_SMALL', { minSide: limits.minSide }, {
      detail: `intake: ${width}x${height}, shortest side below ${limits.minSide}`,
    });
  }

  // Decode and shrink in the stored orientation, then orient the small copy. With autoOrient sharp would rotate
  // the full-size image first, and it skips JPEG/WebP shrink-on-load whenever it orients before resizing.
  // (sharp shrinks a JPEG on load only from a factor of 3 up, e.g. 8000 px → 2048 loads at 1/2 then resamples.)
  // An embedded sRGB profile is skipped (identity transform, ~50 ms on 12 MP); any other profile is honoured.
  let pipeline = open(metadata.space === 'srgb' && isSrgbProfile(metadata.icc)).timeout({ seconds: timeoutSeconds });
  const shrink = workingScale(width, height, maxLongSide);
  if (shrink < 1) {
    // A square box fits the long side whichever way the stored pixels are turned.
    const box = Math.max(1, Math.round(Math.max(width, height) * shrink));
    pipeline = pipeline.resize({ width: box, height: box, fit: 'inside', withoutEnlargement: true });
  }
  pipeline = pipeline
    .flatten({ background: INTAKE_DEFAULTS.background })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' });

  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.toBuffer({ resolveWithObject: true });
    out = await orient(out, metadata.orientation, timeoutSeconds);
  } catch (error) {
    throw decodeError(error, format, limits, metadata.compression);
  }
  const { data, info } = out;
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new HairError('INTERNAL', {}, {
      detail: `intake (${format}): expected 3-channel 8-bit output, got ${info.channels} channels, ${data.length} bytes for ${info.width}x${info.height}`,
    });
  }
  return {
    image: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height },
    format,
    original: { width, height },
    scale: info.width / width,
  };
}
