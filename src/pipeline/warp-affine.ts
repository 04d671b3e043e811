import type { RgbImage } from './engine.js';
import type { Mat3 } from './geometry.js';

/**
 * How samples outside the source are filled. `reflect` mirrors the image at its edges (like FFHQ's reflection
 * padding, without FFHQ's extra blur of the padded band); `replicate` repeats the edge pixel; `constant` uses `fill`.
 */
export type BorderMode = 'constant' | 'replicate' | 'reflect';

export interface WarpOptions {
  width: number;
  height: number;
  /** Maps an output point to the source point it shows (continuous pixel coordinates). Affine: row 3 is 0 0 1. */
  inverse: Mat3;
  /** @defaultValue 'replicate' */
  border?: BorderMode;
  /** RGB for `constant`. @defaultValue [0, 0, 0] */
  fill?: readonly [number, number, number];
  /**
   * Antialiasing when shrinking: each output pixel averages up to `maxTaps`² bilinear samples spread over its
   * footprint in the source (about one per source pixel). 1 = plain bilinear. @defaultValue 4
   */
  maxTaps?: number;
}

function borderIndex(mode: BorderMode, i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'replicate') return i < 0 ? 0 : n - 1;
  if (mode === 'reflect') {
    if (n === 1) return 0;
    const period = 2 * n;
    let k = ((i % period) + period) % period;
    if (k >= n) k = period - 1 - k;
    return k;
  }
  return -1;
}

/** One resample of `image` through an affine map, bilinear with box-averaged taps when shrinking. */
export function warpAffine(image: RgbImage, options: WarpOptions): RgbImage {
  const { width: ow, height: oh, inverse: m } = options;
  if (m[6] !== 0 || m[7] !== 0 || m[8] !== 1) throw new RangeError('warpAffine needs an affine matrix (last row 0 0 1)');
  const border = options.border ?? 'replicate';
  const [fr, fg, fb] = options.fill ?? [0, 0, 0];
  const maxTaps = Math.max(1, Math.floor(options.maxTaps ?? 4));
  const { data: src, width: w, height: h } = image;
  const out = new Uint8Array(ow * oh * 3);
  const [a, b, c, d, e, f] = m;
  const tapsX = Math.min(maxTaps, Math.max(1, Math.round(Math.hypot(a, d))));
  const tapsY = Math.min(maxTaps, Math.max(1, Math.round(Math.hypot(b, e))));
  const taps = tapsX * tapsY;
  // Tap offsets in output pixels, relative to the pixel centre.
  const offX: number[] = [];
  const offY: number[] = [];
  for (let j = 0; j < tapsY; j++) {
    for (let i = 0; i < tapsX; i++) {
      offX.push((i + 0.5) / tapsX - 0.5);
      offY.push((j + 0.5) / tapsY - 0.5);
    }
  }
  const inv = 1 / taps;
  let o = 0;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let t = 0; t < taps; t++) {
        const px = ox + 0.5 + offX[t]!;
        const py = oy + 0.5 + offY[t]!;
        // Source position in pixel-centre coordinates.
        const sx = a * px + b * py + c - 0.5;
        const sy = d * px + e * py + f - 0.5;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const tx = sx - x0;
        const ty = sy - y0;
        const w00 = (1 - tx) * (1 - ty);
        const w10 = tx * (1 - ty);
        const w01 = (1 - tx) * ty;
        const w11 = tx * ty;
        if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
          const i00 = (y0 * w + x0) * 3;
          const i01 = i00 + w * 3;
          r += w00 * src[i00]! + w10 * src[i00 + 3]! + w01 * src[i01]! + w11 * src[i01 + 3]!;
          g += w00 * src[i00 + 1]! + w10 * src[i00 + 4]! + w01 * src[i01 + 1]! + w11 * src[i01 + 4]!;
          bl += w00 * src[i00 + 2]! + w10 * src[i00 + 5]! + w01 * src[i01 + 2]! + w11 * src[i01 + 5]!;
          continue;
        }
        const xs = [borderIndex(border, x0, w), borderIndex(border, x0 + 1, w)];
        const ys = [borderIndex(border, y0, h), borderIndex(border, y0 + 1, h)];
        const ws = [w00, w10, w01, w11];
        for (let k = 0; k < 4; k++) {
          const xi = xs[k & 1]!;
          const yi = ys[k >> 1]!;
          const wk = ws[k]!;
          if (xi < 0 || yi < 0) {
            r += wk * fr;
            g += wk * fg;
            bl += wk * fb;
          } else {
            const i = (yi * w + xi) * 3;
            r += wk * src[i]!;
            g += wk * src[i + 1]!;
            bl += wk * src[i + 2]!;
          }
        }
      }
      out[o++] = r * inv + 0.5;
      out[o++] = g * inv + 0.5;
      out[o++] = bl * inv + 0.5;
    }
  }
  return { data: out, width: ow, height: oh };
}

/** Packed RGB bytes → NHWC float32 with pixel 0 → range[0] and 255 → range[1]. */
export function toNhwcFloat(image: RgbImage, range: readonly [number, number]): Float32Array {
  const k = (range[1] - range[0]) / 255;
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = image.data[i]! * k + range[0];
  return out;
}
