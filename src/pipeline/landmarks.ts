import type { RgbImage } from './engine.js';
import type { FaceDetection } from './detect-face.js';
import { FACE_MESH } from './landmarks.contract.js';
import { apply, fromBasis, mean, mul, sub, type Mat3, type Point } from './geometry.js';
import { stageTensorSpecs } from './runtime/manifest.js';
import type { LoadOptions, OrtSession, SessionManager } from './runtime/ort.js';
import { toNhwcFloat, warpAffine } from './warp-affine.js';
import { HairError } from '../shared/errors.js';

/**
 * Eye contours of the MediaPipe 468-point mesh (upper and lower lid, 16 points each, corner to corner). The eye
 * centre is the mean of its contour: no iris model is used. "Right" is the subject's right eye (image left).
 */
export const RIGHT_EYE_CONTOUR = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246] as const;
export const LEFT_EYE_CONTOUR = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466] as const;
/** Mouth corners: 61 (subject's right, image left) and 291. */
export const MOUTH_CORNERS = FACE_MESH.indices.mouthCorners;
/** Face-contour points at the cheeks near the ear tragions, used for yaw: 234 (subject's right), 454 (left). */
export const YAW_POINTS = [234, 454] as const;

export interface FaceLandmarks {
  /** 468 points in source-image pixels; z is in source pixels too (smaller = closer to the camera). */
  points: Array<Point & { z: number }>;
  /** Mean of each eye contour. */
  rightEye: Point;
  leftEye: Point;
  /** Mesh points 61 and 291. */
  mouthRight: Point;
  mouthLeft: Point;
  /**
   * Yaw in degrees from the cheek points' depth: atan2(z454 − z234, |x454 − x234|) in the eye-levelled crop. 0 is
   * frontal; positive means the subject's left cheek (image right) is farther from the camera, i.e. the face is
   * turned towards the image's right; negative, towards the image's left.
   */
  yawDeg: number;
  /** Face-presence probability from the mesh's face flag. */
  presence: number;
  /** The crop the (last) mesh pass saw: crop pixels (0..192) → source pixels. */
  cropToImage: Mat3;
}

export interface LandmarksOptions {
  /** FACE_MAX_YAW_DEG: a larger |yaw| is FACE_TURNED_AWAY. */
  maxYawDeg: number;
  /** Below this face-flag probability the crop holds no face: NO_FACE. @defaultValue 0.5 */
  minPresence?: number;
  /** Run the mesh a second time on the ROI its first landmarks give. @defaultValue true */
  refine?: boolean;
}

export function loadLandmarker(manager: SessionManager, file: string, provider?: LoadOptions['provider']): Promise<OrtSession> {
  return manager.load(
    FACE_MESH.model,
    file,
    stageTensorSpecs(FACE_MESH),
    // Small graph: one thread (measured 2.8 ms vs 4–11 ms on two threads on the 2-core box).
    { intraOpThreads: 1, ...(provider ? { provider } : {}) },
  );
}

/** Crop pixels (0..size) → source pixels for a square of `side` source pixels around `centre`, turned by `angle`. */
function squareCrop(centre: Point, side: number, angle: number, size: number): Mat3 {
  const k = side / size;
  const u = { x: Math.cos(angle) * k, y: Math.sin(angle) * k };
  const v = { x: -u.y, y: u.x };
  const origin = sub(sub(centre, mul(u, size / 2)), mul(v, size / 2));
  return fromBasis(origin, u, v);
}

/**
 * MediaPipe's face ROI from a detection: square of the box's larger side × cropScale around the box centre,
 * rotated so the eye line (key points 0 → 1) is horizontal. Returns crop pixels → source pixels.
 */
export function faceCrop(detection: FaceDetection, size = FACE_MESH.size, cropScale: number = FACE_MESH.cropScale): Mat3 {
  const [rightEye, leftEye] = detection.keypoints;
  if (!rightEye || !leftEye) throw new RangeError('a detection needs its eye key points');
  const angle = Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x);
  const side = Math.max(detection.box.width, detection.box.height) * cropScale;
  const centre = { x: detection.box.x + detection.box.width / 2, y: detection.box.y + detection.box.height / 2 };
  return squareCrop(centre, side, angle, size);
}

/** Eye corners MediaPipe levels its landmark ROI by: 33 (subject's right, outer) and 263 (left, outer). */
export const ROI_EYE_CORNERS = [33, 263] as const;

/**
 * MediaPipe's face ROI from a previous mesh (its tracking ROI): the landmarks' bounding box in the frame levelled
 * by the outer eye corners, made square on its longer side × cropScale.
 */
export function meshCrop(points: readonly Point[], size = FACE_MESH.size, cropScale: number = FACE_MESH.cropScale): Mat3 {
  const a = points[ROI_EYE_CORNERS[0]]!;
  const b = points[ROI_EYE_CORNERS[1]]!;
  const angle = Math.atan2(b.y - a.y, b.x - a.x);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  let minU = Infinity;
  let maxU = -Infinity;
  let minV = Infinity;
  let maxV = -Infinity;
  for (const p of points) {
    const u = p.x * cos + p.y * sin;
    const v = -p.x * sin + p.y * cos;
    minU = Math.min(minU, u);
    maxU = Math.max(maxU, u);
    minV = Math.min(minV, v);
    maxV = Math.max(maxV, v);
  }
  const cu = (minU + maxU) / 2;
  const cv = (minV + maxV) / 2;
  const centre = { x: cu * cos - cv * sin, y: cu * sin + cv * cos };
  return squareCrop(centre, Math.max(maxU - minU, maxV - minV) * cropScale, angle, size);
}

interface MeshPass {
  points: Array<Point & { z: number }>;
  /** The mesh output in crop pixels (x, y, z per point). */
  raw: Float32Array;
  presence: number;
  cropToImage: Mat3;
}

async function runMesh(
  image: RgbImage,
  cropToImage: Mat3,
  manager: SessionManager,
  session: OrtSession,
  options: LandmarksOptions,
): Promise<MeshPass> {
  const size = FACE_MESH.size;
  const crop = warpAffine(image, { width: size, height: size, inverse: cropToImage, border: 'replicate', maxTaps: 4 });
  const outputs = await manager.run(session, {
    [FACE_MESH.input.name]: { dtype: 'float32', data: toNhwcFloat(crop, FACE_MESH.range), dims: FACE_MESH.input.shape },
  });
  const raw = outputs[FACE_MESH.outputs.landmarks.name]!.data as Float32Array;
  const flag = (outputs[FACE_MESH.outputs.faceFlag.name]!.data as Float32Array)[0]!;
  const presence = 1 / (1 + Math.exp(-flag));
  if (presence < (options.minPresence ?? 0.5)) {
    throw new HairError('NO_FACE', {}, { detail: `the face mesh sees no face in the detected box (presence ${presence.toFixed(2)})` });
  }
  const pixelScale = Math.hypot(cropToImage[0], cropToImage[3]);
  const points: Array<Point & { z: number }> = [];
  for (let i = 0; i < FACE_MESH.points; i++) {
    const p = apply(cropToImage, { x: raw[i * 3]!, y: raw[i * 3 + 1]! });
    points.push({ x: p.x, y: p.y, z: raw[i * 3 + 2]! * pixelScale });
  }
  return { points, raw, presence, cropToImage };
}

/** Runs the face mesh on the rotation-normalised crop and maps the 468 points back to the source image. */
export async function landmarks(
  image: RgbImage,
  detection: FaceDetection,
  manager: SessionManager,
  session: OrtSession,
  options: LandmarksOptions,
): Promise<FaceLandmarks> {
  let mesh = await runMesh(image, faceCrop(detection), manager, session, options);
  // Second pass on the ROI the first mesh gives (what MediaPipe tracks with): levelled by the eye corners rather
  // than the detector's coarse eye key points, so rotated faces come out as accurately as upright ones.
  if (options.refine !== false) mesh = await runMesh(image, meshCrop(mesh.points), manager, session, options);
  const { points, raw, presence, cropToImage } = mesh;
  const at = (i: number) => points[i]!;
  const [r, l] = YAW_POINTS;
  const dx = Math.abs(raw[l * 3]! - raw[r * 3]!);
  const dz = raw[l * 3 + 2]! - raw[r * 3 + 2]!;
  const yawDeg = (Math.atan2(dz, dx) * 180) / Math.PI;
  const result: FaceLandmarks = {
    points,
    rightEye: mean(RIGHT_EYE_CONTOUR.map(at)),
    leftEye: mean(LEFT_EYE_CONTOUR.map(at)),
    mouthRight: at(MOUTH_CORNERS[0]),
    mouthLeft: at(MOUTH_CORNERS[1]),
    yawDeg,
    presence,
    cropToImage,
  };
  if (Math.abs(yawDeg) > options.maxYawDeg) {
    throw new HairError('FACE_TURNED_AWAY', { yaw: Math.round(Math.abs(yawDeg)) }, {
      detail: `estimated yaw ${yawDeg.toFixed(1)}°, at most ${options.maxYawDeg}° allowed`,
    });
  }
  return result;
}
