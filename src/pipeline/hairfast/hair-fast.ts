import type { RgbImage } from '../engine.js';
import type { OrtTensor } from '../runtime/ort.js';
import { alignShape } from './align.js';
import { blendImages } from './blend.js';
import { need, type ImageEmbedding } from './embed.js';
import type { GraphContext } from './graphs.js';
import { fromImage01 } from './image-tensor.js';
import { pasteMask, type AlphaMap } from './paste-mask.js';
import { shapeModule } from './shape.js';

/**
 * The official swap flow (hair_swap.py, Alignment, Blending; graphs.contract.json's `flow`) over embeddings.
 * Identity of the embedding objects is what the official code's `is` checks test: the caller passes the face
 * object itself for "no shape" or "no colour", and one object for two identical references, so the work they
 * share runs once.
 */
export interface HairFastInput {
  face: ImageEmbedding;
  /** `face` itself when only the colour changes. */
  shape: ImageEmbedding;
  /** `face` itself when only the shape changes. */
  color: ImageEmbedding;
  /** Also compute the paste-back alpha. */
  withAlpha: boolean;
}

export interface HairFastOutput {
  image: RgbImage;
  /** Feathered hair+face alpha for paste-back (at the parsing masks' size), when asked for. */
  alpha?: AlphaMap;
  /** Milliseconds per stage: shape, align, shape_color, blend, alpha. */
  stages: Record<string, number>;
}

export async function hairFast(ctx: GraphContext, input: HairFastInput): Promise<HairFastOutput> {
  const { face, shape, color } = input;
  const stages: Record<string, number> = {};
  const timed = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      stages[stage] = (stages[stage] ?? 0) + performance.now() - t0;
    }
  };
  const allIdentical = shape === face && color === face;
  // Official Embedding mixes F with the e4e F in the hair only when there is more than one distinct image.
  const fOf = (e: ImageEmbedding): OrtTensor => (allIdentical ? need(e, 'f') : need(e, 'f_mix'));

  let fAlign: OrtTensor;
  let targetShape: OrtTensor;
  if (shape === face) {
    fAlign = fOf(face);
    targetShape = need(face, 'mask');
  } else {
    targetShape = await timed('shape', () => shapeModule(ctx, face, shape));
    fAlign = await timed('align', () => alignShape(ctx, face, shape, targetShape, fOf));
  }

  const targetColor = color === shape ? targetShape : await timed('shape_color', () => shapeModule(ctx, face, color));

  const image01 = await timed('blend', () => blendImages(ctx, { face, color, targetColor, fAlign, allIdentical }));
  const image = fromImage01(image01);
  const alpha = input.withAlpha ? await timed('alpha', async () => pasteMask(need(face, 'mask'), targetColor)) : undefined;
  return { image, ...(alpha ? { alpha } : {}), stages };
}
