import { checkGroup, type GraphContract } from './contract.js';

/** Per-image graphs: everything a preset alone decides, computed once and cached. */
export const EMBED_IO = {
  bisenet: { inputs: ['image'], outputs: ['mask'] },
  embed: { inputs: ['image', 'mask'], outputs: ['w', 's', 'f', 'f_mix', 'image_256', 'image_norm_256'] },
  sean_encode: { inputs: ['image_256', 'mask'], outputs: ['codes'] },
} as const;

export function embedContract(contract: GraphContract) {
  return checkGroup(contract, EMBED_IO);
}
