import { Events } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCustomId, QUEUE_NAMES, tryOnJobId } from '../../src/shared/index.js';
import { message, shardOf, startFakeDiscord, type FakeDiscord } from '../fake-discord/index.js';
import { finishJob, SELFIE, startHarness, waitForJob, type Harness } from './harness.js';

const OWNER = { user: { id: '767676767676767676' } };

/** Which of the bot's shards each INTERACTION_CREATE arrived on, as discord.js saw it. */
function shardsSeen(h: Harness): Map<string, number> {
  const seen = new Map<string, number>();
  h.bot.client.on(Events.Raw, (packet: { t?: string; d?: { id?: string } }, shardId: number) => {
    if (packet.t === 'INTERACTION_CREATE' && packet.d?.id) seen.set(packet.d.id, shardId);
  });
  return seen;
}

describe('gateway sharding (SHARD_COUNT) against the fake Discord', () => {
  let h: Harness | undefined;
  let savedShardCount: string | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    if (savedShardCount === undefined) delete process.env['SHARD_COUNT'];
    else process.env['SHARD_COUNT'] = savedShardCount;
  });

  async function twoGuilds(fake: FakeDiscord) {
    return [fake.guildOnShard(0, 2), fake.guildOnShard(1, 2)] as const;
  }

  it('SHARD_COUNT=2: two sessions; each server\'s /hair try arrives on its own shard and is answered and queued', async () => {
    const fake = await startFakeDiscord();
    const guilds = await twoGuilds(fake);
    h = await startHarness({ SHARD_COUNT: '2', USER_MAX_ACTIVE_JOBS: '5' }, { fake });
    const seen = shardsSeen(h);
    expect(fake.identifiedShards.sort()).toEqual([[0, 2], [1, 2]]);
    for (const [shard, guild] of guilds.entries()) {
      expect(h.bot.client.guilds.cache.get(guild.guildId)?.shardId).toBe(shard);
      const image = fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' });
      const sent = fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'Bob', color: 'Blonde' }, guildId: guild.guildId, member: OWNER });
      expect(sent.dispatchedOn).toEqual([shard]);
      expect((await fake.waitForCallback(sent.id)).type).toBe(5);
      expect(seen.get(sent.id)).toBe(shard);
      const job = await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
      expect(job.data).toMatchObject({ guildId: guild.guildId, channelId: guild.channelId });
    }
  });

  it('a button on a message made through shard 0 works when it arrives on shard 1 (state is in customIds and Redis)', async () => {
    const fake = await startFakeDiscord();
    const [onZero] = await twoGuilds(fake);
    h = await startHarness({ SHARD_COUNT: '2', USER_MAX_ACTIVE_JOBS: '5' }, { fake });
    const seen = shardsSeen(h);
    const image = fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' });
    const sent = fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'Bob', color: 'Blonde' }, guildId: onZero.guildId, member: OWNER });
    const job = await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
    expect(seen.get(sent.id)).toBe(0);
    await finishJob(h, QUEUE_NAMES.tryOn, job.id!, { jobId: job.id, deliveredVia: 'interaction', format: 'jpeg', bytes: 1000, width: 512, height: 512, timings: { total: 1500, pipeline: 900 }, modelKind: 'contract', executionProvider: 'cpu', workerId: 'w1', finishedAt: Date.now() });
    const retry = { type: 2, style: 2, label: 'retry', custom_id: buildCustomId({ action: 'retry', jobId: job.id!, ownerId: OWNER.user.id }) };
    const result = message({ channelId: onZero.channelId, guildId: onZero.guildId, author: fake.botUser, content: 'result', components: [{ type: 1, components: [retry] }], applicationId: fake.applicationId });
    // Discord moved the server to shard 1 (a re-shard); the old result's button now arrives there.
    const click = fake.component({ customId: retry.custom_id, message: result, guildId: onZero.guildId, member: OWNER, viaShard: 1 });
    expect(click.dispatchedOn).toEqual([1]);
    expect((await fake.waitForCallback(click.id)).type).toBe(5);
    expect(seen.get(click.id)).toBe(1);
    const again = await waitForJob(h.tryOnQueue, tryOnJobId(click.id));
    expect(again.data).toMatchObject({ origin: 'retry', guildId: onZero.guildId, selfie: job.data.selfie, shapePresetId: 'builtin:bob' });
  });

  it('SHARD_COUNT=auto takes the count /gateway/bot recommends, even with SHARD_COUNT=auto in the environment discord.js reads', async () => {
    savedShardCount = process.env['SHARD_COUNT'];
    process.env['SHARD_COUNT'] = 'auto';
    const fake = await startFakeDiscord({ recommendedShards: 2 });
    const [, onOne] = await twoGuilds(fake);
    h = await startHarness({ SHARD_COUNT: 'auto' }, { fake });
    expect(h.bot.client.options.shardCount).toBe(2);
    expect(fake.identifiedShards.sort()).toEqual([[0, 2], [1, 2]]);
    const list = fake.slashCommand({ name: 'hair', subcommand: 'queue', guildId: onOne.guildId, member: OWNER });
    expect(list.dispatchedOn).toEqual([shardOf(onOne.guildId, 2)]);
    await fake.waitForCallback(list.id);
  });

  it('the default (one shard) still gets every server, whatever its id', async () => {
    const fake = await startFakeDiscord();
    const [, onOne] = await twoGuilds(fake);
    h = await startHarness({}, { fake });
    expect(fake.identifiedShards).toEqual([[0, 1]]);
    const sent = fake.slashCommand({ name: 'hair', subcommand: 'queue', guildId: onOne.guildId, member: OWNER });
    expect(sent.dispatchedOn).toEqual([0]);
    await fake.waitForCallback(sent.id);
  });
});
