import { describe, expect, it } from 'vitest';
import { alignFfhq, ffhqAlignment, ffhqQuad, type FfhqLandmarks } from '../../src/pipeline/align-ffhq.js';
import { apply, invert, multiply, rotate, translate, IDENTITY, type Mat3, type Point } from '../../src/pipeline/geometry.js';
import { warpAffine } from '../../src/pipeline/warp-affine.js';
import type { RgbImage } from '../../src/pipeline/engine.js';

const square: FfhqLandmarks = { eyes: [{ x: 100, y: 100 }, { x: 200, y: 100 }], mouth: [{ x: 110, y: 200 }, { x: 190, y: 200 }] };

function close(p: Point, q: Point, tolerance: number) {
  expect(Math.hypot(p.x - q.x, p.y - q.y)).toBeLessThanOrEqual(tolerance);
}

function expectIdentity(m: Mat3, tolerance = 1e-9) {
  m.forEach((v, i) => expect(v).toBeCloseTo(IDENTITY[i]!, -Math.log10(tolerance)));
}

function mapLandmarks(l: FfhqLandmarks, m: Mat3): FfhqLandmarks {
  return { eyes: [apply(m, l.eyes[0]), apply(m, l.eyes[1])], mouth: [apply(m, l.mouth[0]), apply(m, l.mouth[1])] };
}

function grayImage(width: number, height: number, value = 64): RgbImage {
  return { data: new Uint8Array(width * height * 3).fill(value), width, height };
}

describe('FFHQ quad', () => {
  it('follows recreate_aligned_images on hand-computed values', () => {
    // eye_avg (150, 100), eye_to_eye (100, 0), eye_to_mouth (0, 100): x = (100,0) − rot90((0,100)) = (200, 0),
    // scaled to max(100·2, 100·1.8) = 200; y = (0, 200); c = (150, 110).
    const q = ffhqQuad(square);
    close(q.c, { x: 150, y: 110 }, 1e-9);
    close(q.x, { x: 200, y: 0 }, 1e-9);
    close(q.y, { x: 0, y: 200 }, 1e-9);
    close(q.corners[0], { x: -50, y: -90 }, 1e-9);
    close(q.corners[1], { x: -50, y: 310 }, 1e-9);
    close(q.corners[2], { x: 350, y: 310 }, 1e-9);
    close(q.corners[3], { x: 350, y: -90 }, 1e-9);
  });

  it('puts the eyes and mouth where the quad says in a 1024 output (scale 1024/400)', () => {
    const { transform } = ffhqAlignment(square, 1024);
    close(apply(transform, square.eyes[0]), { x: 150 * 2.56, y: 190 * 2.56 }, 1e-9);
    close(apply(transform, square.eyes[1]), { x: 250 * 2.56, y: 190 * 2.56 }, 1e-9);
    close(apply(transform, { x: 150, y: 200 }), { x: 512, y: 290 * 2.56 }, 1e-9);
    close(apply(transform, { x: 150, y: 110 }), { x: 512, y: 512 }, 1e-9);
  });

  it('uses |eye_to_mouth|·1.8 when the face is long', () => {
    const long: FfhqLandmarks = { eyes: [{ x: 100, y: 100 }, { x: 140, y: 100 }], mouth: [{ x: 110, y: 200 }, { x: 130, y: 200 }] };
    const q = ffhqQuad(long);
    expect(Math.hypot(q.x.x, q.x.y)).toBeCloseTo(180, 9);
  });

  it('forward ∘ inverse is the identity, and the transform is a similarity', () => {
    const { transform, inverse } = ffhqAlignment(square, 1024);
    expectIdentity(multiply(transform, inverse));
    expectIdentity(multiply(inverse, transform));
    expect(transform[0]).toBeCloseTo(transform[4], 12);
    expect(transform[1]).toBeCloseTo(-transform[3], 12);
  });

  it('is invariant to rotating, scaling and moving the photo', () => {
    const base = ffhqAlignment(square, 1024);
    const moved: Mat3 = multiply(translate(1234, -77), multiply(rotate((25 * Math.PI) / 180), [3, 0, 0, 0, 3, 0, 0, 0, 1]));
    const other = ffhqAlignment(mapLandmarks(square, moved), 1024);
    for (const p of [...square.eyes, ...square.mouth]) close(apply(other.transform, apply(moved, p)), apply(base.transform, p), 1e-6);
  });
});

describe('resample', () => {
  it.each([512, 96])('a marker lands where the transform says (output %i², enlarging and shrinking)', (size) => {
    const image = grayImage(400, 300);
    const marker = { x: 173.5, y: 121.5 }; // the centre of pixel (173, 121)
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) image.data.fill(255, ((121 + dy) * 400 + 173 + dx) * 3, ((121 + dy) * 400 + 174 + dx) * 3);
    }
    const landmarks = mapLandmarks(square, multiply(translate(40, 20), rotate(0.3)));
    const { aligned, transform } = alignFfhq(image, landmarks, { size });
    const expected = apply(transform, marker);
    // Centroid of the bright pixels in the output.
    let sx = 0;
    let sy = 0;
    let n = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = aligned.data[(y * size + x) * 3]! - 64;
        if (v > 4) {
          sx += (x + 0.5) * v;
          sy += (y + 0.5) * v;
          n += v;
        }
      }
    }
    expect(n).toBeGreaterThan(0);
    close({ x: sx / n, y: sy / n }, expected, 0.25);
  });

  it('warpAffine with the identity returns the image unchanged', () => {
    const image = grayImage(7, 5);
    for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 37) % 256;
    const out = warpAffine(image, { width: 7, height: 5, inverse: IDENTITY });
    expect(Buffer.from(out.data).equals(Buffer.from(image.data))).toBe(true);
  });

  it('edges: reflect mirrors, constant fills, replicate repeats', () => {
    const image = grayImage(4, 1, 0);
    image.data.set([10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]);
    // Output pixel i shows source pixel i − 2 (shift right by 2).
    const shift = invert(translate(2, 0));
    const row = (border: 'reflect' | 'constant' | 'replicate') =>
      Array.from(warpAffine(image, { width: 4, height: 1, inverse: shift, border, fill: [99, 99, 99] }).data.filter((_, i) => i % 3 === 0));
    expect(row('reflect')).toEqual([20, 10, 10, 20]);
    expect(row('replicate')).toEqual([10, 10, 10, 20]);
    expect(row('constant')).toEqual([99, 99, 10, 20]);
  });

  it('shrinking averages instead of skipping pixels', () => {
    // 1-px black/white stripes shrunk 4× must come out mid-gray, not black or white.
    const image = grayImage(64, 64, 0);
    for (let y = 0; y < 64; y++) for (let x = 1; x < 64; x += 2) image.data.fill(255, (y * 64 + x) * 3, (y * 64 + x + 1) * 3);
    const out = warpAffine(image, { width: 16, height: 16, inverse: [4, 0, 0.3, 0, 4, 0, 0, 0, 1] });
    for (const v of out.data) expect(Math.abs(v - 128)).toBeLessThan(40);
  });
});
