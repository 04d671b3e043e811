import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { botKeys } from '../../src/bot/bot-keys.js';
import { createEnqueuer } from '../../src/bot/enqueue.js';
import { createLimits, RESERVE_GRACE_MS, type JobPhase } from '../../src/bot/limits.js';
import { createLogger, JOB_NAMES, QUEUE_NAMES, tryOnJobId } from '../../src/shared/index.js';
import { REDIS_URL, useRedisPrefix } from '../helpers/redis-prefix.js';

const always = (phase: JobPhase) => ({ jobPhase: async () => phase, readyAt: async () => Date.now() + 60_000 });

/** The limits on real Redis, hit by concurrent requests (a double-click, a busy server). */
describe('limits under concurrent requests', () => {
  const db = useRedisPrefix('limits');
  const { prefix } = db;
  const keys = botKeys(prefix);
  const config = { USER_MAX_ACTIVE_JOBS: 1, USER_HOURLY_QUOTA: 20, GUILD_HOURLY_QUOTA: 3 };

  const codes = (results: PromiseSettledResult<void>[]) =>
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: string }).code));

  it('lets exactly one of six simultaneous requests of a user through when one job may run', async () => {
    const limits = createLimits(config, { redis: db.redis, keys, ...always('unfinished') });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => limits.reserve({ guildId: 'g1', userId: 'u1', jobId: `a${i}` })),
    );
    expect(codes(results).filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes(results).filter((c) => c === 'TOO_MANY_JOBS')).toHaveLength(5);
    expect(await db.redis.zcard(keys.userActive('u1'))).toBe(1);
    expect(await db.redis.zcard(keys.userHour('u1'))).toBe(1);
  });

  it('counts exactly the guild quota when many members ask at once, and a released slot is free again', async () => {
    const limits = createLimits(config, { redis: db.redis, keys, ...always('unfinished') });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => limits.reserve({ guildId: 'g2', userId: `m${i}`, jobId: `b${i}` })),
    );
    expect(codes(results).filter((c) => c === 'ok')).toHaveLength(3);
    expect(codes(results).filter((c) => c === 'GUILD_QUOTA_EXCEEDED')).toHaveLength(5);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.params).toMatchObject({ limit: 3, retryAt: expect.stringMatching(/^<t:\d+:R>$/) });
    expect(await db.redis.zcard(keys.guildHour('g2'))).toBe(3);

    const winner = results.findIndex((r) => r.status === 'fulfilled');
    await limits.release({ guildId: 'g2', userId: `m${winner}`, jobId: `b${winner}` });
    await expect(limits.reserve({ guildId: 'g2', userId: 'late', jobId: 'c1' })).resolves.toBeUndefined();
    await expect(limits.reserve({ guildId: 'g2', userId: 'later', jobId: 'c2' })).rejects.toMatchObject({ code: 'GUILD_QUOTA_EXCEEDED' });
  });

  it('prunes finished jobs before counting, and the hourly window slides', async () => {
    let clock = 1_000_000;
    const finished = new Set<string>();
    const limits = createLimits({ ...config, USER_HOURLY_QUOTA: 2, GUILD_HOURLY_QUOTA: 100 }, {
      redis: db.redis, keys, now: () => clock, jobPhase: async (id) => (finished.has(id) ? 'finished' : 'unfinished'), readyAt: async () => clock,
    });
    await limits.reserve({ guildId: 'g3', userId: 'u3', jobId: 'd1' });
    await expect(limits.reserve({ guildId: 'g3', userId: 'u3', jobId: 'd2' })).rejects.toMatchObject({ code: 'TOO_MANY_JOBS' });
    finished.add('d1');
    await limits.reserve({ guildId: 'g3', userId: 'u3', jobId: 'd3' });
    finished.add('d3');
    await expect(limits.reserve({ guildId: 'g3', userId: 'u3', jobId: 'd4' })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    clock += 60 * 60 * 1000 + 1;
    await expect(limits.reserve({ guildId: 'g3', userId: 'u3', jobId: 'd5' })).resolves.toBeUndefined();
  });

  it('a reservation whose job is not enqueued yet still holds the slot (the queue reads it as unknown)', async () => {
    const log = createLogger({ level: 'silent' });
    const enqueuer = createEnqueuer({ REDIS_URL, QUEUE_PREFIX: prefix }, { redis: db.redis, keys, log });
    try {
      let clock = Date.now();
      const limits = createLimits({ ...config, GUILD_HOURLY_QUOTA: 100 }, { redis: db.redis, keys, now: () => clock, jobPhase: enqueuer.jobPhase, readyAt: enqueuer.readyAt });
      const first = tryOnJobId('700000000000000001');
      await limits.reserve({ guildId: 'g4', userId: 'u4', jobId: first });
      // Between reserve and enqueue (the bot is deferring the reply): a second request of the same member.
      const refused = await limits.reserve({ guildId: 'g4', userId: 'u4', jobId: tryOnJobId('700000000000000002') }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'TOO_MANY_JOBS', params: { eta: expect.stringMatching(/^<t:\d+:R>$/) } });

      // Enqueued and finished: the slot is free at once, with no grace period.
      await enqueuer.tryOnQueue.add(JOB_NAMES.tryOn, {} as never, { jobId: first });
      expect(await enqueuer.jobPhase(first)).toBe('unfinished');
      await expect(limits.reserve({ guildId: 'g4', userId: 'u4', jobId: tryOnJobId('700000000000000003') })).rejects.toMatchObject({ code: 'TOO_MANY_JOBS' });
      const worker = new Worker(QUEUE_NAMES.tryOn, async () => 'done', { connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix });
      try {
        for (let i = 0; i < 200 && (await enqueuer.jobPhase(first)) !== 'finished'; i++) await new Promise((r) => setTimeout(r, 25));
      } finally {
        await worker.close();
      }
      await expect(limits.reserve({ guildId: 'g4', userId: 'u4', jobId: tryOnJobId('700000000000000003') })).resolves.toBeUndefined();

      // A reservation the queue never heard of (a bot that died before enqueueing) is freed after the grace period.
      await limits.reserve({ guildId: 'g4', userId: 'u5', jobId: tryOnJobId('700000000000000004') });
      clock += RESERVE_GRACE_MS + 1;
      await expect(limits.reserve({ guildId: 'g4', userId: 'u5', jobId: tryOnJobId('700000000000000005') })).resolves.toBeUndefined();
    } finally {
      await enqueuer.tryOnQueue.obliterate({ force: true });
      await enqueuer.close();
    }
  });
});
