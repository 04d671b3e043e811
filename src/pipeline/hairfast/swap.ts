import type { OrtTensor } from '../runtime/ort.js';
import { colorEmbedding } from './blend.js';
import { need, seanCodes, type ImageEmbedding } from './embed.js';
import { pick, type Feeds, type GraphContext } from './graphs.js';
import type { GraphInput } from './graphs.contract.js';

/**
 * The `swap` composite (graphs.contract.json `composites`): all per-request work after the face's embedding in one
 * run. A role the face plays is a flag, and that slot is fed the face's own tensors (ignored by the graph) or, for
 * what the face has none of (SEAN codes, the colour's CLIP embedding), zeros. A reference that is not a cached preset
 * gets its slot tensors from the split graphs first (sean_encode, blend_masks + clip_visual), as a preset build does.
 */
export interface SwapRoles {
  face: ImageEmbedding;
  /** `face` itself when only the colour changes. */
  shape: ImageEmbedding;
  /** `face` itself when only the shape changes. */
  color: ImageEmbedding;
}

export interface SwapOutput {
  image01: OrtTensor;
  /** The (face, color) shape module's target mask: the paste-back alpha's hair. */
  targetColor: OrtTensor;
}

const CODES_DIMS = [1, 19, 512];
const CLIP_DIMS = [1, 512];

export async function swapFeeds(ctx: GraphContext, { face, shape, color }: SwapRoles): Promise<Feeds> {
  const flag = (value: boolean) => ctx.tensor({ dtype: 'bool', data: Uint8Array.of(value ? 1 : 0), dims: [1] });
  const zeros = (dims: number[]) => ctx.tensor({ dtype: 'float32', data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims });
  const shapeIsFace = shape === face;
  const colorIsFace = color === face;
  const feeds: Record<GraphInput<'swap'>, OrtTensor> = {
    face_mask: need(face, 'mask'),
    face_w: need(face, 'w'),
    face_s: need(face, 's'),
    face_f: need(face, 'f'),
    face_f_mix: need(face, 'f_mix'),
    face_image_256: need(face, 'image_256'),
    face_image_norm_256: need(face, 'image_norm_256'),
    shape_is_face: flag(shapeIsFace),
    shape_w: need(shape, 'w'),
    shape_mask: need(shape, 'mask'),
    shape_f_mix: need(shape, 'f_mix'),
    shape_codes: shapeIsFace ? zeros(CODES_DIMS) : await seanCodes(ctx, shape),
    color_is_face: flag(colorIsFace),
    color_w: need(color, 'w'),
    color_s: need(color, 's'),
    color_mask: need(color, 'mask'),
    color_image_norm_256: need(color, 'image_norm_256'),
    color_clip: colorIsFace ? zeros(CLIP_DIMS) : await colorEmbedding(ctx, color),
  };
  return feeds;
}

export async function swapGraph(ctx: GraphContext, roles: SwapRoles): Promise<SwapOutput> {
  const out = await ctx.run('swap', await swapFeeds(ctx, roles));
  return { image01: pick(out, 'image', 'swap'), targetColor: pick(out, 'target_mask_color', 'swap') };
}
