import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { PipelineConfig } from '../shared/config.js';
import { HairError, isHairError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { isPresetId, parsePresetId, presetServes, presetSlug, readStylesManifest, type PresetKind, type PresetSlot } from '../shared/presets.js';
import { sha256 } from '../shared/sha256.js';
import type {
  EngineInfo, HairReference, PipelineStage, PresetBuildResult, PresetCacheStore, RgbImage, TryOnEngine, TryOnRequest, TryOnResult,
} from './engine.js';
import { alignFace, alignFaceOptions, faceModelPaths, faceStageProviders, loadFaceSessions, type AlignedFace, type FaceSessions } from './front-end.js';
import { createFilePresetCacheStore } from './hairfast/file-preset-cache-store.js';
import { embedImage, type ImageEmbedding } from './hairfast/embed.js';
import { graphContext, loadHairfastGraphs, type Feeds, type GraphContext } from './hairfast/graphs.js';
import { createRowBatcher } from './hairfast/row-batcher.js';
import { hairFast, hairfastTimings } from './hairfast/hair-fast.js';
import { createPresetLibrary, type PresetSource } from './hairfast/preset-library.js';
import { intake, intakeLimits } from './intake.js';
import { pasteBack } from './paste-back.js';
import { createSessionManager, type SessionManager } from './runtime/ort.js';

export type { TryOnEngine } from './engine.js';

/**
 * The try-on engine the worker, the bot's tests and the CLI call: intake → face front-end → HairFastGAN →
 * paste-back, over sessions created once. Presets are resolved through their cache (built on first use for
 * built-ins, and whenever the models change), so a request only runs per-selfie work.
 */
export type EngineConfig = Pick<PipelineConfig,
  'MODELS_DIR' | 'STYLES_DIR' | 'PRESET_CACHE_DIR' | 'HAIR_EP' | 'FACE_DETECT_EP' | 'FACE_LANDMARKS_EP' | 'HAIR_PRECISION' | 'ORT_INTRA_OP_THREADS' | 'MAX_IMAGE_BYTES' | 'MAX_IMAGE_PIXELS'
  | 'HAIR_BATCH_MAX' | 'HAIR_BATCH_WAIT_MS' | 'HAIR_SWAP' | 'PIPELINE_THREAD'
  | 'MIN_IMAGE_SIDE' | 'FACE_MIN_SCORE' | 'FACE_MIN_SIZE_PX' | 'FACE_DOMINANCE_RATIO' | 'FACE_MAX_YAW_DEG' | 'ALIGN_OUTPUT_SIZE'>;

export interface TryOnEngineDeps {
  logger?: Logger;
  /** A session manager to share (its owner disposes it); by default the engine makes and disposes its own. */
  manager?: SessionManager;
  /** Cache store for moderators' presets (the worker passes a Redis one). @defaultValue the file store */
  presetCache?: PresetCacheStore;
  /** Cache store for built-in presets. @defaultValue files in PRESET_CACHE_DIR */
  builtinPresetCache?: PresetCacheStore;
  /** The image of a non-built-in preset, to rebuild its cache when the models changed; null = unknown preset. */
  presetSource?: (presetId: string) => Promise<PresetSource | null>;
  /** Run each graph once at load. @defaultValue true */
  warm?: boolean;
}

function checkAborted(signal: AbortSignal | undefined, stage: string): void {
  if (signal?.aborted) throw new HairError('JOB_CANCELLED', { stage });
}

export async function createTryOnEngine(config: EngineConfig, deps: TryOnEngineDeps = {}): Promise<TryOnEngine> {
  const started = performance.now();
  const logger = deps.logger;
  const manager = deps.manager ?? createSessionManager(config, logger ? { logger } : {});
  const ownsManager = !deps.manager;
  let faceSessions: FaceSessions;
  let graphs: Awaited<ReturnType<typeof loadHairfastGraphs>>;
  try {
    faceSessions = await loadFaceSessions(manager, faceModelPaths(config.MODELS_DIR), faceStageProviders(config));
    graphs = await loadHairfastGraphs({
      modelsDir: config.MODELS_DIR, warm: deps.warm ?? true, precision: config.HAIR_PRECISION, composites: config.HAIR_SWAP,
    }, { manager, ...(logger ? { logger } : {}) });
  } catch (error) {
    if (ownsManager) await manager.dispose();
    throw error;
  }
  // Concurrent try-ons share `swap` runs: a batch goes when full, when every running try-on has reached it, or after
  // HAIR_BATCH_WAIT_MS. `approaching` counts try-ons that have started and not yet reached swap (nor ended).
  let approaching = 0;
  const swapBatcher = createRowBatcher((feeds) => graphs.run('swap', feeds), graphs.tensor, {
    maxBatch: config.HAIR_BATCH_MAX, maxWaitMs: config.HAIR_BATCH_WAIT_MS, stillComing: () => approaching,
  });
  /** One try-on's view of the graphs: `swap` through the batcher, counted as arrived on its first call. */
  const requestGraphs = () => {
    let arrived = false;
    const arrive = () => {
      if (arrived) return;
      arrived = true;
      approaching--;
    };
    approaching++;
    return {
      view: {
        has: graphs.has,
        tensor: graphs.tensor,
        run: (graph: string, feeds: Feeds) => {
          if (graph !== 'swap') return graphs.run(graph, feeds);
          arrive();
          return swapBatcher.run(feeds);
        },
      },
      done() {
        if (arrived) return;
        arrive();
        swapBatcher.recheck();
      },
    };
  };
  const styles = readStylesManifest(config.STYLES_DIR);
  const builtinStore = deps.builtinPresetCache ?? createFilePresetCacheStore(config.PRESET_CACHE_DIR);
  const otherStore = deps.presetCache ?? builtinStore;
  const limits = intakeLimits(config);
  // HairFastGAN works on 1024² FFHQ crops whatever ALIGN_OUTPUT_SIZE says (that setting is for `align`).
  const alignOptions = { ...alignFaceOptions(config), outputSize: 1024 };
  const info: EngineInfo = Object.freeze({
    executionProvider: graphs.executionProvider,
    modelKind: graphs.kind,
    precision: graphs.precision,
    loadMs: performance.now() - started,
    licenses: graphs.licenses,
  });
  logger?.info({ ...info, loadMs: Math.round(info.loadMs) }, `try-on engine ready (hairfast ${graphs.kind} ${graphs.precision} on ${graphs.executionProvider})`);

  const decodeAndAlign = async (bytes: Uint8Array, singleFace: boolean, signal?: AbortSignal): Promise<{ photo: RgbImage; aligned: AlignedFace }> => {
    const { image: photo } = await intake(bytes, limits);
    checkAborted(signal, 'detecting');
    const aligned = await alignFace(photo, faceSessions, singleFace ? { ...alignOptions, dominanceRatio: 0 } : alignOptions);
    return { photo, aligned };
  };

  const isBuiltin = (presetId: string) => parsePresetId(presetId)?.source === 'builtin';
  const builtinSource = async (presetId: string): Promise<PresetSource | null> => {
    const entry = styles?.presets.find((p) => p.id === presetId);
    if (!entry) return null;
    return { kind: entry.kind, image: new Uint8Array(await readFile(join(config.STYLES_DIR, entry.image))) };
  };

  const library = createPresetLibrary({
    graphs,
    storeFor: (presetId) => (isBuiltin(presetId) ? builtinStore : otherStore),
    source: async (presetId) => (isBuiltin(presetId) ? builtinSource(presetId) : (await deps.presetSource?.(presetId)) ?? null),
    alignPreset: async (image, signal) => (await decodeAndAlign(image, true, signal)).aligned.aligned,
    ...(logger ? { logger } : {}),
  });

  /** A reference image's errors name its role, so the user knows which picture was the problem. */
  const withRole = async <T>(role: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (isHairError(error) && error.userFacing && error.params['role'] === undefined) {
        throw error.withParams({ role });
      }
      throw error;
    }
  };

  /** Per request: the embeddings resolved so far by key ('face', a preset id, 'image:<sha256>'), so one image is one object. */
  type Seen = Map<string, { embedding: ImageEmbedding; kind?: PresetKind }>;

  const resolve = async (
    ctx: GraphContext, ref: HairReference, role: PresetSlot, seen: Seen, selfieHash: string, signal?: AbortSignal,
  ): Promise<ImageEmbedding> => {
    let key: string;
    if ('presetId' in ref) key = ref.presetId;
    else {
      const hash = sha256(ref.image);
      key = hash === selfieHash ? 'face' : `image:${hash}`;
    }
    const known = seen.get(key);
    if (known) {
      // The same preset for both roles must serve both.
      if (known.kind && !presetServes(known.kind, role)) throw new HairError('PRESET_KIND_MISMATCH', { name: presetSlug(key), kind: role, preset: key, role });
      return known.embedding;
    }
    if ('presetId' in ref) {
      if (!isPresetId(ref.presetId)) throw new HairError('PRESET_NOT_FOUND', { name: presetSlug(ref.presetId), preset: ref.presetId });
      const preset = await library.get(ctx, ref.presetId, role, signal);
      seen.set(key, { embedding: preset.embedding, kind: preset.kind });
      return preset.embedding;
    }
    const { aligned } = await withRole(role, () => decodeAndAlign(ref.image, false, signal));
    const embedding = await embedImage(ctx, key, aligned.aligned);
    seen.set(key, { embedding });
    return embedding;
  };

  type GraphsView = ReturnType<typeof requestGraphs>['view'];
  const tryOn = async (request: TryOnRequest): Promise<TryOnResult> => {
    const arrival = requestGraphs();
    try {
      return await tryOnWith(request, arrival.view);
    } finally {
      arrival.done();
    }
  };

  const tryOnWith = async (request: TryOnRequest, view: GraphsView): Promise<TryOnResult> => {
    const t0 = performance.now();
    const timings: Record<string, number> = {};
    const { signal } = request;
    const stage = (name: PipelineStage) => {
      checkAborted(signal, name);
      request.onStage?.(name);
    };
    const lap = (name: string, since: number) => {
      timings[name] = (timings[name] ?? 0) + performance.now() - since;
      return performance.now();
    };
    if (!request.shape && !request.color) throw new HairError('NEED_SHAPE_OR_COLOR');
    stage('detecting');
    let t = performance.now();
    // Paste-back returns the photo at its own size, so it works on the full-size image; otherwise the intake's
    // working copy (long side capped) is all the front-end needs.
    const { image: photo } = await intake(request.selfie, limits, request.pasteBack ? { maxLongSide: 0 } : {});
    t = lap('intake', t);
    checkAborted(signal, 'detecting');
    const aligned = await alignFace(photo, faceSessions, alignOptions);
    t = lap('frontEnd', t);
    stage('aligning');
    const ctx = graphContext(view, signal);
    const face = await embedImage(ctx, 'face', aligned.aligned);
    t = lap('embedFace', t);
    const seen: Seen = new Map([['face', { embedding: face }]]);
    const selfieHash = sha256(request.selfie);
    const shape = request.shape ? await resolve(ctx, request.shape, 'shape', seen, selfieHash, signal) : face;
    const color = request.color ? await resolve(ctx, request.color, 'color', seen, selfieHash, signal) : face;
    t = lap('references', t);
    stage('transferring');
    const out = await hairFast(ctx, { face, shape, color, withAlpha: request.pasteBack });
    t = lap('hairfast', t);
    Object.assign(timings, hairfastTimings(out, ctx));
    let image = out.image;
    if (request.pasteBack) {
      stage('pasting');
      image = pasteBack({
        photo, result: out.image, ...(out.alpha ? { alpha: out.alpha } : {}),
        transform: aligned.transform, inverse: aligned.inverse, alignedSize: aligned.aligned.width,
      });
      t = lap('pasteBack', t);
    }
    timings['total'] = performance.now() - t0;
    return { image, timings, modelKind: graphs.kind, graphRuns: Object.fromEntries(ctx.runs) };
  };

  const buildPreset = async (presetId: string, kind: PresetKind, image: Uint8Array, signal?: AbortSignal): Promise<PresetBuildResult> => {
    if (!isPresetId(presetId)) throw new HairError('PRESET_NAME_INVALID', { preset: presetId });
    const ctx = graphContext(graphs, signal);
    const built = await library.build(ctx, presetId, { kind, image }, signal);
    const thumb = built.aligned!;
    const thumbnail = await sharp(thumb.data, { raw: { width: thumb.width, height: thumb.height, channels: 3 } })
      .resize(256, 256).jpeg({ quality: 85 }).toBuffer();
    return { presetId, kind, thumbnail: new Uint8Array(thumbnail), cacheBytes: built.cacheBytes };
  };

  let disposed: Promise<void> | undefined;
  return {
    info,
    tryOn,
    buildPreset,
    dispose() {
      disposed ??= ownsManager ? manager.dispose() : Promise.resolve();
      return disposed;
    },
  };
}
