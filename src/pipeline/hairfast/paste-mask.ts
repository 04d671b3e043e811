import type { OrtTensor } from '../runtime/ort.js';

/**
 * The paste-back alpha from parsing labels (CelebA-style, 19 classes): the face's head (skin … ears, hair, hat:
 * labels 1–15; not neck, cloth or background) united with the new hair (label 13 of the target mask), then
 * feathered by two box blurs. The result is a low-resolution alpha (the labels' size); paste-back samples it
 * bilinearly.
 */
const HEAD_MAX_LABEL = 15;
const HAIR = 13n;

export interface AlphaMap {
  data: Uint8Array;
  width: number;
  height: number;
}

function boxBlur(src: Float32Array, width: number, height: number, radius: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const norm = 1 / (2 * radius + 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += src[y * width + Math.min(width - 1, Math.max(0, x + k))]!;
      tmp[y * width + x] = s * norm;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += tmp[Math.min(height - 1, Math.max(0, y + k)) * width + x]!;
      out[y * width + x] = s * norm;
    }
  }
  return out;
}

export function pasteMask(faceMask: OrtTensor, targetMask: OrtTensor, feather = 3): AlphaMap {
  const [, , height = 0, width = 0] = faceMask.dims as number[];
  const face = faceMask.data as BigInt64Array;
  const target = targetMask.data as BigInt64Array;
  let m: Float32Array = new Float32Array(width * height);
  for (let i = 0; i < m.length; i++) {
    const label = face[i]!;
    m[i] = (label >= 1n && label <= BigInt(HEAD_MAX_LABEL)) || target[i] === HAIR ? 1 : 0;
  }
  // Grow slightly, then soften: the seam falls just outside the parsed region.
  m = boxBlur(m, width, height, feather);
  for (let i = 0; i < m.length; i++) m[i] = m[i]! > 0.05 ? 1 : 0;
  m = boxBlur(boxBlur(m, width, height, feather), width, height, feather);
  const data = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) data[i] = Math.round(m[i]! * 255);
  return { data, width, height };
}
