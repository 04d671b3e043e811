import type { OrtTensor } from '../runtime/ort.js';
import { need, seanCodes, type ImageEmbedding } from './embed.js';
import { pick, type GraphContext } from './graphs.js';

/**
 * Alignment of F for (face, shape) on the target mask: SEAN repaints both images on the target layout, e4e brings
 * them back to F, and `align_f` composes face, repainted and shape features through the dilated/eroded masks.
 */
export async function alignShape(ctx: GraphContext, face: ImageEmbedding, shape: ImageEmbedding, maskTarget: OrtTensor): Promise<OrtTensor> {
  const decoded = await ctx.run('sean_decode', {
    codes_face: await seanCodes(ctx, face),
    codes_shape: await seanCodes(ctx, shape),
    mask_target: maskTarget,
  });
  const encoded = await ctx.run('e4e', {
    image_face: pick(decoded, 'image_face', 'sean_decode'),
    image_shape: pick(decoded, 'image_shape', 'sean_decode'),
  });
  const out = await ctx.run('align_f', {
    f_face: need(face, 'f'),
    f_shape: need(shape, 'f'),
    f_face_sean: pick(encoded, 'f_face', 'e4e'),
    f_shape_sean: pick(encoded, 'f_shape', 'e4e'),
    mask_face: need(face, 'mask'),
    mask_shape: need(shape, 'mask'),
    mask_target: maskTarget,
  });
  return pick(out, 'f_align', 'align_f');
}
