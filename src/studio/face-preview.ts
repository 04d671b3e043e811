import sharp from 'sharp';
import { alignFace, alignFaceOptions, faceModelPaths, loadFaceSessions, type FaceSessions } from '../pipeline/front-end.js';
import { intake, intakeLimits } from '../pipeline/intake.js';
import { createSessionManager } from '../pipeline/runtime/ort.js';
import type { PipelineConfig } from '../shared/config.js';

export interface FacePreview {
  /** The aligned face the try-on will use, as a small JPEG; throws the pipeline's HairError (NO_FACE, BAD_IMAGE…). */
  preview(photo: Uint8Array): Promise<{ jpeg: Buffer; facesFound: number }>;
  dispose(): Promise<void>;
}

const PREVIEW_SIDE = 256;

/**
 * The face front-end alone (intake → detect → landmarks → FFHQ align) with the worker's limits, so the page shows
 * the crop — or the exact error — before anything is queued. Its two small sessions run on the CPU: they take
 * milliseconds and leave the GPU to the HairFastGAN graphs.
 */
export async function createFacePreview(
  config: Pick<PipelineConfig, 'MODELS_DIR' | 'ORT_INTRA_OP_THREADS' | 'MAX_IMAGE_BYTES' | 'MAX_IMAGE_PIXELS' | 'MIN_IMAGE_SIDE'
    | 'FACE_MIN_SCORE' | 'FACE_MIN_SIZE_PX' | 'FACE_DOMINANCE_RATIO' | 'FACE_MAX_YAW_DEG' | 'ALIGN_OUTPUT_SIZE'>,
): Promise<FacePreview> {
  const manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: config.ORT_INTRA_OP_THREADS });
  let sessions: FaceSessions;
  try {
    sessions = await loadFaceSessions(manager, faceModelPaths(config.MODELS_DIR));
  } catch (error) {
    await manager.dispose();
    throw error;
  }
  const limits = intakeLimits(config);
  const options = { ...alignFaceOptions(config), outputSize: PREVIEW_SIDE * 2 };
  return {
    async preview(photo) {
      const { image } = await intake(photo, limits);
      const aligned = await alignFace(image, sessions, options);
      const { data, width, height } = aligned.aligned;
      const jpeg = await sharp(data, { raw: { width, height, channels: 3 } }).resize(PREVIEW_SIDE, PREVIEW_SIDE).jpeg({ quality: 85 }).toBuffer();
      return { jpeg, facesFound: aligned.facesFound };
    },
    dispose: () => manager.dispose(),
  };
}
