/**
 * Faces in unusual framings (issue 11, point 8): panoramas, group shots and screenshots, where the whole-frame
 * letterbox of a downscaled working copy leaves a clearly visible face too small for BlazeFace. Real sessions,
 * real intake, coordinates checked in the original photo's pixels.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { detectionTiles, detectFace, isElongated } from '../../src/pipeline/detect-face.js';
import type { RgbImage } from '../../src/pipeline/engine.js';
import { alignFace, alignFaceOptions, faceModelPaths, loadFaceSessions, type AlignedFace, type AlignFaceOptions, type FaceSessions } from '../../src/pipeline/front-end.js';
import { apply, type Point } from '../../src/pipeline/geometry.js';
import { intake, intakeLimits, type IntakeImage } from '../../src/pipeline/intake.js';
import { createSessionManager, type SessionManager } from '../../src/pipeline/runtime/ort.js';
import { loadConfig } from '../../src/shared/config.js';
import { HairError } from '../../src/shared/errors.js';
import { encodeAs, loadAstronaut, onCanvas, turnedFace } from '../helpers/images.js';

const config = loadConfig({ env: {} });
const defaults: AlignFaceOptions = alignFaceOptions(config);
/** The astronaut is pasted at this width: its face is then ~120 px, a fifth of a 1000 px short side. */
const SIDE = 600;

let astronaut: Buffer;
let manager: SessionManager;
let sessions: FaceSessions;
/** The astronaut's own face box and aligned eyes, in its 512² pixels. */
let base: AlignedFace;

beforeAll(async () => {
  astronaut = await loadAstronaut();
  manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 0 });
  sessions = await loadFaceSessions(manager, faceModelPaths(config.MODELS_DIR));
  base = await alignFace((await intake(astronaut, intakeLimits(config))).image, sessions, defaults);
});
afterAll(() => manager.dispose());

const decode = (bytes: Uint8Array): Promise<IntakeImage> => intake(bytes, intakeLimits(config));
const eyesOut = (r: AlignedFace): Point[] => r.face.landmarks.eyes.map((p) => apply(r.transform, p));
const distance = (p: Point, q: Point) => Math.hypot(p.x - q.x, p.y - q.y);

async function code(promise: Promise<unknown>): Promise<HairError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(HairError);
  return error as HairError;
}

/** Where the astronaut's face box lands in the original photo when the astronaut is pasted SIDE wide at (left, top). */
function pastedBox(left: number, top: number) {
  const k = SIDE / 512;
  const { x, y, width, height } = base.face.box;
  return { x: left + x * k, y: top + y * k, width: width * k, height: height * k };
}

/** The found box in original pixels matches the pasted face to a tenth of its size. */
function expectBoxAt(result: AlignedFace, working: IntakeImage, expected: ReturnType<typeof pastedBox>): void {
  const k = 1 / working.scale;
  const found = { x: result.face.box.x * k, y: result.face.box.y * k, width: result.face.box.width * k, height: result.face.box.height * k };
  const tolerance = expected.width / 10;
  expect(Math.abs(found.x - expected.x), `x ${found.x} vs ${expected.x}`).toBeLessThan(tolerance);
  expect(Math.abs(found.y - expected.y), `y ${found.y} vs ${expected.y}`).toBeLessThan(tolerance);
  expect(Math.abs(found.width - expected.width), `width ${found.width} vs ${expected.width}`).toBeLessThan(tolerance);
}

/** The eyes land where they do for the astronaut alone: the alignment is usable, not just a box. */
function expectAlignedLikeBase(result: AlignedFace): void {
  const [l, r] = eyesOut(result);
  const [bl, br] = eyesOut(base);
  expect(distance(l!, bl!)).toBeLessThan(6);
  expect(distance(r!, br!)).toBeLessThan(6);
}

describe('faces in elongated photos', () => {
  it('a 6000×1000 panorama, face ~120 px near the right end: found at its place in the original', async () => {
    const at = { left: 4200, top: 200 };
    const working = await decode(await onCanvas(astronaut, { width: 6000, height: 1000 }, SIDE, [at]));
    expect(isElongated(working.image.width, working.image.height)).toBe(true);
    // What the old front end did: the whole-frame letterbox alone (the face is ~4 px of its 192) finds nothing.
    expect((await code(alignFace(working.image, sessions, { ...defaults, tiles: false }))).code).toBe('NO_FACE');
    const result = await alignFace(working.image, sessions, defaults);
    expect(result.facesFound).toBe(1);
    expectBoxAt(result, working, pastedBox(at.left, at.top));
    expect(Math.min(result.face.box.width, result.face.box.height)).toBeGreaterThanOrEqual(defaults.minSizePx);
    expectAlignedLikeBase(result);
  });

  it('a 1000×6000 tall screenshot, face near the bottom: found at its place in the original', async () => {
    const at = { left: 250, top: 4700 };
    const working = await decode(await onCanvas(astronaut, { width: 1000, height: 6000 }, SIDE, [at]));
    expect((await code(alignFace(working.image, sessions, { ...defaults, tiles: false }))).code).toBe('NO_FACE');
    const result = await alignFace(working.image, sessions, defaults);
    expect(result.facesFound).toBe(1);
    expectBoxAt(result, working, pastedBox(at.left, at.top));
    expectAlignedLikeBase(result);
  });

  it('a close-up face too large for any short-side tile: found whole by the next pyramid level', async () => {
    // The face is ~70% of the 836 px working height: the short-side tiles (836 px, ~380 apart) can each hold it
    // only where it is not; the 1672 px level holds it whole.
    const blank = await decode(await onCanvas(astronaut, { width: 6000, height: 1000 }, SIDE, []));
    const tiles = detectionTiles(blank.image.width, blank.image.height);
    const [t0, t1] = tiles.filter((t) => t.size === tiles[0]!.size).slice(4, 6);
    const faceWorking = 0.7 * t0!.size;
    const k = faceWorking / blank.scale / base.face.box.width; // astronaut pixels → original pixels
    const side = Math.round(512 * k);
    // Face left edge in working pixels: tile t0's start + (gap − room) / 2 + room, so neither t0 nor t1 holds it.
    const room = t0!.size - faceWorking;
    const faceLeft = t0!.x + ((t1!.x - t0!.x) - room) / 2 + room;
    const left = Math.round(faceLeft / blank.scale - base.face.box.x * k);
    const top = Math.round(base.face.box.y * k) - 150;
    // Widened by repeating its edge columns: a pasted photo's hard edge reads as a weak face at tile scale.
    const bytes = await sharp(astronaut).resize(side).extract({ left: 0, top, width: side, height: 1000 })
      .extend({ left, right: 6000 - left - side, extendWith: 'copy' }).jpeg({ quality: 90 }).toBuffer();
    const working = await decode(bytes);
    // The suit's texture may score a weak, small detection at tile scale; the face dominates it and is chosen.
    const result = await alignFace(working.image, sessions, defaults);
    const expected = { x: left + base.face.box.x * k, y: 150, width: base.face.box.width * k };
    expect(Math.abs(result.face.box.x / working.scale - expected.x)).toBeLessThan(expected.width / 10);
    expect(Math.abs(result.face.box.y / working.scale - expected.y)).toBeLessThan(expected.width / 10);
    expect(Math.abs(result.face.box.width / working.scale - expected.width)).toBeLessThan(expected.width / 10);
    expectAlignedLikeBase(result);
  });

  it('a group shot: two faces at the far ends of a 6000×1000 photo → MULTIPLE_FACES with the count', async () => {
    const working = await decode(await onCanvas(astronaut, { width: 6000, height: 1000 }, SIDE, [{ left: 150, top: 200 }, { left: 5250, top: 200 }]));
    const error = await code(alignFace(working.image, sessions, defaults));
    expect(error.code).toBe('MULTIPLE_FACES');
    expect(error.params).toEqual({ count: 2 });
  });

  it('a face straddling a tile seam is found once, at its place', async () => {
    const width = 6000;
    const height = 1000;
    // The working copy's size and tiles do not depend on the content: find the seam (first tile's right edge).
    const blank = await decode(await onCanvas(astronaut, { width, height }, SIDE, []));
    const [first] = detectionTiles(blank.image.width, blank.image.height);
    const seam = (first!.x + first!.size) / blank.scale;
    const box = pastedBox(0, 0);
    const at = { left: Math.round(seam - box.x - box.width / 2), top: 200 };
    const working = await decode(await onCanvas(astronaut, { width, height }, SIDE, [at]));
    const expected = pastedBox(at.left, at.top);
    expect(expected.x).toBeLessThan(seam);
    expect(expected.x + expected.width).toBeGreaterThan(seam);
    const result = await alignFace(working.image, sessions, defaults);
    expect(result.facesFound).toBe(1);
    expectBoxAt(result, working, expected);
  });

  it('a face turned away in a panorama: FACE_TURNED_AWAY, not NO_FACE', async () => {
    const turned = await encodeAs(turnedFace((await decode(astronaut)).image, 225, 0.45), 'png');
    const working = await decode(await onCanvas(turned, { width: 6000, height: 1000 }, SIDE, [{ left: 3000, top: 200 }]));
    const error = await code(alignFace(working.image, sessions, { ...defaults, maxYawDeg: 8 }));
    expect(error.code).toBe('FACE_TURNED_AWAY');
    await expect(alignFace(working.image, sessions, { ...defaults, maxYawDeg: 45 })).resolves.toMatchObject({ facesFound: 1 });
  });
});

describe('tiling only when needed', () => {
  const detectorRuns = async (image: RgbImage): Promise<number> => {
    const run = vi.spyOn(manager, 'run');
    try {
      await detectFace(image, manager, sessions.detector, defaults);
      return run.mock.calls.filter(([session]) => session === sessions.detector).length;
    } finally {
      run.mockRestore();
    }
  };

  it('a usual selfie costs one detector run; a panorama one per tile', async () => {
    expect(await detectorRuns((await decode(astronaut)).image)).toBe(1);
    const working = await decode(await onCanvas(astronaut, { width: 6000, height: 1000 }, SIDE, [{ left: 4200, top: 200 }]));
    expect(await detectorRuns(working.image)).toBe(detectionTiles(working.image.width, working.image.height).length);
  });
});
