import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Removes every key under a test's random prefix (never FLUSHDB: Redis is shared). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/**
 * A random key prefix on the shared Redis for one test file, with a client opened before its tests and, after
 * them, every key under the prefix removed and the client closed.
 */
export function useRedisPrefix(name: string): { readonly prefix: string; readonly redis: Redis } {
  const prefix = `test-${name}-${randomBytes(5).toString('hex')}`;
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    if (!redis) return;
    await deletePrefix(redis, prefix);
    await redis.quit();
  });
  return {
    prefix,
    get redis() {
      if (!redis) throw new Error('useRedisPrefix: the client opens in beforeAll');
      return redis;
    },
  };
}
