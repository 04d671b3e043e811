import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/pipeline/engine.js';
import { apply, invert, multiply, rotate, scale, translate, type Mat3 } from '../../src/pipeline/geometry.js';
import { pasteBack } from '../../src/pipeline/paste-back.js';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height };
}

function at(img: RgbImage, x: number, y: number): number[] {
  const i = (Math.floor(y) * img.width + Math.floor(x)) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

describe('pasteBack', () => {
  // Aligned (1024²) → photo: rotate 20°, scale to 0.3, move into a 900×700 photo.
  const inverse: Mat3 = multiply(translate(420, 300), multiply(rotate((20 * Math.PI) / 180), multiply(scale(0.3), translate(-512, -512))));
  const transform = invert(inverse);

  it('puts a marker drawn in aligned space where the inverse transform says, at the photo\'s size', () => {
    const photo = solid(900, 700, [10, 20, 30]);
    const result = solid(1024, 1024, [200, 200, 200]);
    // A red 24×24 marker centred on (700, 300) in aligned space.
    for (let y = 288; y < 312; y++) for (let x = 688; x < 712; x++) result.data.set([255, 0, 0], (y * 1024 + x) * 3);
    const out = pasteBack({ photo, result, transform, inverse, alignedSize: 1024 });
    expect([out.width, out.height]).toEqual([900, 700]);
    const p = apply(inverse, { x: 700, y: 300 });
    expect(at(out, p.x, p.y)).toEqual([255, 0, 0]);
    // The square's centre shows the result; far outside the square the photo is untouched.
    const c = apply(inverse, { x: 512, y: 512 });
    expect(at(out, c.x, c.y)).toEqual([200, 200, 200]);
    expect(at(out, 5, 5)).toEqual([10, 20, 30]);
    expect(at(out, 890, 690)).toEqual([10, 20, 30]);
  });

  it('keeps the photo where the alpha is 0, mixes where it is partial, and fades at the square\'s border', () => {
    const photo = solid(900, 700, [0, 0, 0]);
    const result = solid(1024, 1024, [200, 100, 50]);
    // Alpha at a lower resolution (256²): left half 0, right half 128.
    const alpha = { data: new Uint8Array(256 * 256), width: 256, height: 256 };
    for (let y = 0; y < 256; y++) for (let x = 128; x < 256; x++) alpha.data[y * 256 + x] = 128;
    const out = pasteBack({ photo, result, alpha, transform, inverse, alignedSize: 1024 });
    const left = apply(inverse, { x: 300, y: 512 });
    const right = apply(inverse, { x: 800, y: 512 });
    expect(at(out, left.x, left.y)).toEqual([0, 0, 0]);
    const mixed = at(out, right.x, right.y);
    expect(mixed[0]).toBeGreaterThan(95);
    expect(mixed[0]).toBeLessThan(106);
    const border = apply(inverse, { x: 1020, y: 512 });
    expect(at(out, border.x, border.y)[0]).toBeLessThan(mixed[0]! / 2);
  });

  it('handles an aligned size other than the result\'s (ALIGN_OUTPUT_SIZE 512, result 1024)', () => {
    const inv512: Mat3 = multiply(inverse, scale(2));
    const photo = solid(900, 700, [0, 0, 0]);
    const result = solid(1024, 1024, [0, 0, 0]);
    for (let y = 500; y < 524; y++) for (let x = 200; x < 224; x++) result.data.set([0, 255, 0], (y * 1024 + x) * 3);
    const out = pasteBack({ photo, result, transform: invert(inv512), inverse: inv512, alignedSize: 512 });
    const p = apply(inv512, { x: 106, y: 256 });
    expect(at(out, p.x, p.y)).toEqual([0, 255, 0]);
  });
});
