import sharp from 'sharp';
import type { RgbImage } from '../pipeline/engine.js';
import type { PipelineConfig } from '../shared/config.js';
import { HairError } from '../shared/errors.js';

/**
 * Bytes → upright RGB for `hairstyler align`. Stand-in until src/pipeline/intake.ts (branch intake) is merged;
 * then this becomes a call to intake with the same limits.
 */
export async function decodeForAlign(bytes: Uint8Array, config: Pick<PipelineConfig, 'MAX_IMAGE_PIXELS'>): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: config.MAX_IMAGE_PIXELS })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (cause) {
    throw new HairError('BAD_IMAGE', {}, { cause, detail: `cannot decode the image: ${cause instanceof Error ? cause.message : String(cause)}` });
  }
}
