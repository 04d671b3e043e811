import type { PipelineConfig } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import { sha256 } from '../shared/sha256.js';
import type { EngineInfo, RgbImage } from './engine.js';
import { embedImage, type ImageEmbedding } from './hairfast/embed.js';
import { graphContext, loadHairfastGraphs } from './hairfast/graphs.js';
import { hairFast, hairfastTimings } from './hairfast/hair-fast.js';
import { createSessionManager } from './runtime/ort.js';

/**
 * HairFastGAN alone on images that are already FFHQ-aligned 1024² crops: no intake limits, no face detection or
 * alignment, no paste-back, no presets. For parity runs against the official `HairFast.swap`, which takes aligned
 * images, and for debugging the graphs. The try-on engine (index.ts) is the path for photos.
 */
export type AlignedTransferConfig = Pick<PipelineConfig, 'MODELS_DIR' | 'HAIR_EP' | 'HAIR_PRECISION' | 'ORT_INTRA_OP_THREADS'>
  & Partial<Pick<PipelineConfig, 'HAIR_SWAP'>>;

export interface AlignedTransferDeps {
  logger?: Logger;
  /** Run each graph once at load. @defaultValue false (one-shot runs gain nothing from it) */
  warm?: boolean;
}

export interface AlignedTransferInput {
  face: RgbImage;
  /** Omitted: the face's own shape. */
  shape?: RgbImage;
  /** Omitted: the face's own colour. */
  color?: RgbImage;
}

export interface AlignedTransferResult {
  /** 1024² 8-bit RGB. */
  image: RgbImage;
  /** The unrounded result, NCHW float32 in [0,1] (the contract's `image01`). */
  image01: Float32Array;
  timings: Record<string, number>;
  graphRuns: Record<string, number>;
}

export interface AlignedTransfer {
  readonly info: EngineInfo;
  run(input: AlignedTransferInput): Promise<AlignedTransferResult>;
  dispose(): Promise<void>;
}

export async function createAlignedTransfer(config: AlignedTransferConfig, deps: AlignedTransferDeps = {}): Promise<AlignedTransfer> {
  const started = performance.now();
  const manager = createSessionManager(config, deps.logger ? { logger: deps.logger } : {});
  let graphs: Awaited<ReturnType<typeof loadHairfastGraphs>>;
  try {
    graphs = await loadHairfastGraphs({ modelsDir: config.MODELS_DIR, warm: deps.warm ?? false, precision: config.HAIR_PRECISION, ...(config.HAIR_SWAP ? { composites: config.HAIR_SWAP } : {}) }, { manager, ...(deps.logger ? { logger: deps.logger } : {}) });
  } catch (error) {
    await manager.dispose();
    throw error;
  }
  const info: EngineInfo = Object.freeze({ executionProvider: graphs.executionProvider, modelKind: graphs.kind, precision: graphs.precision, loadMs: performance.now() - started });

  const run = async (input: AlignedTransferInput): Promise<AlignedTransferResult> => {
    const t0 = performance.now();
    const ctx = graphContext(graphs);
    // Identical pixels are one image, as after the official equal_replacer: its per-image work runs once.
    const byPixels = new Map<string, ImageEmbedding>();
    const embed = async (role: string, image: RgbImage): Promise<ImageEmbedding> => {
      const hash = sha256(image.data);
      let e = byPixels.get(hash);
      if (!e) {
        e = await embedImage(ctx, role, image);
        byPixels.set(hash, e);
      }
      return e;
    };
    const face = await embed('face', input.face);
    const shape = input.shape ? await embed('shape', input.shape) : face;
    const color = input.color ? await embed('color', input.color) : face;
    const out = await hairFast(ctx, { face, shape, color, withAlpha: false });
    const timings = hairfastTimings(out, ctx);
    timings['total'] = performance.now() - t0;
    return { image: out.image, image01: out.image01.data as Float32Array, timings, graphRuns: Object.fromEntries(ctx.runs) };
  };

  let disposed: Promise<void> | undefined;
  return {
    info,
    run,
    dispose() {
      disposed ??= manager.dispose();
      return disposed;
    },
  };
}
