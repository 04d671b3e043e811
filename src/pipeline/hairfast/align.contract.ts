import { checkGroup, type GraphContract } from './contract.js';

/** Alignment: SEAN inpainting on the target mask, e4e back to F, F composition. */
export const ALIGN_IO = {
  sean_decode: { inputs: ['codes_face', 'codes_shape', 'mask_target'], outputs: ['image_face', 'image_shape'] },
  e4e: { inputs: ['image_face', 'image_shape'], outputs: ['f_face', 'f_shape'] },
  align_f: {
    inputs: ['f_face', 'f_shape', 'f_face_sean', 'f_shape_sean', 'mask_face', 'mask_shape', 'mask_target'],
    outputs: ['f_align'],
  },
} as const;

export function alignContract(contract: GraphContract) {
  return checkGroup(contract, ALIGN_IO);
}
