import type { RgbImage } from '../engine.js';
import type { OrtTensor } from '../runtime/ort.js';
import { alignShape } from './align.js';
import { blendImages, pasteAlpha } from './blend.js';
import { need, type ImageEmbedding } from './embed.js';
import type { GraphContext } from './graphs.js';
import { shapeModule } from './shape.js';

/**
 * The official swap flow (hair_swap.py, Alignment, Blending) over embeddings. Identity of the embedding objects
 * is what the official code's `is` checks test: the caller passes the face object itself for "no shape" or
 * "no colour", and one object for two identical references, and the work they share runs once.
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
  /** 1024² single-channel alpha for paste-back, when asked for. */
  alpha?: Uint8Array;
  /** Milliseconds per stage: shape, align, mask_x, blend, alpha. */
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

  let fAlign: OrtTensor;
  let maskTarget: OrtTensor;
  if (shape === face) {
    fAlign = need(face, 'f');
    maskTarget = need(face, 'mask');
  } else {
    maskTarget = await timed('shape', () => shapeModule(ctx, face, shape));
    fAlign = await timed('align', () => alignShape(ctx, face, shape, maskTarget));
  }

  let maskX: OrtTensor;
  if (color === shape) maskX = maskTarget;
  else if (color === face) maskX = need(face, 'mask');
  else maskX = await timed('shape_color', () => shapeModule(ctx, face, color));

  const allIdentical = shape === face && color === face;
  const image = await timed('blend', () => blendImages(ctx, { face, color, maskX, fAlign, allIdentical }));
  const alpha = input.withAlpha ? await timed('alpha', () => pasteAlpha(ctx, face, maskX)) : undefined;
  return {
    image: { data: image.data as Uint8Array, width: image.dims[2]!, height: image.dims[1]! },
    ...(alpha ? { alpha: alpha.data as Uint8Array } : {}),
    stages,
  };
}
