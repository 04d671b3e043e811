import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { botKeys } from '../../src/bot/bot-keys.js';
import { createLimits } from '../../src/bot/limits.js';
import { REDIS_URL, useRedisPrefix } from '../helpers/redis-prefix.js';

/** The admission script is loaded once per connection, then called by its SHA (MONITOR shows what Redis receives). */
describe('the reserve script', () => {
  const db = useRedisPrefix('reserve');
  const { prefix } = db;
  const keys = botKeys(prefix);

  it('sends its body once, then EVALSHA for every later request, on one connection', async () => {
    const monitor = await new Redis(REDIS_URL).monitor();
    const seen: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.startsWith(prefix))) seen.push(String(args[0]).toLowerCase());
    });
    try {
      const config = { USER_MAX_ACTIVE_JOBS: 5, USER_HOURLY_QUOTA: 20, GUILD_HOURLY_QUOTA: 20 };
      const limits = createLimits(config, { redis: db.redis, keys, jobPhase: async () => 'unfinished' as const, readyAt: async () => Date.now() });
      const again = createLimits(config, { redis: db.redis, keys, jobPhase: async () => 'unfinished' as const, readyAt: async () => Date.now() });
      for (const [i, l] of [limits, limits, again].entries()) await l.reserve({ guildId: 'g', userId: 'u', jobId: `j${i}` });
      await expect.poll(() => seen.filter((c) => c === 'eval' || c === 'evalsha').length).toBe(3);
      expect(seen.filter((c) => c === 'eval' || c === 'evalsha')).toEqual(['eval', 'evalsha', 'evalsha']);
      expect(await db.redis.zcard(keys.userHour('u'))).toBe(3);
    } finally {
      monitor.disconnect();
    }
  });
});
