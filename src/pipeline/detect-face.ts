import type { RgbImage } from './engine.js';
import { BLAZEFACE_FULL, type BlazeFaceContract } from './detect-face.contract.js';
import { apply, invert, multiply, scale, translate, type Mat3, type Point } from './geometry.js';
import { stageTensorSpecs } from './runtime/manifest.js';
import type { LoadOptions, OrtSession, SessionManager } from './runtime/ort.js';
import { toNhwcFloat, warpAffine } from './warp-affine.js';
import { HairError } from '../shared/errors.js';

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One BlazeFace detection in source-image pixels. */
export interface FaceDetection {
  box: FaceBox;
  score: number;
  /**
   * Six key points: subject's right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion
   * (the subject's right eye is on the image's left in an unmirrored photo).
   */
  keypoints: Point[];
}

export interface DetectFaceOptions {
  /** Minimum sigmoid score. @defaultValue 0.5 (FACE_MIN_SCORE) */
  minScore: number;
  /** Smallest accepted box side in source pixels (FACE_MIN_SIZE_PX). */
  minSizePx: number;
  /** With several faces the largest must be this many times the next by area; 0 = always refuse (FACE_DOMINANCE_RATIO). */
  dominanceRatio: number;
  /** IoU above which detections merge (MediaPipe: 0.3). @defaultValue 0.3 */
  nmsIou?: number;
  /**
   * When the whole frame shows no face, look again in overlapping tiles (small faces, full-body shots); an
   * elongated image (see isElongated) is searched in tiles only. false = the whole frame only. @defaultValue true
   */
  tiles?: boolean;
}

export interface DetectFaceResult {
  /** The chosen face. */
  face: FaceDetection;
  /** Every face above minScore after NMS, largest first. */
  faces: FaceDetection[];
}

interface Anchor {
  x: number;
  y: number;
}

const anchorCache = new WeakMap<BlazeFaceContract, Anchor[]>();

/** MediaPipe SsdAnchorsCalculator with fixed_anchor_size: per stride a grid of cell centres, `perCell` anchors each. */
export function blazeFaceAnchors(contract: BlazeFaceContract): Anchor[] {
  const cached = anchorCache.get(contract);
  if (cached) return cached;
  const anchors: Anchor[] = [];
  contract.anchors.strides.forEach((stride, layer) => {
    const cells = Math.ceil(contract.size / stride);
    const perCell = contract.anchors.perCell[layer] ?? 1;
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let k = 0; k < perCell; k++) {
          anchors.push({ x: (x + contract.anchors.offset) / cells, y: (y + contract.anchors.offset) / cells });
        }
      }
    }
  });
  anchorCache.set(contract, anchors);
  return anchors;
}

/** Scales the image to fit `size`×`size` keeping its aspect ratio, centred, padded with black. */
export function letterbox(width: number, height: number, size: number): { toInput: Mat3; fromInput: Mat3 } {
  const k = size / Math.max(width, height);
  const toInput = multiply(translate((size - width * k) / 2, (size - height * k) / 2), scale(k));
  return { toInput, fromInput: invert(toInput) };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Decodes anchors → detections in input-normalised coordinates (0..1), keeping scores ≥ minScore. */
export function decodeBlazeFace(
  contract: BlazeFaceContract,
  regressors: Float32Array,
  logits: Float32Array,
  minScore: number,
): FaceDetection[] {
  const anchors = blazeFaceAnchors(contract);
  const s = contract.decodeScale;
  const found: FaceDetection[] = [];
  for (let i = 0; i < anchors.length; i++) {
    const clip = contract.scoreClip;
    const score = sigmoid(Math.max(-clip, Math.min(clip, logits[i]!)));
    if (score < minScore) continue;
    const a = anchors[i]!;
    const r = i * 16;
    const cx = regressors[r]! / s + a.x;
    const cy = regressors[r + 1]! / s + a.y;
    const w = regressors[r + 2]! / s;
    const h = regressors[r + 3]! / s;
    const keypoints: Point[] = [];
    for (let k = 0; k < contract.keypoints; k++) {
      keypoints.push({ x: regressors[r + 4 + k * 2]! / s + a.x, y: regressors[r + 5 + k * 2]! / s + a.y });
    }
    found.push({ box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, score, keypoints });
  }
  return found;
}

function iou(a: FaceBox, b: FaceBox): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * MediaPipe's weighted NMS: take the best remaining detection, merge every detection overlapping it by more than
 * `threshold` IoU into a score-weighted average of boxes and key points, keep the best score.
 */
export function weightedNms(detections: readonly FaceDetection[], threshold: number): FaceDetection[] {
  let remaining = [...detections].sort((p, q) => q.score - p.score);
  const kept: FaceDetection[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const overlapping = remaining.filter((d) => iou(best.box, d.box) > threshold);
    remaining = remaining.filter((d) => iou(best.box, d.box) <= threshold);
    const total = overlapping.reduce((sum, d) => sum + d.score, 0);
    const avg = (pick: (d: FaceDetection) => number) => overlapping.reduce((sum, d) => sum + pick(d) * d.score, 0) / total;
    kept.push({
      box: { x: avg((d) => d.box.x), y: avg((d) => d.box.y), width: avg((d) => d.box.width), height: avg((d) => d.box.height) },
      score: best.score,
      keypoints: best.keypoints.map((_, k) => ({ x: avg((d) => d.keypoints[k]!.x), y: avg((d) => d.keypoints[k]!.y) })),
    });
  }
  return kept;
}

function mapDetection(d: FaceDetection, m: Mat3): FaceDetection {
  const p0 = apply(m, { x: d.box.x, y: d.box.y });
  const p1 = apply(m, { x: d.box.x + d.box.width, y: d.box.y + d.box.height });
  return {
    box: { x: p0.x, y: p0.y, width: p1.x - p0.x, height: p1.y - p0.y },
    score: d.score,
    keypoints: d.keypoints.map((p) => apply(m, p)),
  };
}

/** Loads the detector through the session manager (contract checked at load). */
export function loadDetector(manager: SessionManager, file: string, contract: BlazeFaceContract = BLAZEFACE_FULL, provider?: LoadOptions['provider']): Promise<OrtSession> {
  return manager.load(
    contract.model,
    file,
    stageTensorSpecs(contract),
    // A few MFLOPs: one thread (measured 2.5 ms vs 5–6 ms on two threads on the 2-core box).
    { intraOpThreads: 1, ...(provider ? { provider } : {}) },
  );
}

/** A square region of the image the detector looks at: `size`×`size` pixels from (x, y). */
export interface Window {
  x: number;
  y: number;
  size: number;
}

/** One detector run on a region: image → input matrix given; detections come back in image pixels. */
async function detectIn(
  image: RgbImage,
  manager: SessionManager,
  session: OrtSession,
  toInput: Mat3,
  minScore: number,
  contract: BlazeFaceContract,
): Promise<FaceDetection[]> {
  const size = contract.size;
  const fromInput = invert(toInput);
  // 2×2 taps per input pixel: enough antialiasing for the detector, and the first read of a fresh multi-megapixel
  // image is memory-bound (3×3 taps cost ~10 ms more on a 2048² working copy with no change in the tests' results).
  const input = warpAffine(image, { width: size, height: size, inverse: fromInput, border: 'constant', maxTaps: 2 });
  const outputs = await manager.run(session, {
    [contract.input.name]: { dtype: 'float32', data: toNhwcFloat(input, contract.range), dims: contract.input.shape },
  });
  const regressors = outputs[contract.outputs.regressors.name]!.data as Float32Array;
  const logits = outputs[contract.outputs.classificators.name]!.data as Float32Array;
  const toImage = multiply(fromInput, scale(size));
  return decodeBlazeFace(contract, regressors, logits, minScore).map((d) => mapDetection(d, toImage));
}

/** Beyond this long:short ratio the whole-frame letterbox shrinks a face by the long side too far to trust. */
export const ELONGATED_RATIO = 2.5;

/** Wider or taller than ELONGATED_RATIO:1 (panorama, group shot, screenshot). */
export const isElongated = (width: number, height: number): boolean =>
  Math.max(width, height) > ELONGATED_RATIO * Math.min(width, height);

/**
 * Overlapping square tiles, half a tile apart, covering the image. Any face under half a tile lies wholly inside
 * one tile of its level.
 * - Up to ELONGATED_RATIO one level of side longSide / 2.5: a face is 2.5× larger in its tile than in the whole
 *   frame (full-body shots).
 * - More elongated, two levels: tiles of the short side, and of twice it (overhanging the short side, padded).
 *   A face up to the short side lies wholly in a tile at most 4× its side, so it is over 48 px of the detector's
 *   192 there, wherever it is.
 */
export function detectionTiles(width: number, height: number): Window[] {
  const short = Math.min(width, height);
  const sizes = isElongated(width, height) ? [short, 2 * short] : [Math.ceil(Math.max(width, height) / ELONGATED_RATIO)];
  return sizes.flatMap((size) => tilesOfSide(width, height, size));
}

function tilesOfSide(width: number, height: number, size: number): Window[] {
  const starts = (length: number): number[] => {
    if (length <= size) return [Math.floor((length - size) / 2)];
    const count = Math.ceil((length - size) / (size / 2)) + 1;
    return Array.from({ length: count }, (_, i) => Math.round(((length - size) * i) / (count - 1)));
  };
  return starts(height).flatMap((y) => starts(width).map((x) => ({ x, y, size })));
}

/** A tile's detection is kept unless it touches a tile edge that is inside the image (the face is cut there). */
function wholeInTile(d: FaceDetection, tile: Window, width: number, height: number): boolean {
  const margin = tile.size * 0.02;
  const { x, y, width: w, height: h } = d.box;
  const cutLeft = tile.x > 0 && x < tile.x + margin;
  const cutTop = tile.y > 0 && y < tile.y + margin;
  const cutRight = tile.x + tile.size < width && x + w > tile.x + tile.size - margin;
  const cutBottom = tile.y + tile.size < height && y + h > tile.y + tile.size - margin;
  return !(cutLeft || cutTop || cutRight || cutBottom);
}

/**
 * Every face BlazeFace finds, largest first. First the whole image, letterboxed; when that finds nothing and
 * `tiles` is on, overlapping tiles (see detectionTiles) for small faces, merged by NMS (a face seen in two tiles
 * or at two levels is one face). An elongated image goes to the tiles directly: its whole-frame letterbox shows a
 * face at most 192 × short / long px tall, where the detector misses faces or takes a whole figure for one.
 * A photo of usual proportions whose face the whole frame finds costs one detector run.
 */
export async function findFaces(
  image: RgbImage,
  manager: SessionManager,
  session: OrtSession,
  options: Pick<DetectFaceOptions, 'minScore' | 'nmsIou' | 'tiles'>,
  contract: BlazeFaceContract = BLAZEFACE_FULL,
): Promise<FaceDetection[]> {
  const iouThreshold = options.nmsIou ?? 0.3;
  const bySize = (faces: FaceDetection[]) => faces.sort((p, q) => q.box.width * q.box.height - p.box.width * p.box.height);
  const tiled = options.tiles !== false;
  if (!(tiled && isElongated(image.width, image.height))) {
    const { toInput } = letterbox(image.width, image.height, contract.size);
    const whole = weightedNms(await detectIn(image, manager, session, toInput, options.minScore, contract), iouThreshold);
    if (whole.length > 0 || !tiled) return bySize(whole);
  }
  const found: FaceDetection[] = [];
  for (const tile of detectionTiles(image.width, image.height)) {
    const tileToInput = multiply(scale(contract.size / tile.size), translate(-tile.x, -tile.y));
    const inTile = await detectIn(image, manager, session, tileToInput, options.minScore, contract);
    found.push(...inTile.filter((d) => wholeInTile(d, tile, image.width, image.height)));
  }
  return bySize(weightedNms(found, iouThreshold));
}

/**
 * Finds the one face to work on: NO_FACE when none, MULTIPLE_FACES unless the largest dominates the next by
 * `dominanceRatio` in area, FACE_TOO_SMALL when the chosen box is under `minSizePx`.
 */
export async function detectFace(
  image: RgbImage,
  manager: SessionManager,
  session: OrtSession,
  options: DetectFaceOptions,
  contract: BlazeFaceContract = BLAZEFACE_FULL,
): Promise<DetectFaceResult> {
  const faces = await findFaces(image, manager, session, options, contract);
  const [first, second] = faces;
  if (!first) throw new HairError('NO_FACE', {}, { detail: `no face scored ≥ ${options.minScore} in a ${image.width}×${image.height} image` });
  if (second) {
    const ratio = (first.box.width * first.box.height) / (second.box.width * second.box.height);
    if (options.dominanceRatio <= 0 || ratio < options.dominanceRatio) {
      throw new HairError('MULTIPLE_FACES', { count: faces.length }, {
        detail: `${faces.length} faces; the largest is ${ratio.toFixed(2)}× the next by area, ${options.dominanceRatio}× needed to pick it`,
      });
    }
  }
  const side = Math.min(first.box.width, first.box.height);
  if (side < options.minSizePx) {
    throw new HairError('FACE_TOO_SMALL', { size: Math.round(side), min: options.minSizePx }, {
      detail: `the face box is ${Math.round(first.box.width)}×${Math.round(first.box.height)} px, at least ${options.minSizePx} px needed`,
    });
  }
  return { face: first, faces };
}
