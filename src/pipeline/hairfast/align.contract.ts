import { checkGroup, type GraphContract } from './contract.js';

/** Alignment: SEAN repaints face and shape on the target mask, e4e brings them back to F, F composition. */
export const ALIGN_IO = {
  sean_decode: { inputs: ['codes', 'target_mask'], outputs: ['images'] },
  e4e: { inputs: ['images'], outputs: ['w', 'f'] },
  align_f: { inputs: ['f_face', 'f_shape', 'f_e4e', 'mask_face', 'mask_shape', 'target_mask'], outputs: ['f_align'] },
} as const;

export function alignContract(contract: GraphContract) {
  return checkGroup(contract, ALIGN_IO);
}
