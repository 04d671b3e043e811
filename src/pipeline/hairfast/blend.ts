import type { OrtTensor } from '../runtime/ort.js';
import { need, type ImageEmbedding } from './embed.js';
import { pick, type GraphContext } from './graphs.js';

export interface BlendInput {
  face: ImageEmbedding;
  color: ImageEmbedding;
  /** Target mask of the (face, color) shape module: decides where the colour goes. */
  targetColor: OrtTensor;
  fAlign: OrtTensor;
}

/** The colour image's hair embedding (`color_masked` through CLIP): depends on it alone, so presets cache it. */
export async function colorEmbedding(ctx: GraphContext, color: ImageEmbedding): Promise<OrtTensor> {
  if (!color.clip) {
    // blend_masks' color_masked uses only the colour inputs; the face inputs are the colour's own here.
    const out = await ctx.run('blend_masks', {
      image_norm_face: need(color, 'image_norm_256'),
      image_norm_color: need(color, 'image_norm_256'),
      mask_face: need(color, 'mask'),
      mask_color: need(color, 'mask'),
      target_mask: need(color, 'mask'),
    });
    const masked = pick(out, 'color_masked', 'blend_masks');
    color.clip = pick(await ctx.run('clip_visual', { image: masked }), 'embedding', 'clip_visual');
  }
  return color.clip;
}

/**
 * Blending (S from the colour reference), generator to 256, post-process, final generator pass → image01.
 * Blending runs also when face, shape and colour are one image (the official shortcut to S_face never fires).
 */
export async function blendImages(ctx: GraphContext, input: BlendInput): Promise<OrtTensor> {
  const { face, color } = input;
  const masks = await ctx.run('blend_masks', {
    image_norm_face: need(face, 'image_norm_256'),
    image_norm_color: need(color, 'image_norm_256'),
    mask_face: need(face, 'mask'),
    mask_color: need(color, 'mask'),
    target_mask: input.targetColor,
  });
  const embFace = pick(await ctx.run('clip_visual', { image: pick(masks, 'face_masked', 'blend_masks') }), 'embedding', 'clip_visual');
  // A colour reference's embedding is its own (as its preset cache holds it; `color_masked` depends on the colour
  // image alone); the face as its own colour takes this request's. The `swap` graph does the same.
  const embColor = color === face
    ? pick(await ctx.run('clip_visual', { image: pick(masks, 'color_masked', 'blend_masks') }), 'embedding', 'clip_visual')
    : await colorEmbedding(ctx, color);
  const mod = await ctx.run('color_mod', { s_face: need(face, 's'), s_color: need(color, 's'), emb_face: embFace, emb_color: embColor });
  const sBlend = pick(mod, 's_blend', 'color_mod');
  const blend256 = pick(await ctx.run('g_f32_to_img', { s: sBlend, f: input.fAlign }), 'image_256', 'g_f32_to_img');
  const refined = await ctx.run('refine', { image_norm_face: need(face, 'image_norm_256'), blend_256: blend256 });
  const out = await ctx.run('g_f64_to_img', { s: pick(refined, 's_final', 'refine'), f: pick(refined, 'f_final', 'refine') });
  return pick(out, 'image', 'g_f64_to_img');
}
