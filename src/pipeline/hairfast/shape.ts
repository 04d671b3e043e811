import type { OrtTensor } from '../runtime/ort.js';
import { need, type ImageEmbedding } from './embed.js';
import { pick, type GraphContext } from './graphs.js';

/**
 * The shape module for (face, other): the other image's W+ rotated towards the face and parsed (`rotate`), then
 * the CtrlHair adaptor draws its hair on the face's layout. Returns the target label mask. It runs also when
 * `other` is the face itself, as in the official code (its Alignment's identity shortcut never fires: the
 * contract's `officialShortcuts`). The face code depends on the face only and is kept on the face object.
 */
export async function shapeModule(ctx: GraphContext, face: ImageEmbedding, other: ImageEmbedding): Promise<OrtTensor> {
  const rotMask = pick(await ctx.run('rotate', { w_face: need(face, 'w'), w_other: need(other, 'w') }), 'mask', 'rotate');
  face.face_code ??= pick(await ctx.run('ctrl_face_enc', { mask: need(face, 'mask') }), 'face_code', 'ctrl_face_enc');
  const hairCode = pick(await ctx.run('ctrl_hair_enc', { mask: rotMask }), 'hair_code', 'ctrl_hair_enc');
  const out = await ctx.run('ctrl_decode', { face_code: face.face_code, hair_code: hairCode });
  return pick(out, 'target_mask', 'ctrl_decode');
}
