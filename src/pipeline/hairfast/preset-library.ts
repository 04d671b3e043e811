import type { PresetCacheStore, RgbImage } from '../engine.js';
import { HairError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { presetServes, presetSlug, type PresetKind, type PresetSlot } from '../../shared/presets.js';
import { colorEmbedding } from './blend.js';
import { embedImage, seanCodes, type ImageEmbedding } from './embed.js';
import type { GraphContext, HairfastGraphs } from './graphs.js';
import { decodePresetCache, encodePresetCache, presetCacheKey } from './preset-cache.js';

/**
 * Preset embeddings by id: read from the cache store, or built from the preset's image when the entry is missing
 * or stale (other models, other format) and stored for next time. Concurrent requests for one preset share one
 * build.
 */
export interface PresetSource {
  kind: PresetKind;
  /** The preset's photo, raw bytes. */
  image: Uint8Array;
}

export interface PresetLibraryDeps {
  graphs: HairfastGraphs;
  /** Which store keeps a preset's cache (built-ins: files; moderators' presets: Redis). */
  storeFor(presetId: string): PresetCacheStore;
  /** The image a preset is (re)built from, or null if the preset does not exist. */
  source(presetId: string): Promise<PresetSource | null>;
  /** Photo bytes → aligned 1024² face, with exactly one usable face. */
  alignPreset(image: Uint8Array, signal?: AbortSignal): Promise<RgbImage>;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export interface BuiltPreset {
  embedding: ImageEmbedding;
  kind: PresetKind;
  aligned?: RgbImage;
  cacheBytes: number;
  /** True when this call computed it (no usable cache entry). */
  built: boolean;
}

export interface PresetLibrary {
  /** The preset's embedding for a role; PRESET_NOT_FOUND or PRESET_KIND_MISMATCH otherwise. */
  get(ctx: GraphContext, presetId: string, role: PresetSlot | 'any', signal?: AbortSignal): Promise<BuiltPreset>;
  /** Computes and stores a preset's cache from its image (replacing any entry). */
  build(ctx: GraphContext, presetId: string, source: PresetSource, signal?: AbortSignal): Promise<BuiltPreset>;
}

export function createPresetLibrary(deps: PresetLibraryDeps): PresetLibrary {
  const { graphs } = deps;
  const inFlight = new Map<string, Promise<BuiltPreset>>();

  const build = async (ctx: GraphContext, presetId: string, source: PresetSource, signal?: AbortSignal): Promise<BuiltPreset> => {
    const aligned = await deps.alignPreset(source.image, signal);
    const embedding = await embedImage(ctx, presetId, aligned);
    if (presetServes(source.kind, 'shape')) await seanCodes(ctx, embedding);
    if (presetServes(source.kind, 'color')) await colorEmbedding(ctx, embedding);
    const bytes = encodePresetCache({ presetId, kind: source.kind, modelsHash: graphs.modelsHash, embedding });
    await deps.storeFor(presetId).set(presetCacheKey(presetId, graphs.modelsHash), bytes);
    deps.logger?.info({ presetId, kind: source.kind, cacheBytes: bytes.byteLength, modelKind: graphs.kind }, 'preset cache built');
    return { embedding, kind: source.kind, aligned, cacheBytes: bytes.byteLength, built: true };
  };

  const load = async (ctx: GraphContext, presetId: string, signal?: AbortSignal): Promise<BuiltPreset> => {
    const key = presetCacheKey(presetId, graphs.modelsHash);
    const cached = await deps.storeFor(presetId).get(key);
    if (cached) {
      const decoded = decodePresetCache(cached, { presetId, modelsHash: graphs.modelsHash }, graphs.tensor);
      if (!('stale' in decoded)) return { embedding: decoded.embedding, kind: decoded.kind, cacheBytes: cached.byteLength, built: false };
      deps.logger?.warn({ presetId, reason: decoded.stale }, 'preset cache entry unusable; rebuilding');
    }
    const source = await deps.source(presetId);
    if (!source) throw new HairError('PRESET_NOT_FOUND', { name: presetSlug(presetId), preset: presetId });
    return build(ctx, presetId, source, signal);
  };

  return {
    async get(ctx, presetId, role, signal) {
      const key = presetCacheKey(presetId, graphs.modelsHash);
      const shared = (): Promise<BuiltPreset> => {
        let pending = inFlight.get(key);
        if (!pending) {
          pending = load(ctx, presetId, signal).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        return pending;
      };
      let preset: BuiltPreset;
      try {
        preset = await shared();
      } catch (error) {
        // Another request's build was cancelled: build it for this one, unless this one is cancelled too.
        if (!(error instanceof HairError && error.code === 'JOB_CANCELLED') || signal?.aborted) throw error;
        preset = await shared();
      }
      if (role !== 'any' && !presetServes(preset.kind, role)) {
        throw new HairError('PRESET_KIND_MISMATCH', { name: presetSlug(presetId), kind: role, preset: presetId, role });
      }
      // Each request gets its own object: lazily added tensors (codes, clip) must not leak between requests.
      return { ...preset, embedding: { ...preset.embedding } };
    },
    build,
  };
}
