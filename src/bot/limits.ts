import type { Redis } from 'ioredis';
import { HairError, type BotConfig } from '../shared/index.js';
import type { BotKeys } from './bot-keys.js';
import { reserveCommand } from './reserve-script.js';

const HOUR_MS = 60 * 60 * 1000;

export interface LimitsDeps {
  redis: Redis;
  keys: BotKeys;
  /** True while a job id is still waiting, delayed or active (the queue is the source of truth). */
  isUnfinished: (jobId: string) => Promise<boolean>;
  now?: () => number;
}

export interface Reservation {
  guildId: string;
  userId: string;
  jobId: string;
}

/** Discord's relative timestamp markup, rendered in each reader's own locale and clock. */
export function relativeTime(epochMs: number): string {
  return `<t:${Math.ceil(epochMs / 1000)}:R>`;
}

/**
 * Per-user concurrent jobs, per-user and per-guild hourly quotas (sliding windows in Redis sorted sets), blocked
 * users. `reserve` checks everything and then records the request; refusals carry when to retry.
 */
export function createLimits(config: Pick<BotConfig, 'USER_MAX_ACTIVE_JOBS' | 'USER_HOURLY_QUOTA' | 'GUILD_HOURLY_QUOTA'>, deps: LimitsDeps) {
  const { redis, keys } = deps;
  const now = deps.now ?? Date.now;
  const reserveScript = reserveCommand(redis);

  async function quotas(guildId: string): Promise<{ user: number; guild: number }> {
    const overrides = await redis.hgetall(keys.quotas(guildId));
    return {
      user: overrides.user !== undefined ? Number(overrides.user) : config.USER_HOURLY_QUOTA,
      guild: overrides.guild !== undefined ? Number(overrides.guild) : config.GUILD_HOURLY_QUOTA,
    };
  }

  /** Unfinished jobs of a user, pruning the ones the queue no longer runs. */
  async function activeJobs(userId: string): Promise<string[]> {
    const key = keys.userActive(userId);
    const ids = await redis.zrange(key, '0', '-1');
    const unfinished = await Promise.all(ids.map((id) => deps.isUnfinished(id)));
    const gone = ids.filter((_, i) => !unfinished[i]);
    if (gone.length > 0) await redis.zrem(key, ...gone);
    return ids.filter((_, i) => unfinished[i]);
  }

  return {
    quotas,
    activeJobs,

    async assertNotBlocked(guildId: string, userId: string): Promise<void> {
      if (await redis.sismember(keys.blocked(guildId), userId)) throw new HairError('USER_BLOCKED');
    },

    /**
     * Throws USER_BLOCKED, TOO_MANY_JOBS, QUOTA_EXCEEDED or GUILD_QUOTA_EXCEEDED; otherwise counts the request against
     * every limit. Finished jobs are pruned first; the check and the count are one script (reserve-script.ts).
     */
    async reserve({ guildId, userId, jobId }: Reservation): Promise<void> {
      const at = now();
      await this.assertNotBlocked(guildId, userId);
      await activeJobs(userId);
      const limit = await quotas(guildId);
      const [outcome, oldest] = await reserveScript(
        [keys.userActive(userId), keys.userHour(userId), keys.guildHour(guildId)],
        [at, HOUR_MS, config.USER_MAX_ACTIVE_JOBS, limit.user, limit.guild, jobId, 24 * 3600],
      );
      if (outcome === 'ok') return;
      if (outcome === 'active') throw new HairError('TOO_MANY_JOBS', { limit: config.USER_MAX_ACTIVE_JOBS });
      const retryAt = relativeTime(Number(oldest) + HOUR_MS);
      if (outcome === 'user') throw new HairError('QUOTA_EXCEEDED', { limit: limit.user, retryAt });
      throw new HairError('GUILD_QUOTA_EXCEEDED', { limit: limit.guild, retryAt });
    },

    /** Gives a reservation back (the enqueue failed after reserve). */
    async release({ guildId, userId, jobId }: Reservation): Promise<void> {
      await redis.multi().zrem(keys.userActive(userId), jobId).zrem(keys.userHour(userId), jobId).zrem(keys.guildHour(guildId), jobId).exec();
    },

    async setQuota(guildId: string, scope: 'user' | 'guild', perHour: number): Promise<void> {
      await redis.hset(keys.quotas(guildId), scope, String(perHour));
    },

    async setBlocked(guildId: string, userId: string, blocked: boolean): Promise<void> {
      if (blocked) await redis.sadd(keys.blocked(guildId), userId);
      else await redis.srem(keys.blocked(guildId), userId);
    },
  };
}
export type Limits = ReturnType<typeof createLimits>;
