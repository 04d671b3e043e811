import type { RgbImage } from './engine.js';
import { add, fromBasis, invert, length, mean, mul, sub, type Mat3, type Point } from './geometry.js';
import { warpAffine, type BorderMode } from './warp-affine.js';

/**
 * FFHQ alignment (`recreate_aligned_images` in the FFHQ dataset script), as pure geometry: the oriented square
 * ("quad") it crops from the eyes and mouth corners, and the affine maps between the photo and the aligned image.
 *
 * Edge handling: FFHQ pads the photo with reflection and blurs the padded band; here samples outside the photo
 * are reflected at its edges (`border: 'reflect'`) with no blur. FFHQ's intermediate shrink and crop only serve
 * speed and quality of its PIL resample; the geometry is the quad alone, which is what this computes.
 */

export interface FfhqLandmarks {
  /** Eye centres: the one on the image's left (the subject's right eye), then the image's right. */
  eyes: readonly [Point, Point];
  /** Mouth corners, image left then image right (mesh points 61, 291). */
  mouth: readonly [Point, Point];
}

export interface FfhqQuad {
  /** Centre of the quad: eye_avg + 0.1 · eye_to_mouth. */
  c: Point;
  /** Half-side vectors: x along the eye line, y = rot90(x) towards the mouth. */
  x: Point;
  y: Point;
  /** Corners: top-left, bottom-left, bottom-right, top-right (PIL QUAD order). */
  corners: [Point, Point, Point, Point];
}

export interface FfhqAlignment {
  quad: FfhqQuad;
  size: number;
  /** Photo pixels → aligned pixels. */
  transform: Mat3;
  /** Aligned pixels → photo pixels (to paste a result back). */
  inverse: Mat3;
}

/** rot90 as in FFHQ (`np.flipud(v) * [-1, 1]`): (x, y) → (−y, x). */
const rot90 = (v: Point): Point => ({ x: -v.y, y: v.x });

export function ffhqQuad(landmarks: FfhqLandmarks): FfhqQuad {
  const [eyeLeft, eyeRight] = landmarks.eyes;
  const eyeAvg = mean([eyeLeft, eyeRight]);
  const eyeToEye = sub(eyeRight, eyeLeft);
  const mouthAvg = mean([landmarks.mouth[0], landmarks.mouth[1]]);
  const eyeToMouth = sub(mouthAvg, eyeAvg);
  let x = sub(eyeToEye, rot90(eyeToMouth));
  x = mul(x, 1 / length(x));
  x = mul(x, Math.max(length(eyeToEye) * 2.0, length(eyeToMouth) * 1.8));
  const y = rot90(x);
  const c = add(eyeAvg, mul(eyeToMouth, 0.1));
  const corners: FfhqQuad['corners'] = [sub(sub(c, x), y), add(sub(c, x), y), add(add(c, x), y), sub(add(c, x), y)];
  return { c, x, y, corners };
}

/** The quad and both transforms for an output of `size`×`size`. */
export function ffhqAlignment(landmarks: FfhqLandmarks, size: number): FfhqAlignment {
  const quad = ffhqQuad(landmarks);
  // Output (0, 0) is the quad's top-left corner, (size, size) its bottom-right: p = tl + u·2x/size + v·2y/size.
  const inverse = fromBasis(quad.corners[0], mul(quad.x, 2 / size), mul(quad.y, 2 / size));
  return { quad, size, transform: invert(inverse), inverse };
}

export interface AlignFfhqOptions {
  /** ALIGN_OUTPUT_SIZE. @defaultValue 1024 */
  size?: number;
  /** @defaultValue 'reflect' */
  border?: BorderMode;
}

/** Resamples the photo once into the FFHQ-aligned square. */
export function alignFfhq(image: RgbImage, landmarks: FfhqLandmarks, options: AlignFfhqOptions = {}): FfhqAlignment & { aligned: RgbImage } {
  const size = options.size ?? 1024;
  const alignment = ffhqAlignment(landmarks, size);
  const aligned = warpAffine(image, { width: size, height: size, inverse: alignment.inverse, border: options.border ?? 'reflect', maxTaps: 4 });
  return { ...alignment, aligned };
}
