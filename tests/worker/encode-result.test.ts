import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeResult } from '../../src/worker/encode-result.js';

/** Noise compresses badly, so it shows the quality and size ladder at work. */
function noise(width: number, height: number) {
  const data = new Uint8Array(width * height * 3);
  let seed = 7;
  for (let i = 0; i < data.length; i += 1) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    data[i] = seed >> 23;
  }
  return { data, width, height };
}

describe('encodeResult', () => {
  it('keeps full size when it fits, and shrinks quality then size to fit the limit', async () => {
    const image = noise(640, 640);
    const roomy = await encodeResult(image, 8 * 1024 * 1024);
    expect(roomy).toMatchObject({ format: 'jpeg', width: 640, height: 640 });
    const tight = await encodeResult(image, 100 * 1024);
    expect(tight.data.length).toBeLessThanOrEqual(100 * 1024);
    expect(tight.width).toBeLessThan(640);
    const meta = await sharp(tight.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', tight.width, tight.height]);
  });

  it('encodes WebP and PNG too, and refuses a limit no size can meet', async () => {
    const image = noise(300, 300);
    expect((await sharp((await encodeResult(image, 1024 * 1024, 'webp')).data).metadata()).format).toBe('webp');
    expect((await sharp((await encodeResult(image, 1024 * 1024, 'png')).data).metadata()).format).toBe('png');
    await expect(encodeResult(image, 1_000)).rejects.toThrow(RangeError);
  });
});
