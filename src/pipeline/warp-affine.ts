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
  if (Math.abs(m[6]) > 1e-12 || Math.abs(m[7]) > 1e-12 || Math.abs(m[8] - 1) > 1e-12) throw new RangeError('warpAffine needs an affine matrix (last row 0 0 1)');
  const border = options.border ?? 'replicate';
  const [fr, fg, fb] = options.fill ?? [0, 0, 0];
  const maxTaps = Math.max(1, Math.floor(options.maxTaps ?? 4));
  const { data: src, width: w, height: h } = image;
  const out = new Uint8Array(ow * oh * 3);
  const [a, b, c, d, e, f] = m;
  const tapsX = Math.min(maxTaps, Math.max(1, Math.round(Math.hypot(a, d))));
  const tapsY = Math.min(maxTaps, Math.max(1, Math.round(Math.hypot(b, e))));
  const taps = tapsX * tapsY;
  // Tap offsets, already mapped into the source: tap t of output pixel (ox, oy) samples base(ox, oy) + (tapX[t], tapY[t]).
  const tapX = new Float64Array(taps);
  const tapY = new Float64Array(taps);
  for (let j = 0, t = 0; j < tapsY; j++) {
    for (let i = 0; i < tapsX; i++, t++) {
      const u = (i + 0.5) / tapsX - 0.5;
      const v = (j + 0.5) / tapsY - 0.5;
      tapX[t] = a * u + b * v;
      tapY[t] = d * u + e * v;
    }
  }
  const acc = new Float64Array(3);
  /** Bilinear sample at a source position whose 2×2 neighbourhood leaves the image: border rules apply. */
  const edgeSample = (sx: number, sy: number): void => {
    const x0 = Math.floor(sx);
    const y0 = Math.floor(sy);
    const tx = sx - x0;
    const ty = sy - y0;
    const xs = [borderIndex(border, x0, w), borderIndex(border, x0 + 1, w)];
    const ys = [borderIndex(border, y0, h), borderIndex(border, y0 + 1, h)];
    const ws = [(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty];
    for (let k = 0; k < 4; k++) {
      const xi = xs[k & 1]!;
      const yi = ys[k >> 1]!;
      const wk = ws[k]!;
      if (xi < 0 || yi < 0) {
        acc[0]! += wk * fr;
        acc[1]! += wk * fg;
        acc[2]! += wk * fb;
      } else {
        const i = (yi * w + xi) * 3;
        acc[0]! += wk * src[i]!;
        acc[1]! += wk * src[i + 1]!;
        acc[2]! += wk * src[i + 2]!;
      }
    }
  };
  const inv = 1 / taps;
  const stride = w * 3;
  let o = 0;
  if (taps === 1) {
    // Fast path (no shrinking): pixels whose 2×2 neighbourhood is inside the source skip the tap loop.
    for (let oy = 0; oy < oh; oy++) {
      let sx = a * 0.5 + b * (oy + 0.5) + c - 0.5;
      let sy = d * 0.5 + e * (oy + 0.5) + f - 0.5;
      for (let ox = 0; ox < ow; ox++, sx += a, sy += d, o += 3) {
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        if (x0 < 0 || y0 < 0 || x0 >= w - 1 || y0 >= h - 1) {
          acc.fill(0);
          edgeSample(sx, sy);
          out[o] = acc[0]! + 0.5;
          out[o + 1] = acc[1]! + 0.5;
          out[o + 2] = acc[2]! + 0.5;
          continue;
        }
        const tx = sx - x0;
        const ty = sy - y0;
        const i00 = y0 * stride + x0 * 3;
        const i01 = i00 + stride;
        for (let ch = 0; ch < 3; ch++) {
          const top = src[i00 + ch]! + (src[i00 + 3 + ch]! - src[i00 + ch]!) * tx;
          const bot = src[i01 + ch]! + (src[i01 + 3 + ch]! - src[i01 + ch]!) * tx;
          out[o + ch] = top + (bot - top) * ty + 0.5;
        }
      }
    }
    return { data: out, width: ow, height: oh };
  }
  for (let oy = 0; oy < oh; oy++) {
    // Source position (pixel-centre coordinates) of the centre of output pixel (0, oy); each step in x adds (a, d).
    let baseX = a * 0.5 + b * (oy + 0.5) + c - 0.5;
    let baseY = d * 0.5 + e * (oy + 0.5) + f - 0.5;
    for (let ox = 0; ox < ow; ox++, baseX += a, baseY += d) {
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let t = 0; t < taps; t++) {
        const sx = baseX + tapX[t]!;
        const sy = baseY + tapY[t]!;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const tx = sx - x0;
        const ty = sy - y0;
        if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
          const i00 = y0 * stride + x0 * 3;
          const i01 = i00 + stride;
          const top0 = src[i00]! + (src[i00 + 3]! - src[i00]!) * tx;
          const top1 = src[i00 + 1]! + (src[i00 + 4]! - src[i00 + 1]!) * tx;
          const top2 = src[i00 + 2]! + (src[i00 + 5]! - src[i00 + 2]!) * tx;
          const bot0 = src[i01]! + (src[i01 + 3]! - src[i01]!) * tx;
          const bot1 = src[i01 + 1]! + (src[i01 + 4]! - src[i01 + 1]!) * tx;
          const bot2 = src[i01 + 2]! + (src[i01 + 5]! - src[i01 + 2]!) * tx;
          r += top0 + (bot0 - top0) * ty;
          g += top1 + (bot1 - top1) * ty;
          bl += top2 + (bot2 - top2) * ty;
          continue;
        }
        acc.fill(0);
        edgeSample(sx, sy);
        r += acc[0]!;
        g += acc[1]!;
        bl += acc[2]!;
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
