import { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { botKeys } from '../../src/bot/bot-keys.js';
import { errorMessage, formatJobFailure, QUEUE_NAMES, redisKeys, uiText } from '../../src/shared/index.js';
import { PERMISSIONS } from '../fake-discord/index.js';
import { failJob, finishJob, isEphemeral, replyText, SELFIE, startHarness, waitForJob, type Harness } from './harness.js';

const MOD = { user: { id: '222222222222222222' }, permissions: PERMISSIONS.manageGuild };
const MEMBER = { user: { id: '333333333333333333' }, permissions: PERMISSIONS.member };

describe('/hair-presets (moderators)', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const image = () => h.fake.addAttachment({ filename: 'style.png', bytes: SELFIE, contentType: 'image/png' });
  const presets = (opts: { sub: string; options?: Record<string, any>; member?: any; locale?: string }) =>
    h.fake.slashCommand({ name: 'hair-presets', subcommand: opts.sub, options: opts.options ?? {}, member: opts.member ?? MOD, ...(opts.locale ? { locale: opts.locale } : {}) });

  it('is registered with Manage Server as the default permission', async () => {
    h = await startHarness();
    const { hairPresets } = await import('../../src/bot/commands/hair-presets.js');
    expect(hairPresets.data.toJSON().default_member_permissions).toBe('32');
  });

  it('refuses a member without Manage Server or the moderator role, in their language, and writes nothing', async () => {
    h = await startHarness();
    const sent = presets({ sub: 'add', options: { name: 'Wolf cut', kind: 'shape', image: image() }, member: MEMBER, locale: 'ko' });
    await h.fake.waitForCallback(sent.id);
    expect(isEphemeral(h.fake, sent.id)).toBe(true);
    expect(replyText(h.fake, sent.id)).toBe(errorMessage('ko', 'NOT_MODERATOR'));
    expect(await h.redis.hlen(botKeys(h.config.QUEUE_PREFIX).presets(h.fake.guildId))).toBe(0);
    expect((await h.presetQueue.getJobCounts('waiting')).waiting).toBe(0);
  });

  it('adds a preset: records who and when, enqueues a build, and reports when the worker finishes', async () => {
    h = await startHarness();
    const sent = presets({ sub: 'add', options: { name: 'Wolf cut', kind: 'shape', image: image() } });
    const job = await waitForJob(h.presetQueue, `preset-${sent.id}`);
    expect(job.data).toMatchObject({ guildId: h.fake.guildId, presetId: `guild:${h.fake.guildId}:wolf-cut`, name: 'Wolf cut', kind: 'shape', moderatorId: MOD.user.id });
    const record = JSON.parse((await h.redis.hget(botKeys(h.config.QUEUE_PREFIX).presets(h.fake.guildId), 'wolf-cut'))!);
    expect(record).toMatchObject({ name: 'Wolf cut', kind: 'shape', status: 'building', addedBy: MOD.user.id });
    expect(Date.now() - record.addedAt).toBeLessThan(10_000);
    // Building presets are not offered to members yet.
    const auto = h.fake.autocomplete({ name: 'hair', subcommand: 'try', options: { shape: 'wolf' }, focused: 'shape' });
    expect((await h.fake.waitForCallback(auto.id)).data.choices).toEqual([]);

    // The worker's side of the contract: the job completes with a presetBuildResult.
    const picked = await Job.fromId(h.presetQueue, job.id!);
    await finishJob(h, QUEUE_NAMES.presetBuild, picked!.id!, { presetId: job.data.presetId, kind: 'shape', thumbnailBase64: SELFIE.toString('base64'), cacheBytes: 10, modelKind: 'contract', workerId: 'w1', finishedAt: Date.now() });
    await h.fake.waitFor(() => replyText(h.fake, sent.id) === uiText('en', 'presets.ready', { name: 'Wolf cut' }) || undefined);
    const ready = h.fake.autocomplete({ name: 'hair', subcommand: 'try', options: { shape: 'wolf' }, focused: 'shape' });
    expect((await h.fake.waitForCallback(ready.id)).data.choices).toEqual([{ name: 'Wolf cut', value: `guild:${h.fake.guildId}:wolf-cut` }]);
  });

  it('applies builds that finished while the bot was down when it starts again', async () => {
    h = await startHarness();
    const sent = presets({ sub: 'add', options: { name: 'Offline', kind: 'color', image: image() } });
    const job = await waitForJob(h.presetQueue, `preset-${sent.id}`);
    await h.bot.close();
    await finishJob(h, QUEUE_NAMES.presetBuild, job.id!, { presetId: job.data.presetId, kind: 'color', thumbnailBase64: '', cacheBytes: 1, modelKind: 'contract', workerId: 'w1', finishedAt: Date.now() });
    await h.restartBot();
    const record = JSON.parse((await h.redis.hget(botKeys(h.config.QUEUE_PREFIX).presets(h.fake.guildId), 'offline'))!);
    expect(record.status).toBe('ready');
  });

  it('marks a failed build and tells the moderator why', async () => {
    h = await startHarness();
    const sent = presets({ sub: 'add', options: { name: 'Two faces', kind: 'both', image: image() }, locale: 'ko' });
    const job = await waitForJob(h.presetQueue, `preset-${sent.id}`);
    await failJob(h, QUEUE_NAMES.presetBuild, job.id!, formatJobFailure('MULTIPLE_FACES', { count: 2 }));
    await h.fake.waitFor(() => replyText(h.fake, sent.id) === errorMessage('ko', 'MULTIPLE_FACES', { count: 2 }) || undefined);
    const record = JSON.parse((await h.redis.hget(botKeys(h.config.QUEUE_PREFIX).presets(h.fake.guildId), 'two-faces'))!);
    expect(record).toMatchObject({ status: 'failed', failure: 'MULTIPLE_FACES' });
  });

  it('lets the moderator role in, enforces names and the cap, renames, removes and turns built-ins off', async () => {
    h = await startHarness({ GUILD_PRESET_LIMIT: '2' });
    const roleId = h.fake.moderatorRoleId;
    const setRole = presets({ sub: 'role', options: { role: { role: { id: roleId, name: 'Moderators' } } } });
    expect((await h.fake.waitForCallback(setRole.id)).data.content).toBe(uiText('en', 'presets.roleSet', { role: `<@&${roleId}>` }));
    // Only Manage Server may change the role.
    const sneaky = presets({ sub: 'role', options: {}, member: { user: { id: '666666666666666666' }, permissions: PERMISSIONS.member, roles: [roleId] } });
    expect((await h.fake.waitForCallback(sneaky.id)).data.content).toBe(errorMessage('en', 'NOT_MODERATOR'));
    const roleMember = { user: { id: '555555555555555555' }, permissions: PERMISSIONS.member, roles: [roleId] };
    const bad = presets({ sub: 'add', options: { name: '!!bad**', kind: 'shape', image: image() }, member: roleMember });
    expect((await h.fake.waitForCallback(bad.id)).data.content).toBe(errorMessage('en', 'PRESET_NAME_INVALID', { name: '!!bad**' }));
    for (const name of ['One', '둘']) {
      const ok = presets({ sub: 'add', options: { name, kind: 'color', image: image() }, member: roleMember });
      await waitForJob(h.presetQueue, `preset-${ok.id}`);
    }
    const third = presets({ sub: 'add', options: { name: 'Three', kind: 'color', image: image() }, member: roleMember });
    expect((await h.fake.waitForCallback(third.id)).data.content).toBe(errorMessage('en', 'PRESET_LIMIT_REACHED', { limit: 2 }));
    const rename = presets({ sub: 'rename', options: { name: 'One', new_name: 'Uno' } });
    expect((await h.fake.waitForCallback(rename.id)).data.content).toBe(uiText('en', 'presets.renamed', { name: 'Uno' }));
    const shared = redisKeys(h.config.QUEUE_PREFIX);
    const twoId = (await h.presetQueue.getJobs(['waiting'])).map((j) => j.data.presetId).find((id: string) => !id.endsWith(':one'))!;
    await h.redis.hset(shared.presetSource(twoId), { kind: 'color', image: 'x' });
    await h.redis.set(shared.presetCache(`modelshash1:${twoId}`), 'cache');
    await h.redis.set(shared.presetCache(`modelshash1:guild:${h.fake.guildId}:one`), 'kept');
    const remove = presets({ sub: 'remove', options: { name: '둘' } });
    expect((await h.fake.waitForCallback(remove.id)).data.content).toBe(uiText('en', 'presets.removed', { name: '둘' }));
    expect(await h.redis.exists(shared.presetSource(twoId), shared.presetCache(`modelshash1:${twoId}`))).toBe(0);
    expect(await h.redis.exists(shared.presetCache(`modelshash1:guild:${h.fake.guildId}:one`))).toBe(1);
    const list = presets({ sub: 'list' });
    const embed = (await h.fake.waitForCallback(list.id)).data.embeds[0];
    expect(embed.description).toContain('Uno');
    expect(embed.description).not.toContain('둘');
    expect(embed.description).toContain(`<@${roleMember.user.id}>`);
    const off = presets({ sub: 'builtins', options: { state: 'off' } });
    await h.fake.waitForCallback(off.id);
    const auto = h.fake.autocomplete({ name: 'hair', subcommand: 'try', options: { shape: 'bob' }, focused: 'shape' });
    expect((await h.fake.waitForCallback(auto.id)).data.choices).toEqual([]);
  });
});
