import { checkGroup, type GraphContract } from './contract.js';

/** The shape module: rotate the reference towards the face, parse it, adapt the hair mask to the face. */
export const SHAPE_IO = {
  rotate: { inputs: ['w_face', 'w_ref'], outputs: ['w_rot'] },
  g_w_to_img: { inputs: ['w'], outputs: ['image'] },
  bisenet: { inputs: ['image'], outputs: ['mask'] },
  shape_adaptor: { inputs: ['mask_face', 'mask_ref'], outputs: ['mask_target'] },
} as const;

export function shapeContract(contract: GraphContract) {
  return checkGroup(contract, SHAPE_IO);
}
