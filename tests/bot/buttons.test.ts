import { afterEach, describe, expect, it } from 'vitest';
import { botKeys } from '../../src/bot/bot-keys.js';
import { buildCustomId, errorMessage, QUEUE_NAMES, redisKeys, tryOnJobId, uiText } from '../../src/shared/index.js';
import { message, user } from '../fake-discord/index.js';
import { finishJob, isEphemeral, replyText, SELFIE, startHarness, waitForJob, type Harness } from './harness.js';

const OWNER = { user: { id: '777777777777777777' } };
const OTHER = { user: { id: '888888888888888888' } };

describe('result buttons and the context menu (state in customIds and Redis only)', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  /** A finished try-on and the result message the worker would have posted with the contract's buttons. */
  async function finishedTryOn() {
    const image = h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' });
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'Bob', color: 'Blonde' }, member: OWNER });
    const job = await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
    await finishJob(h, QUEUE_NAMES.tryOn, job.id!, { jobId: job.id, deliveredVia: 'interaction', format: 'jpeg', bytes: 1000, width: 512, height: 512, timings: { total: 1500, pipeline: 900 }, modelKind: 'contract', executionProvider: 'cpu', workerId: 'w1', finishedAt: Date.now() });
    const row = (action: 'retry' | 'recolor' | 'delete') => ({ type: 2, style: 2, label: action, custom_id: buildCustomId({ action, jobId: job.id!, ownerId: OWNER.user.id }) });
    const result = message({ channelId: h.fake.channelId, guildId: h.fake.guildId, author: h.fake.botUser, content: 'result', components: [{ type: 1, components: [row('recolor'), row('retry'), row('delete')] }], applicationId: h.fake.applicationId });
    return { job, result };
  }

  it('retry works after a bot restart (a new Client): same photo and presets, new job', async () => {
    h = await startHarness({ USER_MAX_ACTIVE_JOBS: '3' });
    const { job, result } = await finishedTryOn();
    await h.restartBot();
    const click = h.fake.component({ customId: buildCustomId({ action: 'retry', jobId: job.id!, ownerId: OWNER.user.id }), message: result, member: OWNER });
    const again = await waitForJob(h.tryOnQueue, tryOnJobId(click.id));
    expect(again.data).toMatchObject({ origin: 'retry', selfie: job.data.selfie, shapePresetId: 'builtin:bob', colorPresetId: 'builtin:blonde', labels: { shape: 'Bob', color: 'Blonde' } });
    expect(await h.redis.get(redisKeys(h.config.QUEUE_PREFIX).replyToken(again.id!))).toBe(click.token);
    expect((await h.fake.waitForCallback(click.id)).type).toBe(5);
  });

  it('another color: a private select, then a new job with the new color and the old shape', async () => {
    h = await startHarness({ USER_MAX_ACTIVE_JOBS: '3' });
    const { job, result } = await finishedTryOn();
    await h.restartBot();
    const click = h.fake.component({ customId: buildCustomId({ action: 'recolor', jobId: job.id!, ownerId: OWNER.user.id }), message: result, member: OWNER, locale: 'ko' });
    const menu = await h.fake.waitForCallback(click.id);
    expect(menu.data.flags & 64).toBe(64);
    expect(menu.data.content).toBe(uiText('ko', 'pick.color'));
    const select = menu.data.components[0].components[0];
    expect(select.options.map((o: { value: string }) => o.value)).toEqual(['builtin:blonde', 'builtin:copper', 'builtin:pink-bob']);
    const pick = h.fake.selectMenu({ customId: select.custom_id, values: ['builtin:copper'], member: OWNER });
    const recolored = await waitForJob(h.tryOnQueue, tryOnJobId(pick.id));
    expect(recolored.data).toMatchObject({ origin: 'recolor', shapePresetId: 'builtin:bob', colorPresetId: 'builtin:copper', selfie: job.data.selfie });
  });

  it('delete is for the owner only', async () => {
    h = await startHarness();
    const { job, result } = await finishedTryOn();
    const customId = buildCustomId({ action: 'delete', jobId: job.id!, ownerId: OWNER.user.id });
    const stranger = h.fake.component({ customId, message: result, member: OTHER, locale: 'ko' });
    await h.fake.waitForCallback(stranger.id);
    expect(isEphemeral(h.fake, stranger.id)).toBe(true);
    expect(replyText(h.fake, stranger.id)).toBe(errorMessage('ko', 'NOT_OWNER'));
    expect(h.fake.messages.has(result.id)).toBe(true);
    const owner = h.fake.component({ customId, message: result, member: OWNER });
    await h.fake.waitForRequest((r) => r.method === 'DELETE' && r.path.includes(owner.token));
    expect(h.fake.messages.has(result.id)).toBe(false);
  });

  it('cancel removes a waiting job', async () => {
    h = await startHarness();
    const image = h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png' });
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, color: 'Copper' }, member: OWNER });
    await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
    const queued = await h.fake.waitFor(() => (h.fake.original(sent.id)?.components.length ? h.fake.original(sent.id) : undefined));
    const click = h.fake.component({ customId: buildCustomId({ action: 'cancel', jobId: tryOnJobId(sent.id), ownerId: OWNER.user.id }), message: queued, member: OWNER });
    expect((await h.fake.waitForCallback(click.id)).data.content).toBe(uiText('en', 'cancel.done', { count: 1 }));
    expect(await h.tryOnQueue.getJob(tryOnJobId(sent.id))).toBeUndefined();
  });

  it('context menu: private pickers, picks kept in Redis across a restart, then a job from the message image', async () => {
    h = await startHarness();
    const author = user();
    const image = h.fake.addAttachment({ filename: 'photo.jpg', bytes: SELFIE, contentType: 'image/png' });
    const target = h.fake.addMessage({ author, content: 'new pic', attachments: [image] });
    const menu = h.fake.messageContextMenu({ name: 'Try a hairstyle', target, member: OWNER, locale: 'ko' });
    const shown = await h.fake.waitForCallback(menu.id);
    expect(shown.data.flags & 64).toBe(64);
    expect(shown.data.content).toBe(uiText('ko', 'context.prompt'));
    const [shapeRow, colorRow, goRow] = shown.data.components;
    expect(shapeRow.components[0].options.length).toBe(25);
    const pickShape = h.fake.selectMenu({ customId: shapeRow.components[0].custom_id, values: ['builtin:bob'], member: OWNER });
    expect((await h.fake.waitForCallback(pickShape.id)).type).toBe(6);
    await h.restartBot();
    const pickColor = h.fake.selectMenu({ customId: colorRow.components[0].custom_id, values: ['builtin:blonde'], member: OWNER });
    await h.fake.waitForCallback(pickColor.id);
    const stranger = h.fake.component({ customId: goRow.components[0].custom_id, member: OTHER });
    expect((await h.fake.waitForCallback(stranger.id)).data.content).toBe(errorMessage('en', 'NOT_OWNER'));
    const go = h.fake.component({ customId: goRow.components[0].custom_id, member: OWNER, locale: 'ko' });
    const job = await waitForJob(h.tryOnQueue, tryOnJobId(go.id));
    expect(job.data).toMatchObject({ origin: 'context-menu', shapePresetId: 'builtin:bob', colorPresetId: 'builtin:blonde', locale: 'ko', selfie: { url: image.url } });
    // The handler deletes the draft after its reply, so the job can be visible a moment before the draft is gone.
    await expect.poll(() => h.redis.exists(botKeys(h.config.QUEUE_PREFIX).draft(menu.id))).toBe(0);
  });

  it('context menu on a message without an image is refused privately', async () => {
    h = await startHarness();
    const target = h.fake.addMessage({ content: 'no image here' });
    const menu = h.fake.messageContextMenu({ name: 'Try a hairstyle', target, locale: 'ko' });
    await h.fake.waitForCallback(menu.id);
    expect(isEphemeral(h.fake, menu.id)).toBe(true);
    expect(replyText(h.fake, menu.id)).toBe(errorMessage('ko', 'UNSUPPORTED_FORMAT'));
  });
});
