import type { OrtTensor } from '../runtime/ort.js';
import { need, type ImageEmbedding } from './embed.js';
import { pick, type GraphContext } from './graphs.js';

/**
 * The shape module for (face, reference): rotate the reference's W+ towards the face, generate and parse it, and
 * let the shape adaptor draw the reference's hair on the face's layout. Returns the target label mask.
 */
export async function shapeModule(ctx: GraphContext, face: ImageEmbedding, ref: ImageEmbedding): Promise<OrtTensor> {
  const rotated = pick(await ctx.run('rotate', { w_face: need(face, 'w'), w_ref: need(ref, 'w') }), 'w_rot', 'rotate');
  const image = pick(await ctx.run('g_w_to_img', { w: rotated }), 'image', 'g_w_to_img');
  const maskRef = pick(await ctx.run('bisenet', { image }), 'mask', 'bisenet');
  const out = await ctx.run('shape_adaptor', { mask_face: need(face, 'mask'), mask_ref: maskRef });
  return pick(out, 'mask_target', 'shape_adaptor');
}
