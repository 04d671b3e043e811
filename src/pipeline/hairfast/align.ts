import type { OrtTensor } from '../runtime/ort.js';
import { need, seanCodes, type ImageEmbedding } from './embed.js';
import { pick, type GraphContext } from './graphs.js';

/** Two [1,…] tensors stacked into one [2,…] (the batch-2 graphs' input): a copy of the two small code tables. */
function stack(ctx: GraphContext, a: OrtTensor, b: OrtTensor): OrtTensor {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  const data = new Float32Array(x.length + y.length);
  data.set(x, 0);
  data.set(y, x.length);
  return ctx.tensor({ dtype: 'float32', data, dims: [2, ...a.dims.slice(1)] });
}

/**
 * Alignment of F for (face, shape) on the shape's target mask: SEAN repaints both images on the target layout,
 * e4e brings them back to F, and `align_f` composes face, repainted and shape features through the masks.
 * `fOf` picks F as the official code does (f_mix unless face, shape and colour are one image). It runs also when
 * the shape is the face (both halves of the SEAN batch are then the face's codes), as the official code does.
 */
export async function alignShape(
  ctx: GraphContext, face: ImageEmbedding, shape: ImageEmbedding, targetMask: OrtTensor, fOf: (e: ImageEmbedding) => OrtTensor,
): Promise<OrtTensor> {
  const codes = stack(ctx, await seanCodes(ctx, face), await seanCodes(ctx, shape));
  const images = pick(await ctx.run('sean_decode', { codes, target_mask: targetMask }), 'images', 'sean_decode');
  const fE4e = pick(await ctx.run('e4e', { images }), 'f', 'e4e');
  const out = await ctx.run('align_f', {
    f_face: fOf(face),
    f_shape: fOf(shape),
    f_e4e: fE4e,
    mask_face: need(face, 'mask'),
    mask_shape: need(shape, 'mask'),
    target_mask: targetMask,
  });
  return pick(out, 'f_align', 'align_f');
}
