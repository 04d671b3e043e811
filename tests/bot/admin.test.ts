import { afterEach, describe, expect, it } from 'vitest';
import { recordCompleted, recordFailed } from '../../src/bot/stats.js';
import { botKeys } from '../../src/bot/bot-keys.js';
import { errorMessage, redisKeys, uiText } from '../../src/shared/index.js';
import { PERMISSIONS, user } from '../fake-discord/index.js';
import { isEphemeral, replyText, SELFIE, startHarness, type Harness } from './harness.js';

const ADMIN = { user: { id: '121212121212121212' }, permissions: PERMISSIONS.administrator };

describe('/hair-admin', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const admin = (sub: string, options: Record<string, any> = {}, member: any = ADMIN, locale?: string) =>
    h.fake.slashCommand({ name: 'hair-admin', subcommand: sub, options, member, ...(locale ? { locale } : {}) });
  const tryOn = (member: any, locale?: string) => h.fake.slashCommand({
    name: 'hair', subcommand: 'try', member, ...(locale ? { locale } : {}),
    options: { image: h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' }), shape: 'Bob' },
  });

  it('stats: a private embed with counts, percentiles, failures by code and the workers registry', async () => {
    h = await startHarness();
    const keys = { redis: h.redis, keys: botKeys(h.config.QUEUE_PREFIX) };
    for (const [i, total] of [1000, 2000, 3000, 4000].entries()) await recordCompleted(keys, `j${i}`, total, total / 2);
    await recordFailed(keys, 'f1', 'NO_FACE');
    await recordFailed(keys, 'f2', 'NO_FACE');
    const shared = redisKeys(h.config.QUEUE_PREFIX);
    await h.redis.zadd(shared.workers, Date.now(), 'gpu-1');
    await h.redis.hset(shared.worker('gpu-1'), { id: 'gpu-1', host: 'box', pid: '1', executionProvider: 'cuda', gpu: 'NVIDIA H100', modelKind: 'contract', precision: 'fp16', loadMs: '900', concurrency: '1', startedAt: String(Date.now()), heartbeatAt: String(Date.now()), jobsDone: '7' });
    const sent = admin('stats');
    const callback = await h.fake.waitForCallback(sent.id);
    expect(callback.data.flags & 64).toBe(64);
    const fields = Object.fromEntries(callback.data.embeds[0].fields.map((f: { name: string; value: string }) => [f.name, f.value]));
    expect(fields[uiText('en', 'stats.lastHour')]).toBe(uiText('en', 'stats.throughput', { completed: 4, perMinute: 0.07 }));
    expect(fields[uiText('en', 'stats.latency')]).toBe('p50 2.00 s · p95 4.00 s');
    expect(fields[uiText('en', 'stats.gpu')]).toBe('p50 1.00 s · p95 2.00 s');
    expect(fields[uiText('en', 'stats.failures')]).toBe('NO_FACE: 2');
    expect(fields[uiText('en', 'stats.workers', { count: 1 })]).toContain('cuda · NVIDIA H100 · fp16');
    expect(fields[uiText('en', 'stats.licenses')]).toBeUndefined(); // contract graphs: nothing to warn about
  });

  it('stats: says plainly when a worker runs non-commercial or evaluation-only parts (ko and en)', async () => {
    h = await startHarness();
    const shared = redisKeys(h.config.QUEUE_PREFIX);
    const register = async (id: string, licenses: string) => {
      await h.redis.zadd(shared.workers, Date.now(), id);
      await h.redis.hset(shared.worker(id), { id, host: 'box', pid: '1', executionProvider: 'cuda', modelKind: 'official', loadMs: '900', concurrency: '1', startedAt: String(Date.now()), heartbeatAt: String(Date.now()), licenses });
    };
    const fse = { part: 'feature-style-encoder', origin: 'InterDigital FeatureStyleEncoder', use: 'evaluation-only', graphs: ['embed'] };
    const sean = { part: 'sean', origin: 'NVIDIA SEAN', use: 'non-commercial', graphs: ['sean_encode'] };
    await register('gpu-1', JSON.stringify([fse, sean]));
    await register('gpu-2', JSON.stringify([{ ...sean, graphs: ['sean_decode'] }]));
    await register('gpu-3', 'not json'); // a garbled field reads as "none known", never hides the others
    for (const locale of ['en', 'ko'] as const) {
      const sent = admin('stats', {}, ADMIN, locale);
      const callback = await h.fake.waitForCallback(sent.id);
      const fields = Object.fromEntries(callback.data.embeds[0].fields.map((f: { name: string; value: string }) => [f.name, f.value]));
      expect(fields[uiText(locale, 'stats.workers', { count: 3 })]).toBeDefined();
      expect(fields[uiText(locale, 'stats.licenses')]).toBe([
        uiText(locale, 'stats.license.evaluation-only', { part: 'InterDigital FeatureStyleEncoder', graphs: 'embed' }),
        uiText(locale, 'stats.license.non-commercial', { part: 'NVIDIA SEAN', graphs: 'sean_encode, sean_decode' }),
        uiText(locale, 'stats.licensesHint'),
      ].join('\n'));
    }
  });

  it('refuses non-admins, re-checked in code', async () => {
    h = await startHarness();
    const sent = admin('pause', {}, { user: { id: '131313131313131313' }, permissions: PERMISSIONS.manageGuild }, 'ko');
    await h.fake.waitForCallback(sent.id);
    expect(isEphemeral(h.fake, sent.id)).toBe(true);
    expect(replyText(h.fake, sent.id)).toBe(errorMessage('ko', 'NOT_ADMIN'));
    const en = admin('stats', {}, { user: { id: '131313131313131314' }, permissions: PERMISSIONS.manageGuild });
    await h.fake.waitForCallback(en.id);
    expect(replyText(h.fake, en.id)).toBe('Only server administrators can use this command.');
    expect(await h.tryOnQueue.isPaused()).toBe(false);
  });

  it('pause refuses new try-ons until resume; block/unblock; a quota set to 0 refuses at once', async () => {
    h = await startHarness();
    const member = { user: user({ id: '141414141414141414' }) };
    await h.fake.waitForCallback(admin('pause').id);
    const paused = tryOn(member);
    await h.fake.waitForCallback(paused.id);
    expect(replyText(h.fake, paused.id)).toBe(errorMessage('en', 'QUEUE_PAUSED'));
    await h.fake.waitForCallback(admin('resume').id);

    await h.fake.waitForCallback(admin('block', { user: { user: member.user } }).id);
    const blocked = tryOn(member, 'ko');
    await h.fake.waitForCallback(blocked.id);
    expect(replyText(h.fake, blocked.id)).toBe(errorMessage('ko', 'USER_BLOCKED'));
    await h.fake.waitForCallback(admin('unblock', { user: { user: member.user } }).id);

    await h.fake.waitForCallback(admin('quota', { scope: 'guild', per_hour: 0 }).id);
    const over = tryOn(member);
    await h.fake.waitForCallback(over.id);
    const text = replyText(h.fake, over.id);
    expect(text).toBe(errorMessage('en', 'GUILD_QUOTA_EXCEEDED', { limit: 0, retryAt: /<t:\d+:R>/.exec(text)?.[0] }));
    expect((await h.tryOnQueue.getJobCounts('waiting')).waiting).toBe(0);
  });
});
