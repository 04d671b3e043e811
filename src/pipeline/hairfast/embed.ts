import { HairError } from '../../shared/errors.js';
import type { RgbImage } from '../engine.js';
import type { OrtTensor } from '../runtime/ort.js';
import { pick, type GraphContext } from './graphs.js';

/**
 * Per-image work. An `ImageEmbedding` holds one image's tensors as ORT values; a preset's is decoded from its
 * cache entry (only the tensors its kind needs), a selfie's is computed per request. `codes` (SEAN) and `clip`
 * (CLIP of the hair) are filled on demand and kept on the object, so a request computes each at most once.
 */
export interface ImageEmbedding {
  /** What made it: 'face', a preset id, or 'image:<sha256>' for a user's reference photo. */
  readonly key: string;
  w?: OrtTensor;
  s?: OrtTensor;
  f?: OrtTensor;
  mask?: OrtTensor;
  image_norm_256?: OrtTensor;
  codes?: OrtTensor;
  clip?: OrtTensor;
}

export type EmbeddingTensor = Exclude<keyof ImageEmbedding, 'key'>;
export const EMBEDDING_TENSORS: readonly EmbeddingTensor[] = ['w', 's', 'f', 'mask', 'image_norm_256', 'codes', 'clip'];

/** The tensor, or a PRESET_KIND_MISMATCH naming it: a cached preset only carries what its kind needs. */
export function need(e: ImageEmbedding, name: EmbeddingTensor): OrtTensor {
  const value = e[name];
  if (!value) throw new HairError('PRESET_KIND_MISMATCH', { preset: e.key, tensor: name }, { detail: `${e.key} has no "${name}" tensor for this use` });
  return value;
}

export async function embedImage(ctx: GraphContext, key: string, image: RgbImage): Promise<ImageEmbedding> {
  if (image.width !== 1024 || image.height !== 1024 || image.data.length !== 1024 * 1024 * 3) {
    throw new HairError('INTERNAL', { stage: 'embed' }, { detail: `embed: expected an aligned 1024×1024 RGB image but received ${image.width}×${image.height}` });
  }
  const out = await ctx.run('embed', { image: ctx.tensor({ dtype: 'uint8', data: image.data, dims: [1, 1024, 1024, 3] }) });
  return {
    key,
    w: pick(out, 'w', 'embed'),
    s: pick(out, 's', 'embed'),
    f: pick(out, 'f', 'embed'),
    mask: pick(out, 'mask', 'embed'),
    image_norm_256: pick(out, 'image_norm_256', 'embed'),
  };
}

export async function seanCodes(ctx: GraphContext, e: ImageEmbedding): Promise<OrtTensor> {
  if (!e.codes) {
    const out = await ctx.run('sean_encode', { image_norm_256: need(e, 'image_norm_256'), mask: need(e, 'mask') });
    e.codes = pick(out, 'codes', 'sean_encode');
  }
  return e.codes;
}

export async function clipColor(ctx: GraphContext, e: ImageEmbedding): Promise<OrtTensor> {
  if (!e.clip) {
    const out = await ctx.run('clip_color', { image_norm_256: need(e, 'image_norm_256'), mask: need(e, 'mask') });
    e.clip = pick(out, 'embedding', 'clip_color');
  }
  return e.clip;
}
