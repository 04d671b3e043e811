import { checkGroup, type GraphContract } from './contract.js';

/** Blending (colour), post-process and the final generator pass. */
export const BLEND_IO = {
  blend_masks: {
    inputs: ['image_norm_face', 'image_norm_color', 'mask_face', 'mask_color', 'target_mask'],
    outputs: ['face_masked', 'color_masked'],
  },
  clip_visual: { inputs: ['image'], outputs: ['embedding'] },
  color_mod: { inputs: ['s_face', 's_color', 'emb_face', 'emb_color'], outputs: ['s_blend'] },
  g_f32_to_img: { inputs: ['s', 'f'], outputs: ['image_256'] },
  refine: { inputs: ['image_norm_face', 'blend_256'], outputs: ['s_final', 'f_final'] },
  g_f64_to_img: { inputs: ['s', 'f'], outputs: ['image'] },
} as const;

export function blendContract(contract: GraphContract) {
  return checkGroup(contract, BLEND_IO);
}
