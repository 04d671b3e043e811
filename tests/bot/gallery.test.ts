import { afterEach, describe, expect, it } from 'vitest';
import { builtinPresets, DEFAULT_JOB_OPTIONS, uiText } from '../../src/shared/index.js';
import { PERMISSIONS } from '../fake-discord/index.js';
import { isEphemeral, replyText, startHarness, type Harness } from './harness.js';

describe('/hair presets, /hair queue, /hair privacy', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('reads the built-ins from styles/manifest.json with Korean names and images', () => {
    const presets = builtinPresets('styles');
    expect(presets.length).toBeGreaterThanOrEqual(2);
    for (const p of presets) {
      expect(p.id).toMatch(/^builtin:/);
      expect(p.nameKo).toBeTruthy();
      expect(p.imagePath).toMatch(/^styles\//);
    }
  });

  it('shows a private paged gallery with thumbnails uploaded as files; pages turn after a restart', async () => {
    h = await startHarness();
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'presets', locale: 'ko' });
    const first = await h.fake.waitForCallback(sent.id);
    expect(first.data.flags & 64).toBe(64);
    const count = 34; // testBuiltins(): 30 shapes + bob + 2 colors + 1 both
    expect(first.data.content).toBe(uiText('ko', 'gallery.header', { page: 1, pages: 7, count }));
    expect(first.data.embeds.length).toBe(5);
    expect(first.data.embeds[0].title).toBe('단발');
    const next = first.data.components[0].components[1];
    await h.restartBot();
    const turn = h.fake.component({ customId: next.custom_id, message: h.fake.original(sent.id)!, locale: 'ko' });
    const second = await h.fake.waitForCallback(turn.id);
    expect(second.type).toBe(7);
    expect(second.data.content).toBe(uiText('ko', 'gallery.header', { page: 2, pages: 7, count }));

    const colors = h.fake.slashCommand({ name: 'hair', subcommand: 'presets', options: { kind: 'color' } });
    const shown = await h.fake.waitForCallback(colors.id);
    expect(shown.data.embeds.map((e: { title: string }) => e.title)).toEqual(['Blonde', 'Copper', 'Pink bob']);
  });

  it('attaches the built-in images as thumbnails when styles/ has them', async () => {
    h = await startHarness({}, { realStyles: true });
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'presets' });
    const req = await h.fake.waitForRequest((r) => r.path === `/interactions/${sent.id}/${sent.token}/callback`);
    expect(req.body.data.embeds.length).toBe(5);
    expect(req.files.length).toBe(5);
    expect(req.body.data.embeds[0].thumbnail.url).toBe(`attachment://${req.files[0]!.filename}`);
    expect([...req.files[0]!.bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(req.files[0]!.bytes.length).toBeLessThan(60_000);
  });

  it('/hair-presets preview shows a built-in image to moderators', async () => {
    h = await startHarness({}, { realStyles: true });
    const sent = h.fake.slashCommand({ name: 'hair-presets', subcommand: 'preview', options: { name: 'builtin:copper' }, member: { permissions: PERMISSIONS.manageGuild }, locale: 'ko' });
    const req = await h.fake.waitForRequest((r) => r.path === `/interactions/${sent.id}/${sent.token}/callback`);
    expect(req.body.data.flags & 64).toBe(64);
    expect(req.body.data.embeds[0]).toMatchObject({ title: '코퍼', image: { url: 'attachment://preset.jpg' } });
    expect(req.files.map((f) => f.filename)).toEqual(['preset.jpg']);
  });

  it('queue shows the member their position; privacy says exactly what is kept and for how long', async () => {
    h = await startHarness();
    const q = h.fake.slashCommand({ name: 'hair', subcommand: 'queue' });
    await h.fake.waitForCallback(q.id);
    expect(replyText(h.fake, q.id)).toBe(`${uiText('en', 'queue.summary', { waiting: 0, active: 0, workers: 0 })}\n${uiText('en', 'queue.mineNone')}`);
    const p = h.fake.slashCommand({ name: 'hair', subcommand: 'privacy', locale: 'ko' });
    const e = h.fake.slashCommand({ name: 'hair', subcommand: 'privacy' });
    await h.fake.waitForCallback(p.id);
    await h.fake.waitForCallback(e.id);
    expect(isEphemeral(h.fake, p.id)).toBe(true);
    // The numbers are the ones the queue uses (tests/worker/faults.test.ts checks what a finished job keeps).
    const hours = (s: number) => s / 3600;
    const numbers = { completedHours: hours(DEFAULT_JOB_OPTIONS.tryOn.removeOnComplete.age), failedHours: hours(DEFAULT_JOB_OPTIONS.tryOn.removeOnFail.age), tokenMinutes: 15 };
    expect(replyText(h.fake, p.id)).toBe(uiText('ko', 'privacy.text', numbers));
    const english = replyText(h.fake, e.id);
    expect(english).toBe(uiText('en', 'privacy.text', numbers));
    for (const fact of ['1 h after your result', '24 h after a failure', 'at most 15 min', 'removed at once if the try-on fails']) expect(english).toContain(fact);
    expect(english).not.toMatch(/\{\w+\}/);
  });
});
