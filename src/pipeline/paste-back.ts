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
  /** result.width × result.height, one byte per pixel; absent = the whole square. */
  alpha?: Uint8Array;
  /** Photo pixels → aligned pixels, for an aligned image of `alignedSize`². */
  transform: Mat3;
  /** Aligned pixels → photo pixels. */
  inverse: Mat3;
  /** The size the front-end aligned to (ALIGN_OUTPUT_SIZE); the result may be larger (1024). */
  alignedSize: number;
  /** Fraction of the square's side over which the alpha fades to 0 at its border. @defaultValue 0.04 */
  edgeFeather?: number;
}

function bilinear(data: Uint8Array, width: number, height: number, channels: number, x: number, y: number, c: number): number {
  // Continuous coordinates: pixel i's centre is i + 0.5.
  const fx = Math.min(Math.max(x - 0.5, 0), width - 1);
  const fy = Math.min(Math.max(y - 0.5, 0), height - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const ax = fx - x0;
  const ay = fy - y0;
  const p = (xx: number, yy: number) => data[(yy * width + xx) * channels + c]!;
  return (p(x0, y0) * (1 - ax) + p(x1, y0) * ax) * (1 - ay) + (p(x0, y1) * (1 - ax) + p(x1, y1) * ax) * ay;
}

export function pasteBack(input: PasteBackInput): RgbImage {
  const { photo, result, alpha } = input;
  const out = new Uint8Array(photo.data);
  const rw = result.width;
  const rh = result.height;
  const sx = rw / input.alignedSize;
  const sy = rh / input.alignedSize;
  const feather = Math.max(1, (input.edgeFeather ?? 0.04) * rw);
  const corners = [[0, 0], [input.alignedSize, 0], [0, input.alignedSize], [input.alignedSize, input.alignedSize]]
    .map(([x, y]) => apply(input.inverse, { x: x!, y: y! }));
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x))));
  const x1 = Math.min(photo.width, Math.ceil(Math.max(...corners.map((p) => p.x))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y))));
  const y1 = Math.min(photo.height, Math.ceil(Math.max(...corners.map((p) => p.y))));
  const m = input.transform;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const w = m[6] * px + m[7] * py + m[8];
      const qx = ((m[0] * px + m[1] * py + m[2]) / w) * sx;
      const qy = ((m[3] * px + m[4] * py + m[5]) / w) * sy;
      if (qx < 0 || qy < 0 || qx >= rw || qy >= rh) continue;
      const edge = Math.min(1, Math.min(qx, qy, rw - qx, rh - qy) / feather);
      const a = edge * (alpha ? bilinear(alpha, rw, rh, 1, qx, qy, 0) / 255 : 1);
      if (a <= 0) continue;
      const i = (y * photo.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const r = bilinear(result.data, rw, rh, 3, qx, qy, c);
        out[i + c] = Math.round(out[i + c]! * (1 - a) + r * a);
      }
    }
  }
  return { data: out, width: photo.width, height: photo.height };
}
