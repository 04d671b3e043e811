import type { RgbImage } from '../engine.js';
import type { OrtTensor } from '../runtime/ort.js';
import { alignShape } from './align.js';
import { blendImages } from './blend.js';
import { need, type ImageEmbedding } from './embed.js';
import type { GraphContext } from './graphs.js';
import { fromImage01 } from './image-tensor.js';
import { pasteMask, type AlphaMap } from './paste-mask.js';
import { shapeModule } from './shape.js';
import { swapGraph } from './swap.js';

/**
 * The official swap flow (hair_swap.py, Alignment, Blending; graphs.contract.json's `flow`) over embeddings.
 * One image for several roles is one embedding object (the caller passes the face object itself for "no shape" or
 * "no colour"), so its per-image work runs once. The shape module, alignment and blending always run in full,
 * also for the face image itself: the official identity shortcuts never fire (the contract's `officialShortcuts`).
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
  /** The same result before 8-bit rounding: the contract's `image01` ([1,3,H,W] float32 in [0,1]). */
  image01: OrtTensor;
  /** Feathered hair+face alpha for paste-back (at the parsing masks' size), when asked for. */
  alpha?: AlphaMap;
  /** Milliseconds per stage: swap (merged), or shape, align, shape_color, blend (split); alpha. */
  stages: Record<string, number>;
}

/**
 * The swap for one request: one `swap` run when that composite is installed (a cached-preset request then makes
 * bisenet, embed and swap: 3 runs), else the split chain. Both give the same image (tests/pipeline/hairfast/swap.test.ts).
 */
export async function hairFast(ctx: GraphContext, input: HairFastInput): Promise<HairFastOutput> {
  return ctx.has('swap') ? hairFastMerged(ctx, input) : hairFastSplit(ctx, input);
}

type Timed = <T>(stage: string, work: () => Promise<T>) => Promise<T>;

function stageTimer(): { stages: Record<string, number>; timed: Timed } {
  const stages: Record<string, number> = {};
  const timed: Timed = async (stage, work) => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      stages[stage] = (stages[stage] ?? 0) + performance.now() - t0;
    }
  };
  return { stages, timed };
}

async function finish(input: HairFastInput, image01: OrtTensor, targetColor: OrtTensor, stages: Record<string, number>, timed: Timed): Promise<HairFastOutput> {
  const image = fromImage01(image01);
  const alpha = input.withAlpha ? await timed('alpha', async () => pasteMask(need(input.face, 'mask'), targetColor)) : undefined;
  return { image, image01, ...(alpha ? { alpha } : {}), stages };
}

export async function hairFastMerged(ctx: GraphContext, input: HairFastInput): Promise<HairFastOutput> {
  const { stages, timed } = stageTimer();
  const out = await timed('swap', () => swapGraph(ctx, input));
  return finish(input, out.image01, out.targetColor, stages, timed);
}

export async function hairFastSplit(ctx: GraphContext, input: HairFastInput): Promise<HairFastOutput> {
  const { face, shape, color } = input;
  const { stages, timed } = stageTimer();
  // Official Embedding mixes F with the e4e F in the hair only when there is more than one distinct image.
  const mixed = new Set([face, shape, color]).size > 1;
  const fOf = (e: ImageEmbedding): OrtTensor => need(e, mixed ? 'f_mix' : 'f');

  const targetShape = await timed('shape', () => shapeModule(ctx, face, shape));
  const fAlign = await timed('align', () => alignShape(ctx, face, shape, targetShape, fOf));
  // The official code compares the input images here (not their embeddings), so this reuse does happen.
  const targetColor = color === shape ? targetShape : await timed('shape_color', () => shapeModule(ctx, face, color));

  const image01 = await timed('blend', () => blendImages(ctx, { face, color, targetColor, fAlign }));
  return finish(input, image01, targetColor, stages, timed);
}

/** A request's HairFastGAN timings: `hairfast.<stage>` and `graph.<name>` (summed over the request's runs), in ms. */
export function hairfastTimings(out: Pick<HairFastOutput, 'stages'>, ctx: Pick<GraphContext, 'ms'>): Record<string, number> {
  const timings: Record<string, number> = {};
  for (const [name, ms] of Object.entries(out.stages)) timings[`hairfast.${name}`] = ms;
  for (const [name, ms] of ctx.ms) timings[`graph.${name}`] = ms;
  return timings;
}
