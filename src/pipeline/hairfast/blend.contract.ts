import { checkGroup, type GraphContract } from './contract.js';

/** Blending, post-process and the final generator pass, plus the paste-back alpha. */
export const BLEND_IO = {
  blend: {
    inputs: ['s_face', 's_color', 'image_norm_face', 'mask_face', 'mask_color', 'mask_x', 'clip_color'],
    outputs: ['s_blend'],
  },
  g_blend: { inputs: ['s_blend', 'f_align'], outputs: ['image_256'] },
  refine: { inputs: ['image_norm_face', 'image_blend_256'], outputs: ['s_final', 'f_final'] },
  g_final: { inputs: ['s_final', 'f_final'], outputs: ['image'] },
  paste_mask: { inputs: ['mask_face', 'mask_x'], outputs: ['alpha'] },
} as const;

export function blendContract(contract: GraphContract) {
  return checkGroup(contract, BLEND_IO);
}
