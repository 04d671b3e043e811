import type { RgbImage } from './engine.js';
import { detectFace, loadDetector, type FaceBox } from './detect-face.js';
import { BLAZEFACE_FULL } from './detect-face.contract.js';
import { landmarks as faceLandmarks, loadLandmarker } from './landmarks.js';
import { FACE_MESH } from './landmarks.contract.js';
import { alignFfhq, type FfhqQuad } from './align-ffhq.js';
import type { Mat3, Point } from './geometry.js';
import type { BorderMode } from './warp-affine.js';
import { createModelRegistry } from './runtime/model-registry.js';
import { stageProvider, type LoadOptions, type OrtSession, type SessionManager } from './runtime/ort.js';
import type { PipelineConfig } from '../shared/config.js';

/**
 * The face front-end: detect → landmarks → FFHQ align. `alignFace` is what the worker and the HairFastGAN runtime
 * call with an upright RGB image from intake.
 */

export type FaceModelName = typeof BLAZEFACE_FULL.model | typeof FACE_MESH.model;

export interface FaceSessions {
  manager: SessionManager;
  detector: OrtSession;
  mesh: OrtSession;
}

/** Where a model file is; the model registry's `resolve` fits (it also checks sha256). */
export type ResolveModel = (name: FaceModelName) => string;

/**
 * The face models by name through the model registry: the manifest says where each file is, a missing one is
 * MODEL_MISSING naming `hairstyler models prepare`, a wrong size or sha256 is MODEL_INVALID.
 */
export function faceModelPaths(modelsDir: string): ResolveModel {
  const registry = createModelRegistry({ modelsDir });
  return (name) => registry.resolve(name);
}

/** Each face model's provider where it differs from the manager's HAIR_EP (FACE_DETECT_EP, FACE_LANDMARKS_EP). */
export interface FaceStageProviders {
  detect?: LoadOptions['provider'];
  landmarks?: LoadOptions['provider'];
}

export function faceStageProviders(config: Pick<PipelineConfig, 'FACE_DETECT_EP' | 'FACE_LANDMARKS_EP'>): FaceStageProviders {
  const detect = stageProvider(config.FACE_DETECT_EP, 'FACE_DETECT_EP');
  const landmarks = stageProvider(config.FACE_LANDMARKS_EP, 'FACE_LANDMARKS_EP');
  return { ...(detect ? { detect } : {}), ...(landmarks ? { landmarks } : {}) };
}

/** Creates (or reuses) and warms the two face sessions. */
export async function loadFaceSessions(manager: SessionManager, resolve: ResolveModel, providers: FaceStageProviders = {}): Promise<FaceSessions> {
  const [detector, mesh] = await Promise.all([
    loadDetector(manager, resolve(BLAZEFACE_FULL.model), BLAZEFACE_FULL, providers.detect),
    loadLandmarker(manager, resolve(FACE_MESH.model), providers.landmarks),
  ]);
  return { manager, detector, mesh };
}

export interface AlignFaceOptions {
  /** FACE_MIN_SCORE */
  minScore: number;
  /** FACE_MIN_SIZE_PX */
  minSizePx: number;
  /** FACE_DOMINANCE_RATIO */
  dominanceRatio: number;
  /** FACE_MAX_YAW_DEG */
  maxYawDeg: number;
  /** ALIGN_OUTPUT_SIZE */
  outputSize: number;
  /** @defaultValue 'reflect' */
  border?: BorderMode;
  /** Search overlapping tiles when the whole frame shows no face (small faces) and always in elongated images. @defaultValue true */
  tiles?: boolean;
}

export function alignFaceOptions(config: Pick<PipelineConfig, 'FACE_MIN_SCORE' | 'FACE_MIN_SIZE_PX' | 'FACE_DOMINANCE_RATIO' | 'FACE_MAX_YAW_DEG' | 'ALIGN_OUTPUT_SIZE'>): AlignFaceOptions {
  return {
    minScore: config.FACE_MIN_SCORE,
    minSizePx: config.FACE_MIN_SIZE_PX,
    dominanceRatio: config.FACE_DOMINANCE_RATIO,
    maxYawDeg: config.FACE_MAX_YAW_DEG,
    outputSize: config.ALIGN_OUTPUT_SIZE,
  };
}

export interface AlignedFace {
  /** outputSize² RGB, FFHQ-aligned. */
  aligned: RgbImage;
  /** 3×3 row-major, original photo pixels → aligned pixels. */
  transform: Mat3;
  /** Aligned pixels → original photo pixels (paste-back). */
  inverse: Mat3;
  quad: FfhqQuad;
  face: {
    box: FaceBox;
    score: number;
    /** BlazeFace's six key points (see FaceDetection). */
    keypoints: Point[];
    /** From the face mesh, in photo pixels. Eyes and mouth corners are image-left first. */
    landmarks: { eyes: [Point, Point]; mouth: [Point, Point] };
    yawDeg: number;
  };
  /** Faces BlazeFace found (≥ minScore), including the chosen one. */
  facesFound: number;
  /** Milliseconds: detect, landmarks, align, total. */
  timings: { detect: number; landmarks: number; align: number; total: number };
}

function checkImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new TypeError(`Expected positive integer width and height for image but received ${width}×${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new TypeError(`Expected ${width * height * 3} bytes of packed RGB for a ${width}×${height} image but received ${data?.length}`);
  }
}

export async function alignFace(image: RgbImage, sessions: FaceSessions, options: AlignFaceOptions): Promise<AlignedFace> {
  checkImage(image);
  const t0 = performance.now();
  const { face, faces } = await detectFace(image, sessions.manager, sessions.detector, options);
  const t1 = performance.now();
  const marks = await faceLandmarks(image, face, sessions.manager, sessions.mesh, { maxYawDeg: options.maxYawDeg });
  const t2 = performance.now();
  const eyes: [Point, Point] = [marks.rightEye, marks.leftEye];
  const mouth: [Point, Point] = [marks.mouthRight, marks.mouthLeft];
  const { aligned, transform, inverse, quad } = alignFfhq(image, { eyes, mouth }, { size: options.outputSize, border: options.border ?? 'reflect' });
  const t3 = performance.now();
  return {
    aligned,
    transform,
    inverse,
    quad,
    face: { box: face.box, score: face.score, keypoints: face.keypoints, landmarks: { eyes, mouth }, yawDeg: marks.yawDeg },
    facesFound: faces.length,
    timings: { detect: t1 - t0, landmarks: t2 - t1, align: t3 - t2, total: t3 - t0 },
  };
}
