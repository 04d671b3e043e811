import { describe, expect, it } from 'vitest';
import { blazeFaceAnchors, decodeBlazeFace, detectionTiles, isElongated, letterbox, weightedNms, type FaceDetection } from '../../src/pipeline/detect-face.js';
import { BLAZEFACE_FULL, BLAZEFACE_SHORT } from '../../src/pipeline/detect-face.contract.js';
import { apply } from '../../src/pipeline/geometry.js';

const detection = (x: number, y: number, size: number, score: number): FaceDetection => ({
  box: { x, y, width: size, height: size },
  score,
  keypoints: Array.from({ length: 6 }, (_, k) => ({ x: x + k, y })),
});

describe('BlazeFace decoding', () => {
  it('generates one anchor per output row: 48×48 for full range, 16×16×2 + 8×8×6 for short range', () => {
    const full = blazeFaceAnchors(BLAZEFACE_FULL);
    expect(full).toHaveLength(BLAZEFACE_FULL.outputs.regressors.shape[1]);
    expect(full[0]).toEqual({ x: 0.5 / 48, y: 0.5 / 48 });
    expect(full[47]).toEqual({ x: 47.5 / 48, y: 0.5 / 48 });
    expect(full[48]).toEqual({ x: 0.5 / 48, y: 1.5 / 48 });
    const short = blazeFaceAnchors(BLAZEFACE_SHORT);
    expect(short).toHaveLength(BLAZEFACE_SHORT.outputs.regressors.shape[1]);
    expect(short[0]).toEqual(short[1]);
    expect(short[512]).toEqual({ x: 0.5 / 8, y: 0.5 / 8 });
    expect(short[517]).toEqual(short[512]);
  });

  it('decodes box, key points and sigmoid score relative to the anchor, in input units', () => {
    const n = BLAZEFACE_FULL.outputs.regressors.shape[1];
    const regressors = new Float32Array(n * 16);
    const logits = new Float32Array(n).fill(-10);
    const i = 48 * 10 + 20; // anchor centre (20.5/48, 10.5/48)
    logits[i] = 2;
    regressors.set([19.2, -9.6, 48, 24, 0, 0, 9.6, 0], i * 16);
    const [d, ...rest] = decodeBlazeFace(BLAZEFACE_FULL, regressors, logits, 0.5);
    expect(rest).toHaveLength(0);
    expect(d!.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    const cx = 20.5 / 48 + 0.1;
    const cy = 10.5 / 48 - 0.05;
    expect(d!.box.x).toBeCloseTo(cx - 0.125, 6);
    expect(d!.box.y).toBeCloseTo(cy - 0.0625, 6);
    expect(d!.box.width).toBeCloseTo(0.25, 6);
    expect(d!.box.height).toBeCloseTo(0.125, 6);
    expect(d!.keypoints[0]!.x).toBeCloseTo(20.5 / 48, 6);
    expect(d!.keypoints[1]!.x).toBeCloseTo(20.5 / 48 + 0.05, 6);
    expect(d!.keypoints).toHaveLength(6);
  });

  it('clips logits before the sigmoid (no NaN from huge values)', () => {
    const n = BLAZEFACE_FULL.outputs.regressors.shape[1];
    const logits = new Float32Array(n).fill(-1e30);
    logits[0] = 1e30;
    const found = decodeBlazeFace(BLAZEFACE_FULL, new Float32Array(n * 16), logits, 0.5);
    expect(found).toHaveLength(1);
    expect(found[0]!.score).toBeCloseTo(1, 6);
  });

  it('weighted NMS merges overlapping detections by score and keeps separate faces', () => {
    const merged = weightedNms([detection(0, 0, 10, 0.9), detection(1, 0, 10, 0.3), detection(50, 50, 10, 0.8)], 0.3);
    expect(merged).toHaveLength(2);
    expect(merged[0]!.score).toBe(0.9);
    expect(merged[0]!.box.x).toBeCloseTo(0.25, 9); // (0·0.9 + 1·0.3) / 1.2
    expect(merged[0]!.keypoints[2]!.x).toBeCloseTo(2.25, 9);
    expect(merged[1]!.box.x).toBe(50);
  });

  it('letterboxes any aspect ratio into the square input, centred', () => {
    const { toInput, fromInput } = letterbox(4000, 3000, 192);
    expect(apply(toInput, { x: 0, y: 0 })).toEqual({ x: 0, y: 24 });
    const corner = apply(toInput, { x: 4000, y: 3000 });
    expect(corner.x).toBeCloseTo(192, 9);
    expect(corner.y).toBeCloseTo(168, 9);
    const back = apply(fromInput, { x: 96, y: 96 });
    expect(back.x).toBeCloseTo(2000, 9);
    expect(back.y).toBeCloseTo(1500, 9);
  });

  it('tiles cover the image so that any square of half a tile lies wholly inside one tile', () => {
    for (const [w, h] of [[2048, 1536], [1536, 2048], [600, 400], [300, 300], [2500, 1000]] as const) {
      const tiles = detectionTiles(w, h);
      const size = tiles[0]!.size;
      expect(isElongated(w, h)).toBe(false);
      expect(new Set(tiles.map((t) => t.size))).toEqual(new Set([Math.ceil(Math.max(w, h) / 2.5)]));
      const half = size / 2;
      for (let y = 0; y + half <= h; y += 7) {
        for (let x = 0; x + half <= w; x += 7) {
          const inside = tiles.some((t) => x >= t.x && y >= t.y && x + half <= t.x + t.size && y + half <= t.y + t.size);
          if (!inside) throw new Error(`${w}×${h}: square at (${x}, ${y}) is in no tile`);
        }
      }
    }
    expect(detectionTiles(2048, 1536)).toHaveLength(12);
  });

  it('elongated images get a pyramid: any face up to the short side is wholly in a tile at most 4× its side', () => {
    for (const [w, h] of [[4000, 1000], [5017, 836], [836, 5017], [9158, 458], [2600, 1000]] as const) {
      expect(isElongated(w, h)).toBe(true);
      const tiles = detectionTiles(w, h);
      const short = Math.min(w, h);
      // Two levels: the short side and twice it.
      expect(Math.min(...tiles.map((t) => t.size))).toBe(short);
      expect(new Set(tiles.map((t) => t.size))).toEqual(new Set([short, 2 * short]));
      for (const f of [short / 4, short / 3, short / 2, 0.6 * short, 0.75 * short, 0.9 * short, short]) {
        for (let y = 0; y + f <= h; y += 11) {
          for (let x = 0; x + f <= w; x += 11) {
            const inside = tiles.some((t) => t.size <= 4 * f + 1e-9 && x >= t.x && y >= t.y && x + f <= t.x + t.size && y + f <= t.y + t.size);
            if (!inside) throw new Error(`${w}×${h}: a ${f.toFixed(0)} px face at (${x}, ${y}) is wholly in no tile ≤ 4× its side`);
          }
        }
      }
    }
    // 5017×836 (a 6000×1000 panorama's working copy): 12 tiles of 836 and 6 of 1672.
    expect(detectionTiles(5017, 836).map((t) => t.size).sort((a, b) => a - b)).toEqual([...Array(12).fill(836), ...Array(6).fill(1672)]);
  });
});
