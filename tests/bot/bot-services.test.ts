import { describe, expect, it } from 'vitest';
import { botKeys } from '../../src/bot/bot-keys.js';
import { createGuildSettings } from '../../src/bot/guild-settings.js';
import { createLimits } from '../../src/bot/limits.js';
import { createPresetCatalog } from '../../src/bot/preset-catalog.js';
import { createPresetBuildReplies, PRESET_BUILD_REPLY_TTL_S } from '../../src/bot/preset-build-replies.js';
import { createEditThrottle, MAX_THROTTLED_JOBS } from '../../src/bot/try-on-progress.js';
import { redisKeys } from '../../src/shared/index.js';
import { useRedisPrefix } from '../helpers/redis-prefix.js';

/** The bot's small Redis services: what goes in is checked, what comes out is checked again. */
describe('bot services on real Redis', () => {
  const db = useRedisPrefix('services');
  const { prefix } = db;
  const keys = botKeys(prefix);

  it('guild settings: the moderator role and the built-ins switch, a bad stored value reads as unset', async () => {
    const settings = createGuildSettings({ redis: db.redis, keys });
    expect(await settings.moderatorRole('123456789')).toBeUndefined();
    await settings.setModeratorRole('123456789', '987654321');
    expect(await settings.moderatorRole('123456789')).toBe('987654321');
    await settings.setModeratorRole('123456789', undefined);
    expect(await db.redis.exists(keys.moderatorRole('123456789'))).toBe(0);
    await expect(settings.setModeratorRole('123456789', 'not-a-role')).rejects.toThrow();
    await db.redis.set(keys.moderatorRole('123456789'), 'garbage');
    expect(await settings.moderatorRole('123456789')).toBeUndefined();

    expect(await settings.builtinsEnabled('123456789')).toBe(true);
    await settings.setBuiltins('123456789', false);
    expect(await settings.builtinsEnabled('123456789')).toBe(false);
    await settings.setBuiltins('123456789', true);
    expect(await db.redis.exists(keys.builtinsOff('123456789'))).toBe(0);
  });

  it('preset-build replies: saved with the token lifetime, taken once, a malformed one is ignored', async () => {
    const replies = createPresetBuildReplies({ redis: db.redis, keys });
    const reply = { token: 'interaction-token', applicationId: '111111111', locale: 'ko' as const, name: '단발' };
    await replies.save('preset-1', reply);
    const ttl = await db.redis.ttl(keys.presetReply('preset-1'));
    expect(ttl).toBeGreaterThan(PRESET_BUILD_REPLY_TTL_S - 5);
    expect(ttl).toBeLessThanOrEqual(PRESET_BUILD_REPLY_TTL_S);
    const [first, second] = await Promise.all([replies.take('preset-1'), replies.take('preset-1')]);
    expect([first, second].filter(Boolean)).toEqual([reply]);
    expect(await db.redis.exists(keys.presetReply('preset-1'))).toBe(0);
    await expect(replies.save('preset-2', { ...reply, applicationId: 'x' })).rejects.toThrow();
    await db.redis.set(keys.presetReply('preset-3'), JSON.stringify({ token: 'x' }));
    expect(await replies.take('preset-3')).toBeUndefined();
    await db.redis.set(keys.presetReply('preset-4'), '{ not json');
    expect(await replies.take('preset-4')).toBeUndefined();
  });

  it('guild presets: a stored entry that is not a preset (bad JSON, wrong shape) is skipped, the others listed', async () => {
    const settings = createGuildSettings({ redis: db.redis, keys });
    const catalog = createPresetCatalog({ GUILD_PRESET_LIMIT: 10 }, { redis: db.redis, keys, settings, shared: redisKeys(prefix), builtins: [] });
    const added = await catalog.add('223456789', { name: 'bob', kind: 'shape', addedBy: '323456789' });
    await db.redis.hset(keys.presets('223456789'), 'broken', '{ not json', 'odd', JSON.stringify({ name: 'odd', kind: 'wig' }));
    const listed = await catalog.list('223456789', undefined, { includeUnready: true });
    expect(listed.map((p) => p.id)).toEqual([added.id]);
  });

  it('quota overrides: the set value counts, a garbled stored one falls back to the configured quota', async () => {
    const config = { USER_MAX_ACTIVE_JOBS: 5, USER_HOURLY_QUOTA: 20, GUILD_HOURLY_QUOTA: 1 };
    const limits = createLimits(config, { redis: db.redis, keys, jobPhase: async () => 'unfinished', readyAt: async () => Date.now() });
    await limits.setQuota('423456789', 'guild', 2);
    await limits.reserve({ guildId: '423456789', userId: 'a', jobId: 'q1' });
    await limits.reserve({ guildId: '423456789', userId: 'b', jobId: 'q2' });
    await expect(limits.reserve({ guildId: '423456789', userId: 'c', jobId: 'q3' })).rejects.toMatchObject({ code: 'GUILD_QUOTA_EXCEEDED', params: { limit: 2 } });
    await db.redis.hset(keys.quotas('423456789'), 'guild', 'lots');
    await expect(limits.reserve({ guildId: '423456789', userId: 'c', jobId: 'q3' })).rejects.toMatchObject({ code: 'GUILD_QUOTA_EXCEEDED', params: { limit: 1 } });
    await expect(limits.setQuota('423456789', 'guild', -1)).rejects.toThrow();
  });
});

describe('the progress-edit throttle (a TTL cache)', () => {
  it('allows one edit per job per interval, again once the interval is over', () => {
    let now = 1_000;
    const throttle = createEditThrottle(1_500, { now: () => now });
    expect(throttle.allow('a')).toBe(true);
    expect(throttle.allow('a')).toBe(false);
    expect(throttle.allow('b')).toBe(true);
    now += 1_499;
    expect(throttle.allow('a')).toBe(false);
    now += 2;
    expect(throttle.allow('a')).toBe(true);
    throttle.forget('a');
    expect(throttle.allow('a')).toBe(true);
  });

  it('stays bounded however many jobs never end, and interval 0 never throttles', () => {
    const throttle = createEditThrottle(60_000);
    for (let i = 0; i < MAX_THROTTLED_JOBS + 500; i += 1) throttle.allow(`job-${i}`);
    expect(throttle.size).toBe(MAX_THROTTLED_JOBS);
    expect(throttle.allow(`job-${MAX_THROTTLED_JOBS + 499}`)).toBe(false);
    expect(throttle.allow('job-0')).toBe(true); // the oldest went first
    const off = createEditThrottle(0);
    expect([off.allow('x'), off.allow('x')]).toEqual([true, true]);
  });
});
