import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import { createLogger, errorMessage, parseCustomId, tryOnJobId, uiText } from '../../src/shared/index.js';
import { createWorker, type HairWorker } from '../../src/worker/create-worker.js';
import { PERMISSIONS } from '../fake-discord/index.js';
import { SELFIE, startHarness, type Harness } from '../bot/harness.js';

const NO_FACE = readFileSync(new URL('../fixtures/coffee.png', import.meta.url));
const MEMBER = { user: { id: '919191919191919191' } };

/**
 * The whole path with real parts: the fake Discord → the real discord.js bot → BullMQ on the real Redis → the real
 * worker running the real engine on the contract models (`models prepare`) → the result uploaded to the fake.
 */
describe('bot → queue → worker → Discord (contract models)', () => {
  let h: Harness;
  let worker: HairWorker;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'hair-e2e-cache-'));
    h = await startHarness({ HAIR_EP: 'cpu', METRICS_PORT: '0', PRESET_CACHE_DIR: cacheDir, USER_MAX_ACTIVE_JOBS: '5' }, { realStyles: true });
    worker = await createWorker(h.config, { logger: createLogger({ level: 'silent' }), createEngine: createTryOnEngine });
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await h?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('/hair try: deferred, queued with an ETA, progress edits, then the result image with owner buttons', async () => {
    const image = h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png', width: 512, height: 512 });
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'builtin:short-layered-mirrored', color: 'Copper' }, member: MEMBER, locale: 'ko' });
    expect((await h.fake.waitForCallback(sent.id)).type).toBe(5);
    const result = await h.fake.waitFor(() => {
      const original = h.fake.original(sent.id);
      return original?.attachments.length ? original : undefined;
    }, 90_000, 'the result image');
    // The presets by their names in the member's language, not their slugs.
    expect((result.embeds[0] as { fields: Array<{ value: string }> }).fields.map((f) => f.value)).toEqual(['숏 레이어드 (왼쪽 가르마)', '코퍼']);
    const bytes = h.fake.cdnBytes(result.attachments[0]!.url)!;
    expect(bytes.length).toBeGreaterThan(1000);
    expect([[0xff, 0xd8], [0x89, 0x50], [0x52, 0x49]]).toContainEqual([bytes[0], bytes[1]]);
    const ids = result.components.flatMap((row: any) => row.components.map((c: any) => parseCustomId(c.custom_id))).filter(Boolean);
    expect(ids.map((x: any) => x.action)).toEqual(expect.arrayContaining(['recolor', 'retry', 'delete']));
    expect(ids.every((x: any) => x.ownerId === MEMBER.user.id && x.jobId === tryOnJobId(sent.id))).toBe(true);
    const edits = h.fake.webhookRequests(sent.token).filter((r) => r.method === 'PATCH').map((r) => r.body?.content ?? '');
    expect(edits[0]).toMatch(/<t:\d+:R>/);
    expect(edits.some((c) => c.startsWith(uiText('ko', 'try.stage', { stage: '' }).slice(0, 5)))).toBe(true);
    // The owner deletes it with the worker's own button.
    const del = result.components.flatMap((row: any) => row.components).find((c: any) => parseCustomId(c.custom_id)?.action === 'delete');
    const click = h.fake.component({ customId: del.custom_id, message: result, member: MEMBER });
    await h.fake.waitForRequest((r) => r.method === 'DELETE' && r.path.includes(click.token), 10_000);
    expect(h.fake.messages.has(result.id)).toBe(false);

    // The admin embed reads the finished job and the real worker's registry entry.
    const admin = { user: { id: '939393939393939393' }, permissions: PERMISSIONS.administrator };
    let fields: Record<string, string> = {};
    for (let i = 0; i < 40 && !fields[uiText('en', 'stats.lastHour')]?.startsWith('1 '); i++) {
      const stats = h.fake.slashCommand({ name: 'hair-admin', subcommand: 'stats', member: admin });
      const embed = (await h.fake.waitForCallback(stats.id)).data.embeds[0];
      fields = Object.fromEntries(embed.fields.map((f: { name: string; value: string }) => [f.name, f.value]));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(fields[uiText('en', 'stats.lastHour')]).toMatch(/^1 completed/);
    expect(fields[uiText('en', 'stats.workers', { count: 1 })]).toContain(`\`${worker.id}\``);
    expect(fields[uiText('en', 'stats.workers', { count: 1 })]).toContain('cpu');
  }, 120_000);

  it('context menu on a posted photo → pickers → the worker posts the result in reply to the button', async () => {
    const image = h.fake.addAttachment({ filename: 'photo.png', bytes: SELFIE, contentType: 'image/png' });
    const target = h.fake.addMessage({ attachments: [image] });
    const menu = h.fake.messageContextMenu({ name: 'Try a hairstyle', target, member: MEMBER });
    const [shapeRow, colorRow, goRow] = (await h.fake.waitForCallback(menu.id)).data.components;
    await h.fake.waitForCallback(h.fake.selectMenu({ customId: shapeRow.components[0].custom_id, values: ['builtin:short-layered'], member: MEMBER }).id);
    await h.fake.waitForCallback(h.fake.selectMenu({ customId: colorRow.components[0].custom_id, values: ['builtin:platinum'], member: MEMBER }).id);
    const go = h.fake.component({ customId: goRow.components[0].custom_id, member: MEMBER });
    const result = await h.fake.waitFor(() => (h.fake.original(go.id)?.attachments.length ? h.fake.original(go.id) : undefined), 90_000, 'the result image');
    expect(h.fake.cdnBytes(result.attachments[0]!.url)!.length).toBeGreaterThan(1000);
  }, 120_000);

  it('a photo without a face: the worker answers privately in the member\'s language, nothing retried, nothing left in public', async () => {
    const image = h.fake.addAttachment({ filename: 'coffee.png', bytes: NO_FACE, contentType: 'image/png' });
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, color: 'Copper' }, member: MEMBER, locale: 'ko' });
    const publicReply = (await h.fake.waitFor(() => h.fake.interactions.get(sent.id)?.originalId, 10_000, 'the deferred reply'))!;
    const notice = await h.fake.waitFor(() => {
      const id = h.fake.interactions.get(sent.id)?.followups.find((m) => h.fake.messages.get(m)?.content.includes(errorMessage('ko', 'NO_FACE')));
      return id ? h.fake.messages.get(id) : undefined;
    }, 60_000, 'the private NO_FACE notice');
    expect((notice!.flags ?? 0) & 64).toBe(64);
    // The public "working on it" message is gone, and no public message of the channel names the failure.
    expect(h.fake.messages.has(publicReply)).toBe(false);
    const publicTexts = [...h.fake.messages.values()].filter((m) => ((m.flags ?? 0) & 64) === 0).map((m) => m.content);
    expect(publicTexts.some((text) => text.includes(errorMessage('ko', 'NO_FACE')))).toBe(false);
    let state = '';
    for (let i = 0; i < 100 && state !== 'failed'; i++) {
      state = await h.tryOnQueue.getJobState(tryOnJobId(sent.id));
      if (state !== 'failed') await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe('failed');
    expect((await h.tryOnQueue.getJob(tryOnJobId(sent.id)))?.attemptsMade).toBe(1);
  }, 90_000);

  it('the token expires while the job runs: the result goes to the channel and no "working on it" message stays behind', async () => {
    let release!: () => void;
    const image = h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png', hold: new Promise<void>((resolve) => (release = resolve)) });
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, color: 'Copper' }, member: MEMBER });
    const placeholder = await h.fake.waitFor(() => (h.fake.original(sent.id)?.components.length ? h.fake.original(sent.id) : undefined), 10_000, 'the queued reply');
    h.fake.expireToken(sent.token); // Discord ended the token early (it also happens 15 minutes in)
    release();
    const result = await h.fake.waitFor(() => [...h.fake.messages.values()].find((m) => m.channel_id === h.fake.channelId && m.attachments.length > 0 && m.content.includes(`<@${MEMBER.user.id}>`)), 90_000, 'the result in the channel');
    expect(result.components.length).toBeGreaterThan(0);
    await h.fake.waitFor(() => (h.fake.messages.has(placeholder.id) ? undefined : true), 10_000, 'the placeholder to be removed');
    const removal = h.fake.requests.find((r) => r.method === 'DELETE' && r.path === `/channels/${h.fake.channelId}/messages/${placeholder.id}`);
    expect(removal?.authorization).toMatch(/^Bot /);
  }, 120_000);

  it('a moderator adds a preset; the worker builds it and members can pick it', async () => {
    const image = h.fake.addAttachment({ filename: 'style.png', bytes: SELFIE, contentType: 'image/png' });
    const sent = h.fake.slashCommand({ name: 'hair-presets', subcommand: 'add', options: { name: 'Astro', kind: 'shape', image }, member: { user: { id: '929292929292929292' }, permissions: PERMISSIONS.manageGuild } });
    await h.fake.waitFor(() => (h.fake.original(sent.id)?.content === uiText('en', 'presets.ready', { name: 'Astro' }) || undefined), 90_000, 'preset ready');
    const auto = h.fake.autocomplete({ name: 'hair', subcommand: 'try', options: { shape: 'astro' }, focused: 'shape' });
    expect((await h.fake.waitForCallback(auto.id)).data.choices).toEqual([{ name: 'Astro', value: `guild:${h.fake.guildId}:astro` }]);
  }, 120_000);

  it('a preset photo without a face: the moderator is told in their language and the preset is marked failed', async () => {
    const image = h.fake.addAttachment({ filename: 'coffee.png', bytes: NO_FACE, contentType: 'image/png' });
    const sent = h.fake.slashCommand({ name: 'hair-presets', subcommand: 'add', options: { name: 'Coffee', kind: 'color', image }, member: { user: { id: '949494949494949494' }, permissions: PERMISSIONS.manageGuild }, locale: 'ko' });
    await h.fake.waitFor(() => (h.fake.original(sent.id)?.content === errorMessage('ko', 'NO_FACE') || undefined), 90_000, 'NO_FACE for the preset');
    const list = h.fake.slashCommand({ name: 'hair-presets', subcommand: 'list', member: { permissions: PERMISSIONS.manageGuild } });
    expect((await h.fake.waitForCallback(list.id)).data.embeds[0].description).toMatch(/Coffee · color · failed/);
  }, 120_000);
});
