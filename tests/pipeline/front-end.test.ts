import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignFace, alignFaceOptions, faceModelPaths, loadFaceSessions, type AlignedFace, type AlignFaceOptions, type FaceSessions } from '../../src/pipeline/front-end.js';
import { createSessionManager, type SessionManager } from '../../src/pipeline/runtime/ort.js';
import { apply, type Point } from '../../src/pipeline/geometry.js';
import type { RgbImage } from '../../src/pipeline/engine.js';
import { intake, intakeLimits } from '../../src/pipeline/intake.js';
import { loadConfig } from '../../src/shared/config.js';
import { HairError } from '../../src/shared/errors.js';
import { grayscale, loadAstronaut, loadCoffee, resizeToWidth, rotateInPlane, sideBySide, turnedFace, withExifOrientation } from '../helpers/images.js';

const config = loadConfig({ env: {} });
const defaults: AlignFaceOptions = alignFaceOptions(config);
let astronaut: Buffer;
const decode = async (bytes: Uint8Array): Promise<RgbImage> => (await intake(bytes, intakeLimits(config))).image;

let manager: SessionManager;
let sessions: FaceSessions;
let base: AlignedFace;

beforeAll(async () => {
  astronaut = await loadAstronaut();
  manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 0 });
  sessions = await loadFaceSessions(manager, faceModelPaths(config.MODELS_DIR));
  base = await alignFace(await decode(astronaut), sessions, defaults);
});
afterAll(() => manager.dispose());

const eyesOut = (r: AlignedFace): Point[] => r.face.landmarks.eyes.map((p) => apply(r.transform, p));
const distance = (p: Point, q: Point) => Math.hypot(p.x - q.x, p.y - q.y);
const angleDeg = (r: AlignedFace) => (Math.atan2(r.transform[3], r.transform[0]) * 180) / Math.PI;

async function code(promise: Promise<unknown>): Promise<HairError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(HairError);
  return error as HairError;
}

/** Where the FFHQ quad puts the eyes: |x| = max(2|e2e|, 1.8|e2m|), so the eyes are size·|e2e|/(2|x|) apart. */
function expectedEyes(r: AlignedFace, size: number): { gap: number; centre: Point } {
  const [l, rr] = r.face.landmarks.eyes;
  const [ml, mr] = r.face.landmarks.mouth;
  const e2e = distance(l, rr);
  const eyeAvg = { x: (l.x + rr.x) / 2, y: (l.y + rr.y) / 2 };
  const e2m = distance(eyeAvg, { x: (ml.x + mr.x) / 2, y: (ml.y + mr.y) / 2 });
  const half = Math.max(2 * e2e, 1.8 * e2m);
  const s = size / (2 * half);
  // c = eye_avg + 0.1·e2m sits at the centre; for a face whose e2m ⟂ e2e the eyes sit 0.1·|e2m|·s above it.
  return { gap: e2e * s, centre: { x: size / 2, y: size / 2 - 0.1 * e2m * s } };
}

describe('alignFace on astronaut.png', () => {
  it('finds one face and puts the eyes at the FFHQ positions of the 1024 output', () => {
    expect(base.facesFound).toBe(1);
    expect(base.aligned.width).toBe(1024);
    expect(base.aligned.height).toBe(1024);
    expect(base.aligned.data).toHaveLength(1024 * 1024 * 3);
    const [l, r] = eyesOut(base);
    const expected = expectedEyes(base, 1024);
    // Frontal face: the eye line is level and the eyes are 1024/4 apart (2|e2e| wins over 1.8|e2m|).
    expect(expected.gap).toBeCloseTo(256, 6);
    expect(distance(l!, { x: expected.centre.x - expected.gap / 2, y: expected.centre.y })).toBeLessThan(3);
    expect(distance(r!, { x: expected.centre.x + expected.gap / 2, y: expected.centre.y })).toBeLessThan(3);
    // Subject's right eye on the image left; mouth below the eyes.
    expect(base.face.landmarks.eyes[0].x).toBeLessThan(base.face.landmarks.eyes[1].x);
    expect(base.face.landmarks.mouth[0].y).toBeGreaterThan(base.face.landmarks.eyes[0].y);
    expect(Math.abs(base.face.yawDeg)).toBeLessThan(10);
    expect(base.face.keypoints).toHaveLength(6);
  });

  it('refuses a malformed RgbImage with a sharp-style message', async () => {
    await expect(alignFace({ data: new Uint8Array(10), width: 4, height: 4 }, sessions, defaults)).rejects.toThrow(
      'Expected 48 bytes of packed RGB for a 4×4 image but received 10',
    );
    await expect(alignFace({ data: new Uint8Array(0), width: 0, height: 4 }, sessions, defaults)).rejects.toThrow(/positive integer width and height/);
  });

  it('the pixels go where the transform says: aligning the aligned image again is the identity', async () => {
    const again = await alignFace(base.aligned, sessions, defaults);
    const [l, r] = eyesOut(base);
    const [l2, r2] = again.face.landmarks.eyes;
    expect(distance(l!, l2)).toBeLessThan(4);
    expect(distance(r!, r2)).toBeLessThan(4);
    expect(Math.abs(angleDeg(again))).toBeLessThan(1);
    expect(again.transform[0]).toBeCloseTo(1, 1);
  });
});

describe('alignFace on transforms of astronaut.png', () => {
  const cases: Array<[string, () => Promise<Uint8Array>, Partial<AlignFaceOptions>?]> = [
    // Stored pixels turned so that EXIF orientation 6 ("rotate 90° clockwise to view") shows the upright photo.
    ['EXIF-rotated 90°', () => withExifOrientation(astronaut, 6)],
    ['rotated 25° in plane', () => rotateInPlane(astronaut, 25)],
    // Needs the second mesh pass (levelled by the first mesh's eye corners): one pass is ~12 px off here.
    ['rotated 45° in plane', () => rotateInPlane(astronaut, 45)],
    // The face box is ~62 px here, under the default FACE_MIN_SIZE_PX (64): allow it to check the geometry.
    ['300 px wide', () => resizeToWidth(astronaut, 300), { minSizePx: 32 }],
    ['4000 px wide', () => resizeToWidth(astronaut, 4000)],
    ['grayscale', () => grayscale(astronaut)],
  ];
  for (const [name, make, options] of cases) {
    it(`${name}: the eyes land where they do for the original, within a few pixels`, async () => {
      const image = await decode(await make());
      const result = await alignFace(image, sessions, { ...defaults, ...options });
      expect(result.facesFound).toBe(1);
      const [l, r] = eyesOut(result);
      const [bl, br] = eyesOut(base);
      expect(distance(l!, bl!)).toBeLessThan(5);
      expect(distance(r!, br!)).toBeLessThan(5);
      const turned = /^rotated (\d+)°/.exec(name);
      if (turned) expect(angleDeg(result) - angleDeg(base)).toBeCloseTo(-Number(turned[1]), 0);
      else expect(Math.abs(angleDeg(result) - angleDeg(base))).toBeLessThan(1.5);
    });
  }

  it('two copies side by side: MULTIPLE_FACES with the count', async () => {
    const bytes = await sideBySide(astronaut);
    const error = await code(alignFace(await decode(bytes), sessions, defaults));
    expect(error.code).toBe('MULTIPLE_FACES');
    expect(error.params).toEqual({ count: 2 });
  });

  it('a copy at half size next to it: the larger face dominates (area ratio ≈ 4 ≥ FACE_DOMINANCE_RATIO) and is used', async () => {
    // The head and shoulders (300² crop) keep both faces large enough for the detector in the letterboxed input.
    const crop = await sharp(astronaut).extract({ left: 100, top: 0, width: 300, height: 300 }).png().toBuffer();
    const small = await sharp(crop).resize(150).png().toBuffer();
    const bytes = await sharp(crop).extend({ right: 150, background: '#000' }).composite([{ input: small, left: 300, top: 0 }]).png().toBuffer();
    const result = await alignFace(await decode(bytes), sessions, defaults);
    expect(result.facesFound).toBe(2);
    expect(result.face.box.x + result.face.box.width).toBeLessThan(300);
    const [l, r] = eyesOut(result);
    expect(distance(l!, eyesOut(base)[0]!)).toBeLessThan(5);
    expect(distance(r!, eyesOut(base)[1]!)).toBeLessThan(5);
    // With dominance switched off the same picture is refused.
    const refused = await code(alignFace(await decode(bytes), sessions, { ...defaults, dominanceRatio: 0 }));
    expect(refused.code).toBe('MULTIPLE_FACES');
    expect(refused.params).toEqual({ count: 2 });
  });

  it('a small face in a large frame (full-body shot): found by the tiled pass, eyes at the FFHQ positions', async () => {
    const face = await sharp(astronaut).resize(384).toBuffer();
    const bytes = await sharp({ create: { width: 2048, height: 1536, channels: 3, background: '#6a7a70' } })
      .composite([{ input: face, left: 1400, top: 300 }])
      .jpeg({ quality: 90 })
      .toBuffer();
    const image = await decode(bytes);
    // The whole-frame pass alone sees nothing at this size (the face is ~7 px in the 192² letterbox).
    expect((await code(alignFace(image, sessions, { ...defaults, tiles: false }))).code).toBe('NO_FACE');
    const result = await alignFace(image, sessions, defaults);
    expect(result.facesFound).toBe(1);
    expect(result.face.box.x).toBeGreaterThan(1400);
    const [l, r] = eyesOut(result);
    expect(distance(l!, eyesOut(base)[0]!)).toBeLessThan(5);
    expect(distance(r!, eyesOut(base)[1]!)).toBeLessThan(5);
  });

  it('coffee.png has no face: NO_FACE', async () => {
    expect((await code(alignFace(await decode(await loadCoffee()), sessions, defaults))).code).toBe('NO_FACE');
  });

  it('a face under FACE_MIN_SIZE_PX: FACE_TOO_SMALL with the size', async () => {
    const image = await decode(await resizeToWidth(astronaut, 160));
    const error = await code(alignFace(image, sessions, defaults));
    expect(error.code).toBe('FACE_TOO_SMALL');
    expect(error.params['min']).toBe(64);
    expect(error.params['size']).toBeLessThan(64);
  });

  it('a face turned away past FACE_MAX_YAW_DEG: FACE_TURNED_AWAY', async () => {
    const image = turnedFace(await decode(astronaut), 225, 0.45);
    const result = await alignFace(image, sessions, { ...defaults, maxYawDeg: 45 });
    // The subject's right cheek (image left) squeezed: the face reads as turned towards the image left.
    expect(result.face.yawDeg).toBeLessThan(-10);
    const error = await code(alignFace(image, sessions, { ...defaults, maxYawDeg: 8 }));
    expect(error.code).toBe('FACE_TURNED_AWAY');
    expect(error.params['yaw']).toBe(Math.round(Math.abs(result.face.yawDeg)));
    // The frontal original passes the same limit.
    await expect(alignFace(await decode(astronaut), sessions, { ...defaults, maxYawDeg: 8 })).resolves.toBeDefined();
  });
});
