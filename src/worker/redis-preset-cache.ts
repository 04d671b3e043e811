import type { RedisClient } from '../redis/redis-connector.js';
import type { PresetCacheStore } from '../pipeline/engine.js';
import { redisKeys } from '../shared/job.js';

/**
 * Preset caches in Redis, so every worker host shares moderators' presets. Values are the engine's binary entries
 * (a preset image's embeddings, never a selfie). Keys already carry the models' hash, so no TTL is needed.
 */
export function createRedisPresetCache(redis: RedisClient, prefix: string): PresetCacheStore {
  const keys = redisKeys(prefix);
  return {
    async get(key) {
      const value = await redis.getBuffer(keys.presetCache(key));
      return value ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null;
    },
    async set(key, value) {
      await redis.set(keys.presetCache(key), Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    },
    async delete(key) {
      await redis.del(keys.presetCache(key));
    },
  };
}
