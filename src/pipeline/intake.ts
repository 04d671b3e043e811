import sharp, { type Metadata } from 'sharp';
import type { PipelineConfig } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import type { RgbImage } from './engine.js';

/**
 * PROVISIONAL (hairfast branch): a minimal intake so the engine runs end to end before the intake helper's
 * module lands; it is replaced by that file unchanged. Bytes → upright sRGB 8-bit RGB within the limits.
 */
export interface IntakeLimits {
  maxBytes: number;
  maxPixels: number;
  minSide: number;
}

export function intakeLimits(config: Pick<PipelineConfig, 'MAX_IMAGE_BYTES' | 'MAX_IMAGE_PIXELS' | 'MIN_IMAGE_SIDE'>): IntakeLimits {
  return { maxBytes: config.MAX_IMAGE_BYTES, maxPixels: config.MAX_IMAGE_PIXELS, minSide: config.MIN_IMAGE_SIDE };
}

const FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'avif', 'heif']);

export async function intake(bytes: Uint8Array, limits: IntakeLimits): Promise<RgbImage> {
  if (bytes.byteLength === 0) throw new HairError('BAD_IMAGE', { bytes: 0 });
  if (bytes.byteLength > limits.maxBytes) throw new HairError('IMAGE_TOO_LARGE', { bytes: bytes.byteLength, max: limits.maxBytes });
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new HairError('UNSUPPORTED_FORMAT', {}, { cause });
  }
  if (!meta.format || !FORMATS.has(meta.format)) throw new HairError('UNSUPPORTED_FORMAT', { format: meta.format ?? 'unknown' });
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > limits.maxPixels) throw new HairError('IMAGE_TOO_LARGE', { pixels, max: limits.maxPixels });
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error', pages: 1 })
      .rotate().toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (Math.min(info.width, info.height) < limits.minSide) {
      throw new HairError('IMAGE_TOO_SMALL', { width: info.width, height: info.height, min: limits.minSide });
    }
    if (info.channels !== 3) throw new HairError('BAD_IMAGE', { channels: info.channels });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (error) {
    if (error instanceof HairError) throw error;
    throw new HairError('BAD_IMAGE', {}, { cause: error });
  }
}
