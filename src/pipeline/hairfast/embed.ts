import { HairError } from '../../shared/errors.js';
import type { RgbImage } from '../engine.js';
import type { OrtTensor } from '../runtime/ort.js';
import { pick, type GraphContext } from './graphs.js';
import { toImage01 } from './image-tensor.js';

/**
 * Per-image work (bisenet, embed, sean_encode). An `ImageEmbedding` holds one image's tensors as ORT values: a
 * preset's are decoded from its cache entry (only the tensors its kind needs), a selfie's computed per request.
 * Tensors only some roles need (SEAN codes: face and shape; the CtrlHair face code: face; the CLIP embedding of
 * the hair: colour) are filled on demand and kept on the object, so a request computes each at most once per
 * distinct image, whatever roles the image plays.
 */
export interface ImageEmbedding {
  /** What made it: 'face', a preset id, or 'image:<sha256>' for a user's reference photo. */
  readonly key: string;
  mask?: OrtTensor;
  w?: OrtTensor;
  s?: OrtTensor;
  f?: OrtTensor;
  f_mix?: OrtTensor;
  image_256?: OrtTensor;
  image_norm_256?: OrtTensor;
  codes?: OrtTensor;
  face_code?: OrtTensor;
  /** CLIP embedding of this image's eroded hair (its `color_masked`), when it is the colour reference. */
  clip?: OrtTensor;
}

export type EmbeddingTensor = Exclude<keyof ImageEmbedding, 'key'>;
export const EMBEDDING_TENSORS: readonly EmbeddingTensor[] = [
  'mask', 'w', 's', 'f', 'f_mix', 'image_256', 'image_norm_256', 'codes', 'face_code', 'clip',
];

/** The tensor, or PRESET_KIND_MISMATCH naming it: a cached preset carries only what its kind needs. */
export function need(e: ImageEmbedding, name: EmbeddingTensor): OrtTensor {
  const value = e[name];
  // Presets are checked against their role before use (preset-library.ts): a missing tensor is an inconsistent cache.
  if (!value) throw new HairError('INTERNAL', { preset: e.key, tensor: name }, { detail: `${e.key} has no "${name}" tensor for this use` });
  return value;
}

export async function embedImage(ctx: GraphContext, key: string, image: RgbImage): Promise<ImageEmbedding> {
  if (image.width !== 1024 || image.height !== 1024 || image.data.length !== 1024 * 1024 * 3) {
    throw new HairError('INTERNAL', { stage: 'embed' }, { detail: `embed: expected an aligned 1024×1024 RGB image but received ${image.width}×${image.height}` });
  }
  const image01 = ctx.tensor({ dtype: 'float32', data: toImage01(image), dims: [1, 3, 1024, 1024] });
  const mask = pick(await ctx.run('bisenet', { image: image01 }), 'mask', 'bisenet');
  const out = await ctx.run('embed', { image: image01, mask });
  return {
    key,
    mask,
    w: pick(out, 'w', 'embed'),
    s: pick(out, 's', 'embed'),
    f: pick(out, 'f', 'embed'),
    f_mix: pick(out, 'f_mix', 'embed'),
    image_256: pick(out, 'image_256', 'embed'),
    image_norm_256: pick(out, 'image_norm_256', 'embed'),
  };
}

export async function seanCodes(ctx: GraphContext, e: ImageEmbedding): Promise<OrtTensor> {
  if (!e.codes) {
    const out = await ctx.run('sean_encode', { image_256: need(e, 'image_256'), mask: need(e, 'mask') });
    e.codes = pick(out, 'codes', 'sean_encode');
  }
  return e.codes;
}
