import { checkGroup, type GraphContract } from './contract.js';

/** The shape module: rotate the other image towards the face and parse it, then the CtrlHair shape adaptor. */
export const SHAPE_IO = {
  rotate: { inputs: ['w_face', 'w_other'], outputs: ['mask'] },
  ctrl_face_enc: { inputs: ['mask'], outputs: ['face_code'] },
  ctrl_hair_enc: { inputs: ['mask'], outputs: ['hair_code'] },
  ctrl_decode: { inputs: ['face_code', 'hair_code'], outputs: ['target_mask'] },
} as const;

export function shapeContract(contract: GraphContract) {
  return checkGroup(contract, SHAPE_IO);
}
