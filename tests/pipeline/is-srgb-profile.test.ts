import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSrgbProfile } from '../../src/pipeline/is-srgb-profile.js';
import { loadAstronaut } from '../helpers/images.js';

let astronaut: Buffer;
beforeAll(async () => {
  astronaut = await loadAstronaut();
});

const profileOf = async (bytes: Buffer) => (await sharp(bytes).metadata()).icc;

describe('isSrgbProfile', () => {
  it('recognises the sRGB profile sharp embeds', async () => {
    expect(isSrgbProfile(await profileOf(await sharp(astronaut).jpeg().withIccProfile('srgb').toBuffer()))).toBe(true);
  });

  it('does not mistake Display P3 or CMYK for sRGB', async () => {
    expect(isSrgbProfile(await profileOf(await sharp(astronaut).jpeg().withIccProfile('p3').toBuffer()))).toBe(false);
    const cmyk = await sharp(astronaut).toColourspace('cmyk').jpeg().withIccProfile('cmyk').toBuffer();
    expect(isSrgbProfile(await profileOf(cmyk))).toBe(false);
  });

  it('treats missing, short or malformed data as not sRGB', () => {
    expect(isSrgbProfile(undefined)).toBe(false);
    expect(isSrgbProfile(new Uint8Array(10))).toBe(false);
    const bogus = new Uint8Array(200);
    bogus.set([0x52, 0x47, 0x42, 0x20], 16); // 'RGB '
    new DataView(bogus.buffer).setUint32(128, 0xffffffff);
    expect(isSrgbProfile(bogus)).toBe(false);
  });
});
