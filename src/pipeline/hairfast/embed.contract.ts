import { checkGroup, type GraphContract } from './contract.js';

/** Per-image graphs: everything a preset alone decides, computed once and cached. */
export const EMBED_IO = {
  embed: { inputs: ['image'], outputs: ['w', 's', 'f', 'mask', 'image_norm_256'] },
  sean_encode: { inputs: ['image_norm_256', 'mask'], outputs: ['codes'] },
  clip_color: { inputs: ['image_norm_256', 'mask'], outputs: ['embedding'] },
} as const;

export function embedContract(contract: GraphContract) {
  return checkGroup(contract, EMBED_IO);
}
