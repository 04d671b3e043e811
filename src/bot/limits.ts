import type { RedisClient } from '../redis/redis-connector.js';
import { z } from 'zod';
import { HairError, type BotConfig } from '../shared/index.js';
import type { BotKeys } from './bot-keys.js';
import { reserveCommand } from './reserve-script.js';

const HOUR_MS = 60 * 60 * 1000;
/**
 * A reservation is recorded before its job is enqueued (the defer to Discord sits in between), so for a moment the
 * queue does not know the id. Such an id still counts for this long; a bot that died before enqueueing frees the
 * slot after it.
 */
export const RESERVE_GRACE_MS = 60_000;

/** A guild's hourly quota override; stored as a decimal string, and anything else there reads as "not set". */
const quotaSchema = z.number().int().min(0);
const storedQuota = z.string().regex(/^\d{1,9}$/).transform(Number).pipe(quotaSchema);

/** Where a job stands for the limits: the queue is the source of truth. */
export type JobPhase = 'unfinished' | 'finished' | 'unknown';

export interface LimitsDeps {
  redis: RedisClient;
  keys: BotKeys;
  jobPhase: (jobId: string) => Promise<JobPhase>;
  /** Epoch ms a user's running or waiting job should be ready at (for the TOO_MANY_JOBS message). */
  readyAt: (jobId: string) => Promise<number>;
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
    const user = storedQuota.safeParse(overrides['user']);
    const guild = storedQuota.safeParse(overrides['guild']);
    return {
      user: user.success ? user.data : config.USER_HOURLY_QUOTA,
      guild: guild.success ? guild.data : config.GUILD_HOURLY_QUOTA,
    };
  }

  /**
   * Unfinished jobs of a user (oldest first), pruning finished ones and reservations the queue never heard of within
   * RESERVE_GRACE_MS. A reservation made a moment ago whose job is not enqueued yet still counts.
   */
  async function activeJobs(userId: string): Promise<string[]> {
    const key = keys.userActive(userId);
    const entries = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    const ids: Array<{ id: string; reservedAt: number }> = [];
    for (let i = 0; i < entries.length; i += 2) ids.push({ id: entries[i]!, reservedAt: Number(entries[i + 1]) });
    const phases = await Promise.all(ids.map(({ id }) => deps.jobPhase(id)));
    const cutoff = now() - RESERVE_GRACE_MS;
    const gone = ids.filter(({ reservedAt }, i) => phases[i] === 'finished' || (phases[i] === 'unknown' && reservedAt < cutoff));
    if (gone.length > 0) await redis.zrem(key, ...gone.map(({ id }) => id));
    return ids.filter((entry) => !gone.includes(entry)).map(({ id }) => id);
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
      const active = await activeJobs(userId);
      const limit = await quotas(guildId);
      const [outcome, oldest] = await reserveScript(
        [keys.userActive(userId), keys.userHour(userId), keys.guildHour(guildId)],
        [at, HOUR_MS, config.USER_MAX_ACTIVE_JOBS, limit.user, limit.guild, jobId, 24 * 3600],
      );
      if (outcome === 'ok') return;
      if (outcome === 'active') {
        const eta = active[0] ? await deps.readyAt(active[0]) : at;
        throw new HairError('TOO_MANY_JOBS', { eta: relativeTime(eta), limit: config.USER_MAX_ACTIVE_JOBS });
      }
      const retryAt = relativeTime(Number(oldest) + HOUR_MS);
      if (outcome === 'user') throw new HairError('QUOTA_EXCEEDED', { limit: limit.user, retryAt });
      throw new HairError('GUILD_QUOTA_EXCEEDED', { limit: limit.guild, retryAt });
    },

    /** A job that ended without a worker (removed while waiting): its slot is free at once. */
    async jobEnded(userId: string, jobId: string): Promise<void> {
      await redis.zrem(keys.userActive(userId), jobId);
    },

    /** Gives a reservation back (the enqueue failed after reserve). */
    async release({ guildId, userId, jobId }: Reservation): Promise<void> {
      await redis.multi().zrem(keys.userActive(userId), jobId).zrem(keys.userHour(userId), jobId).zrem(keys.guildHour(guildId), jobId).exec();
    },

    async setQuota(guildId: string, scope: 'user' | 'guild', perHour: number): Promise<void> {
      await redis.hset(keys.quotas(guildId), scope, String(quotaSchema.parse(perHour)));
    },

    async setBlocked(guildId: string, userId: string, blocked: boolean): Promise<void> {
      if (blocked) await redis.sadd(keys.blocked(guildId), userId);
      else await redis.srem(keys.blocked(guildId), userId);
    },
  };
}
export type Limits = ReturnType<typeof createLimits>;
