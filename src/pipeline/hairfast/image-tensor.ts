import { HairError } from '../../shared/errors.js';
import type { RgbImage } from '../engine.js';
import type { OrtTensor } from '../runtime/ort.js';

/**
 * The contract's image convention (`image01`: NCHW float32 in [0,1]) ↔ packed 8-bit RGB. This repacking is the
 * only per-pixel work TypeScript does around the graphs.
 */
export function toImage01(image: RgbImage): Float32Array {
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0, i = 0; p < plane; p++, i += 3) {
    out[p] = data[i]! / 255;
    out[plane + p] = data[i + 1]! / 255;
    out[2 * plane + p] = data[i + 2]! / 255;
  }
  return out;
}

export function fromImage01(tensor: OrtTensor): RgbImage {
  const [n, c, height, width] = tensor.dims as number[];
  if (n !== 1 || c !== 3 || !height || !width || tensor.type !== 'float32') {
    throw new HairError('MODEL_INVALID', { file: 'g_f64_to_img' }, { detail: `expected a [1,3,H,W] float32 image but the graph returned ${tensor.type}[${tensor.dims.join(',')}]` });
  }
  const src = tensor.data as Float32Array;
  const plane = width * height;
  const data = new Uint8Array(3 * plane);
  for (let p = 0, i = 0; p < plane; p++, i += 3) {
    for (let k = 0; k < 3; k++) {
      const v = src[k * plane + p]!;
      data[i + k] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
  }
  return { data, width, height };
}
