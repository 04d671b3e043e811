import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { buildCustomId, createLogger, errorMessage, QUEUE_NAMES, tryOnJobId, uiText } from '../../src/shared/index.js';
import { message, startFakeDiscord, type FakeDiscord } from '../fake-discord/index.js';
import { finishJob, isEphemeral, replyText, SELFIE, startHarness, waitForJob, type Harness } from './harness.js';

const OWNER = { user: { id: '737373737373737373' } };
const OTHER = { user: { id: '747474747474747474' } };

/** A body Discord could have signed (`/hair privacy`), not sent yet. */
function commandPayload(fake: FakeDiscord) {
  return fake.slashCommandPayload({ name: 'hair', subcommand: 'privacy' }).payload as { token: string };
}

/**
 * INTERACTIONS_MODE=http with the real discord.js Client: the fake Discord POSTs each interaction to the bot's
 * endpoint, signed with the application's Ed25519 key, and takes the answers on its REST API (callback, webhooks).
 */
describe('HTTP interactions endpoint (INTERACTIONS_MODE=http)', () => {
  let h: Harness;
  let fake: FakeDiscord;

  beforeAll(async () => {
    fake = await startFakeDiscord();
    h = await startHarness({ INTERACTIONS_MODE: 'http', DISCORD_PUBLIC_KEY: fake.publicKeyHex, INTERACTIONS_PORT: '0', INTERACTIONS_HOST: '127.0.0.1', USER_MAX_ACTIVE_JOBS: '5' }, { fake });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('opens no gateway connection and answers PING with PONG (the developer portal\'s check)', async () => {
    expect(h.fake.gatewayEvents).toEqual([]);
    expect(h.fake.requests.some((r) => r.path.startsWith('/gateway'))).toBe(false);
    expect(await fake.ping()).toEqual({ status: 200, body: { type: 1 } });
  });

  it('refuses a request with no signature, a wrong one, or one signed for another body with 401, and runs nothing', async () => {
    const payload = commandPayload(fake);
    const body = JSON.stringify(payload);
    const signed = fake.signatureHeaders(body);
    expect((await fake.postInteraction(payload, {})).status).toBe(401);
    expect((await fake.postInteraction(payload, { 'x-signature-timestamp': signed['x-signature-timestamp']! })).status).toBe(401);
    expect((await fake.postInteraction(payload, { ...signed, 'x-signature-ed25519': 'ab'.repeat(64) })).status).toBe(401);
    expect((await fake.postInteraction(payload, { ...signed, 'x-signature-ed25519': 'not hex' })).status).toBe(401);
    expect((await fake.postInteraction(payload, fake.signatureHeaders(JSON.stringify({ ...payload, type: 1 })))).status).toBe(401);
    // Another application's key: a valid Ed25519 signature, but not Discord's for this application.
    const stranger = await startFakeDiscord();
    try {
      expect((await fake.postInteraction(payload, stranger.signatureHeaders(body))).status).toBe(401);
      expect((await fake.ping(stranger.signatureHeaders(JSON.stringify({ type: 1 })))).status).toBe(401);
    } finally {
      await stranger.close();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.requests.some((r) => r.path.includes(payload.token))).toBe(false);
  });

  it('refuses a correctly signed request whose timestamp is older (or newer) than five minutes with 401', async () => {
    const payload = commandPayload(fake);
    const body = JSON.stringify(payload);
    const now = Math.floor(Date.now() / 1000);
    expect((await fake.postInteraction(payload, fake.signatureHeaders(body, now - 301))).status).toBe(401);
    expect((await fake.postInteraction(payload, fake.signatureHeaders(body, now + 330))).status).toBe(401); // margin: the server's clock reads later than `now`
    expect((await fake.postInteraction(payload, fake.signatureHeaders(body, now - 60))).status).toBe(202);
    expect((await fake.ping(fake.signatureHeaders(JSON.stringify({ type: 1 }), now - 3600))).status).toBe(401);
  });

  it('the same signed request twice (a replay, or a balancer\'s retry): 202 both times, the handler runs once', async () => {
    const { state, payload } = fake.slashCommandPayload({ name: 'hair', subcommand: 'privacy' });
    const headers = fake.signatureHeaders(JSON.stringify(payload));
    expect((await fake.postInteraction(payload, headers)).status).toBe(202);
    await fake.waitForCallback(state.id);
    expect((await fake.postInteraction(payload, headers)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.requests.filter((r) => r.path.includes(state.token))).toHaveLength(1);
  });

  it('/hair try: 202, then the same handler as the gateway defers, queues the job and edits the reply over REST', async () => {
    const image = fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png', width: 512, height: 512 });
    const sent = fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'builtin:bob', color: 'Blonde' }, member: OWNER });
    expect(await sent.delivery).toEqual({ status: 202, body: undefined });
    expect((await fake.waitForCallback(sent.id)).type).toBe(5);
    const job = await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
    expect(job.data).toMatchObject({ guildId: fake.guildId, shapePresetId: 'builtin:bob', colorPresetId: 'builtin:blonde', reply: { applicationId: fake.applicationId } });
    const edit = await fake.waitForRequest((r) => r.method === 'PATCH' && r.path.endsWith(`${sent.token}/messages/@original`));
    expect(edit.body.content).toMatch(/position \d+, ready <t:\d+:R>/);
  });

  it('a user error is private and localized, as on the gateway', async () => {
    const image = fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' });
    const sent = fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image }, member: OTHER, locale: 'ko' });
    await fake.waitForCallback(sent.id);
    expect(isEphemeral(fake, sent.id)).toBe(true);
    expect(replyText(fake, sent.id)).toBe(errorMessage('ko', 'NEED_SHAPE_OR_COLOR'));
  });

  it('buttons: retry on a result makes a new job, and delete is for the owner only', async () => {
    const image = fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' });
    const sent = fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'Bob', color: 'Blonde' }, member: OWNER });
    const job = await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
    await finishJob(h, QUEUE_NAMES.tryOn, job.id!, { jobId: job.id, deliveredVia: 'interaction', format: 'jpeg', bytes: 1000, width: 512, height: 512, timings: { total: 1500, pipeline: 900 }, modelKind: 'contract', executionProvider: 'cpu', workerId: 'w1', finishedAt: Date.now() });
    const button = (action: 'retry' | 'delete') => ({ type: 2, style: 2, label: action, custom_id: buildCustomId({ action, jobId: job.id!, ownerId: OWNER.user.id }) });
    const result = message({ channelId: fake.channelId, guildId: fake.guildId, author: fake.botUser, content: 'result', components: [{ type: 1, components: [button('retry'), button('delete')] }], applicationId: fake.applicationId });
    const retry = fake.component({ customId: button('retry').custom_id, message: result, member: OWNER });
    expect((await retry.delivery)?.status).toBe(202);
    const again = await waitForJob(h.tryOnQueue, tryOnJobId(retry.id));
    expect(again.data).toMatchObject({ origin: 'retry', selfie: job.data.selfie, shapePresetId: 'builtin:bob' });
    const stranger = fake.component({ customId: button('delete').custom_id, message: result, member: OTHER, locale: 'ko' });
    await fake.waitForCallback(stranger.id);
    expect(replyText(fake, stranger.id)).toBe(errorMessage('ko', 'NOT_OWNER'));
    const owner = fake.component({ customId: button('delete').custom_id, message: result, member: OWNER });
    await fake.waitForRequest((r) => r.method === 'DELETE' && r.path.includes(owner.token));
    expect(fake.messages.has(result.id)).toBe(false);
  });

  it('stateless: a second replica on the same Redis handles the button of a message the first one answered', async () => {
    const image = fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' });
    const sent = fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, color: 'Copper' }, member: OTHER });
    const job = await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
    const queued = await fake.waitFor(() => (fake.original(sent.id)?.components.length ? fake.original(sent.id) : undefined));
    await h.restartBot(); // a brand-new replica: new Client, new Redis connections, new port
    const cancel = fake.component({ customId: buildCustomId({ action: 'cancel', jobId: job.id!, ownerId: OTHER.user.id }), message: queued, member: OTHER });
    expect((await cancel.delivery)?.status).toBe(202);
    await fake.waitForCallback(cancel.id);
    expect(await h.tryOnQueue.getJob(job.id!)).toBeUndefined();
  });

  it('two replicas hear the same queue events, and each stage is edited into the member\'s reply once', async () => {
    const second = createBot(h.config, { log: createLogger({ level: 'silent' }), builtins: [] });
    await second.start();
    const stages = ['downloading', 'detecting', 'transferring'] as const;
    const worker = new Worker(QUEUE_NAMES.tryOn, async (job) => {
      for (const stage of stages) {
        await job.updateProgress({ stage, at: Date.now() });
        await new Promise((r) => setTimeout(r, 300));
      }
      return { done: true };
    }, { connection: { url: h.config.REDIS_URL }, prefix: h.config.QUEUE_PREFIX });
    try {
      const image = fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' });
      const member = { user: { id: '727272727272727272' } };
      const sent = fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'Bob' }, member });
      await fake.waitFor(() => fake.original(sent.id)?.content.includes(uiText('en', 'stage.transferring')) || undefined, 10_000, 'the last stage');
      await new Promise((r) => setTimeout(r, 300));
      const edits = fake.webhookRequests(sent.token).filter((r) => r.method === 'PATCH').map((r) => String(r.body?.content ?? ''));
      for (const stage of stages) expect(edits.filter((c) => c.includes(uiText('en', `stage.${stage}`))), stage).toHaveLength(1);
    } finally {
      await worker.close();
      await second.close();
    }
  });
});
