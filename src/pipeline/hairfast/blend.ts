import type { OrtTensor } from '../runtime/ort.js';
import { clipColor, need, type ImageEmbedding } from './embed.js';
import { pick, type GraphContext } from './graphs.js';

export interface BlendInput {
  face: ImageEmbedding;
  color: ImageEmbedding;
  /** Target hair labels of (face, color): decides where the colour goes. */
  maskX: OrtTensor;
  fAlign: OrtTensor;
  /** Face, shape and colour are one image: S is the face's own, no blending. */
  allIdentical: boolean;
}

/** Blending (S from the colour reference), generator to 256, post-process, final generator pass → uint8 HWC. */
export async function blendImages(ctx: GraphContext, input: BlendInput): Promise<OrtTensor> {
  const { face, color } = input;
  const sBlend = input.allIdentical
    ? need(face, 's')
    : pick(await ctx.run('blend', {
      s_face: need(face, 's'),
      s_color: need(color, 's'),
      image_norm_face: need(face, 'image_norm_256'),
      mask_face: need(face, 'mask'),
      mask_color: need(color, 'mask'),
      mask_x: input.maskX,
      clip_color: await clipColor(ctx, color),
    }), 's_blend', 'blend');
  const blended = pick(await ctx.run('g_blend', { s_blend: sBlend, f_align: input.fAlign }), 'image_256', 'g_blend');
  const refined = await ctx.run('refine', { image_norm_face: need(face, 'image_norm_256'), image_blend_256: blended });
  const out = await ctx.run('g_final', { s_final: pick(refined, 's_final', 'refine'), f_final: pick(refined, 'f_final', 'refine') });
  return pick(out, 'image', 'g_final');
}

/** The feathered hair+face alpha (1024², uint8) that paste-back uses. */
export async function pasteAlpha(ctx: GraphContext, face: ImageEmbedding, maskX: OrtTensor): Promise<OrtTensor> {
  return pick(await ctx.run('paste_mask', { mask_face: need(face, 'mask'), mask_x: maskX }), 'alpha', 'paste_mask');
}
