import type { RgbImage } from './engine.js';
import { apply, type Mat3 } from './geometry.js';

/**
 * Puts the 1024² HairFastGAN result back into the original photo. Every photo pixel inside the aligned square is
 * mapped into aligned space (`transform`, the front-end's photo → aligned matrix), the result and its alpha are
 * sampled bilinearly there, and the two are mixed. The alpha is the hair+face mask from the graphs (already
 * feathered); it is also faded over the last `edgeFeather` of the square, so its border never shows. The output
 * has the photo's size; pixels outside the square are the photo's own.
 */
export interface PasteBackInput {
  photo: RgbImage;
  result: RgbImage;
  /** One byte per pixel over the aligned square, any resolution (sampled bilinearly); absent = the whole square. */
  alpha?: { data: Uint8Array; width: number; height: number };
  /** Photo pixels → aligned pixels, for an aligned image of `alignedSize`². */
  transform: Mat3;
  /** Aligned pixels → photo pixels. */
  inverse: Mat3;
  /** The size the front-end aligned to (ALIGN_OUTPUT_SIZE); the result may be larger (1024). */
  alignedSize: number;
  /** Fraction of the square's side over which the alpha fades to 0 at its border. @defaultValue 0.04 */
  edgeFeather?: number;
}

export function pasteBack(input: PasteBackInput): RgbImage {
  const { photo, result, alpha } = input;
  const out = new Uint8Array(photo.data);
  const rw = result.width;
  const rh = result.height;
  const rd = result.data;
  const feather = Math.max(1, (input.edgeFeather ?? 0.04) * rw);
  const corners = [[0, 0], [input.alignedSize, 0], [0, input.alignedSize], [input.alignedSize, input.alignedSize]]
    .map(([x, y]) => apply(input.inverse, { x: x!, y: y! }));
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x))));
  const x1 = Math.min(photo.width, Math.ceil(Math.max(...corners.map((p) => p.x))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y))));
  const y1 = Math.min(photo.height, Math.ceil(Math.max(...corners.map((p) => p.y))));
  // Photo pixel centre → result pixel coordinates (continuous; centre of result pixel i is i + 0.5).
  const m = input.transform;
  if (m[6] !== 0 || m[7] !== 0) throw new RangeError('Expected an affine transform (last row 0 0 1) for paste-back');
  const k = rw / input.alignedSize;
  const ax = (m[0] / m[8]) * k, bx = (m[1] / m[8]) * k, cx = (m[2] / m[8]) * k;
  const ay = (m[3] / m[8]) * k, by = (m[4] / m[8]) * k, cy = (m[5] / m[8]) * k;
  const aw = alpha?.width ?? 1;
  const ah = alpha?.height ?? 1;
  const ad = alpha?.data;
  const sa = aw / rw;
  for (let y = y0; y < y1; y++) {
    const py = y + 0.5;
    for (let x = x0; x < x1; x++) {
      const px = x + 0.5;
      const qx = ax * px + bx * py + cx;
      const qy = ay * px + by * py + cy;
      if (qx < 0 || qy < 0 || qx >= rw || qy >= rh) continue;
      let a = Math.min(1, Math.min(qx, qy, rw - qx, rh - qy) / feather);
      if (ad) {
        const fx = Math.min(Math.max(qx * sa - 0.5, 0), aw - 1);
        const fy = Math.min(Math.max(qy * sa - 0.5, 0), ah - 1);
        const ix = fx | 0, iy = fy | 0;
        const jx = ix + 1 < aw ? ix + 1 : ix, jy = iy + 1 < ah ? iy + 1 : iy;
        const tx = fx - ix, ty = fy - iy;
        const top = ad[iy * aw + ix]! * (1 - tx) + ad[iy * aw + jx]! * tx;
        const bottom = ad[jy * aw + ix]! * (1 - tx) + ad[jy * aw + jx]! * tx;
        a *= (top * (1 - ty) + bottom * ty) / 255;
      }
      if (a <= 0) continue;
      const fx = Math.min(Math.max(qx - 0.5, 0), rw - 1);
      const fy = Math.min(Math.max(qy - 0.5, 0), rh - 1);
      const ix = fx | 0, iy = fy | 0;
      const jx = ix + 1 < rw ? ix + 1 : ix, jy = iy + 1 < rh ? iy + 1 : iy;
      const tx = fx - ix, ty = fy - iy;
      const w00 = (1 - tx) * (1 - ty), w01 = tx * (1 - ty), w10 = (1 - tx) * ty, w11 = tx * ty;
      const p00 = (iy * rw + ix) * 3, p01 = (iy * rw + jx) * 3, p10 = (jy * rw + ix) * 3, p11 = (jy * rw + jx) * 3;
      const i = (y * photo.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const r = rd[p00 + c]! * w00 + rd[p01 + c]! * w01 + rd[p10 + c]! * w10 + rd[p11 + c]! * w11;
        out[i + c] = Math.round(out[i + c]! * (1 - a) + r * a);
      }
    }
  }
  return { data: out, width: photo.width, height: photo.height };
}
