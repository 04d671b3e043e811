import type { RedisClient } from '../redis/redis-connector.js';
import { redisKeys } from '../shared/job.js';
import { presetKindSchema, type PresetKind } from '../shared/presets.js';

export interface PresetSource {
  kind: PresetKind;
  image: Uint8Array;
}

export interface PresetSources {
  get(presetId: string): Promise<PresetSource | null>;
  set(presetId: string, source: PresetSource): Promise<void>;
}

/**
 * Moderators' preset photos in Redis (never selfies): the engine rebuilds a preset's cache from it when the models
 * change, long after the Discord attachment URL it came from has expired.
 */
export function createRedisPresetSources(redis: RedisClient, prefix: string): PresetSources {
  const keys = redisKeys(prefix);
  return {
    async get(presetId) {
      const [kind, image] = await redis.hmgetBuffer(keys.presetSource(presetId), 'kind', 'image');
      const parsed = presetKindSchema.safeParse(kind?.toString());
      if (!parsed.success || !image) return null;
      return { kind: parsed.data, image: new Uint8Array(image.buffer, image.byteOffset, image.byteLength) };
    },
    async set(presetId, source) {
      const image = Buffer.from(source.image.buffer, source.image.byteOffset, source.image.byteLength);
      await redis.hset(keys.presetSource(presetId), { kind: source.kind, image });
    },
  };
}
