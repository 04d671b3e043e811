import { Writable } from 'node:stream';
import { Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, errorMessage, parseCustomId, QUEUE_NAMES, redisKeys, tryOnJobId, uiText } from '../../src/shared/index.js';
import { botKeys } from '../../src/bot/bot-keys.js';
import { isEphemeral, replyText, SELFIE, startHarness, waitForJob, type Harness } from './harness.js';

describe('/hair try through the fake Discord', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  function selfie() {
    return h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png', width: 512, height: 512 });
  }

  it('defers publicly, enqueues a contract job with the URL (never the bytes) and shows position + ETA', async () => {
    h = await startHarness();
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), shape: 'builtin:bob', color: 'Blonde' } });
    const callback = await h.fake.waitForCallback(sent.id);
    expect(callback.type).toBe(5);
    expect(isEphemeral(h.fake, sent.id)).toBe(false);
    const job = await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
    expect(job.data).toMatchObject({
      guildId: h.fake.guildId, channelId: h.fake.channelId, locale: 'en', shapePresetId: 'builtin:bob', colorPresetId: 'builtin:blonde',
      origin: 'command', selfie: { size: SELFIE.length, contentType: 'image/png', maxBytes: 10 * 1024 * 1024 },
      reply: { applicationId: h.fake.applicationId, messageId: h.fake.interactions.get(sent.id)!.originalId },
      labels: { shape: 'Bob', color: 'Blonde' },
    });
    // The interaction token is not job data (Bull Board, persistence files): it waits beside the job, expiring with itself.
    expect(JSON.stringify(job.data)).not.toContain(sent.token);
    const tokenKey = redisKeys(h.config.QUEUE_PREFIX).replyToken(job.id!);
    expect(await h.redis.get(tokenKey)).toBe(sent.token);
    expect(await h.redis.pttl(tokenKey)).toBeGreaterThan(13 * 60 * 1000);
    expect(await h.redis.pttl(tokenKey)).toBeLessThanOrEqual(15 * 60 * 1000);
    expect(job.data.selfie.url).toContain('/attachments/');
    expect(JSON.stringify(job.data)).not.toContain(SELFIE.subarray(0, 64).toString('base64'));
    const edit = await h.fake.waitForRequest((r) => r.method === 'PATCH' && r.path.endsWith(`${sent.token}/messages/@original`));
    expect(edit.body.content).toMatch(/position 1, ready <t:\d+:R>/);
    const cancel = parseCustomId(edit.body.components[0].components[0].custom_id);
    expect(cancel).toEqual({ action: 'cancel', jobId: tryOnJobId(sent.id), ownerId: job.data.userId });
  });

  it('logs neither the interaction token, the attachment URL nor the bot token', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    h = await startHarness({}, { log: createLogger({ level: 'trace', destination }) });
    const image = selfie();
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'Bob' } });
    await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
    const bad = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: h.fake.addAttachment({ filename: 'x.png', bytes: Buffer.from('nope'), contentType: 'image/png' }), shape: 'Bob' } });
    await h.fake.waitForCallback(bad.id);
    await h.fake.waitForRequest((r) => r.method === 'PATCH' && r.path.includes(sent.token));
    const log = lines.join('');
    expect(log).toContain('try-on enqueued');
    for (const secret of [sent.token, bad.token, image.url, new URL(image.url).pathname, 'fake-bot-token']) expect(log).not.toContain(secret);
  });

  it('refuses without shape or color, privately, in English and in Korean', async () => {
    h = await startHarness();
    const en = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie() } });
    const ko = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie() }, locale: 'ko' });
    await h.fake.waitForCallback(en.id);
    await h.fake.waitForCallback(ko.id);
    expect(isEphemeral(h.fake, en.id)).toBe(true);
    expect(replyText(h.fake, en.id)).toBe(errorMessage('en', 'NEED_SHAPE_OR_COLOR'));
    expect(replyText(h.fake, ko.id)).toBe(errorMessage('ko', 'NEED_SHAPE_OR_COLOR'));
    expect(await h.tryOnQueue.getJobCounts('waiting')).toEqual({ waiting: 0 });
  });

  it('refuses a text file named .png and a 30 MB file before queueing, in the user locale', async () => {
    h = await startHarness();
    const text = h.fake.addAttachment({ filename: 'selfie.png', bytes: Buffer.from('this is not an image at all\n'), contentType: 'image/png' });
    const big = h.fake.addAttachment({ filename: 'big.jpg', bytes: SELFIE, contentType: 'image/jpeg', size: 30 * 1024 * 1024 });
    const a = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: text, shape: 'Bob' }, locale: 'ko' });
    const b = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: big, shape: 'Bob' }, locale: 'en-GB', attachmentSizeLimit: 25 * 1024 * 1024 });
    await h.fake.waitForCallback(a.id);
    await h.fake.waitForCallback(b.id);
    expect(isEphemeral(h.fake, a.id) && isEphemeral(h.fake, b.id)).toBe(true);
    expect(replyText(h.fake, a.id)).toBe(errorMessage('ko', 'UNSUPPORTED_FORMAT'));
    expect(replyText(h.fake, b.id)).toBe(errorMessage('en', 'IMAGE_TOO_LARGE', { limit: '10 MB' }));
    expect((await h.tryOnQueue.getJobCounts('waiting')).waiting).toBe(0);
  });

  it('sniffs attachments as the intake does: an AVIF brand late in a long ftyp box passes, an SVG named .png does not', async () => {
    h = await startHarness();
    // ftyp box of 40 bytes (major brand isom, AVIF only among the compatible brands), then a media-data box
    const brands = ['isom', 'iso8', 'mif1', 'miaf', 'MA1B', 'avif'];
    const ftyp = Buffer.concat([Buffer.from([0, 0, 0, 8 + 4 + 4 * brands.length]), Buffer.from('ftyp'), Buffer.from(brands[0]!),
      Buffer.from([0, 0, 0, 0]), ...brands.slice(1).map((b) => Buffer.from(b))]);
    const avif = Buffer.concat([ftyp, Buffer.from([0, 0, 0, 16]), Buffer.from('mdat'), Buffer.alloc(8)]);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1:1/x"/></svg>');
    const a = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: h.fake.addAttachment({ filename: 'me.avif', bytes: avif, contentType: 'image/avif' }), shape: 'Bob' } });
    const b = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: h.fake.addAttachment({ filename: 'me.png', bytes: svg, contentType: 'image/png' }), shape: 'Bob' } });
    await waitForJob(h.tryOnQueue, tryOnJobId(a.id)); // the worker decodes (and judges) the rest
    await h.fake.waitForCallback(b.id);
    expect(replyText(h.fake, b.id)).toBe(errorMessage('en', 'UNSUPPORTED_FORMAT'));
    expect((await h.tryOnQueue.getJobCounts('waiting')).waiting).toBe(1);
  });

  it('autocompletes at most 25 presets, filtered by what was typed and by slot', async () => {
    h = await startHarness();
    const all = h.fake.autocomplete({ name: 'hair', subcommand: 'try', options: { shape: '' }, focused: 'shape' });
    const some = h.fake.autocomplete({ name: 'hair', subcommand: 'try', options: { shape: 'shape 1' }, focused: 'shape' });
    const colors = h.fake.autocomplete({ name: 'hair', subcommand: 'try', options: { color: '금' }, focused: 'color', locale: 'ko' });
    const choices = async (id: string) => (await h.fake.waitForCallback(id)).data.choices as Array<{ name: string; value: string }>;
    expect((await choices(all.id)).length).toBe(25);
    expect((await choices(some.id)).map((c) => c.value)).toEqual(Array.from({ length: 10 }, (_, i) => `builtin:shape-1${i}`));
    expect(await choices(colors.id)).toEqual([{ name: '금발', value: 'builtin:blonde' }]);
  });

  it('says when to retry after the hourly quota, and refuses a second concurrent job', async () => {
    h = await startHarness({ USER_HOURLY_QUOTA: '1', USER_MAX_ACTIVE_JOBS: '5' });
    const member = { user: { id: '111111111111111111' } };
    const first = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), shape: 'Bob' }, member });
    await waitForJob(h.tryOnQueue, tryOnJobId(first.id));
    const second = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), shape: 'Bob' }, member, locale: 'ko' });
    await h.fake.waitForCallback(second.id);
    expect(isEphemeral(h.fake, second.id)).toBe(true);
    const text = replyText(h.fake, second.id);
    const retryAt = /<t:(\d+):R>/.exec(text);
    expect(text).toBe(errorMessage('ko', 'QUOTA_EXCEEDED', { limit: 1, retryAt: retryAt?.[0] }));
    expect(Number(retryAt?.[1]) * 1000 - Date.now()).toBeGreaterThan(55 * 60 * 1000);
    await h.close();

    h = await startHarness({ USER_MAX_ACTIVE_JOBS: '1' });
    const one = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), color: 'Copper' }, member });
    await waitForJob(h.tryOnQueue, tryOnJobId(one.id));
    const two = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), color: 'Copper' }, member });
    await h.fake.waitForCallback(two.id);
    // The refusal says when the running one should be ready (Discord renders <t:…:R> as "in 12 seconds").
    const refusal = replyText(h.fake, two.id);
    const eta = /<t:(\d+):R>/.exec(refusal);
    expect(refusal).toBe(errorMessage('en', 'TOO_MANY_JOBS', { eta: eta?.[0] }));
    expect(Number(eta?.[1]) * 1000).toBeGreaterThan(Date.now());
  });

  it('one job per member holds when each of ten members sends a second request while the first is being deferred', async () => {
    h = await startHarness({ USER_MAX_ACTIVE_JOBS: '1', USER_HOURLY_QUOTA: '100' });
    h.fake.callbackDelayMs = 400; // Discord slow to take the defer: the first request is reserved but not yet enqueued
    const keys = botKeys(h.config.QUEUE_PREFIX);
    const members = Array.from({ length: 10 }, (_, i) => ({ user: { id: `5000000000000000${String(i).padStart(2, '0')}` } }));
    const sent = await Promise.all(members.map(async (member) => {
      const first = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), color: 'Copper' }, member });
      for (let i = 0; i < 200 && (await h.redis.zcard(keys.userActive(member.user.id))) === 0; i++) await new Promise((r) => setTimeout(r, 5));
      const second = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), color: 'Copper' }, member });
      return [{ member, interaction: first }, { member, interaction: second }];
    })).then((pairs) => pairs.flat());
    for (const { interaction } of sent) await h.fake.waitForCallback(interaction.id);
    for (const { interaction } of sent) {
      await h.fake.waitFor(() => (isEphemeral(h.fake, interaction.id) || h.fake.original(interaction.id)?.content.includes('position') ? true : undefined), 10_000, 'an answer');
    }
    const jobs = await h.tryOnQueue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    const perMember = new Map<string, number>();
    for (const job of jobs) perMember.set(job.data.userId, (perMember.get(job.data.userId) ?? 0) + 1);
    expect([...perMember.values()].every((n) => n === 1)).toBe(true);
    expect(perMember.size).toBe(members.length);
    expect(sent.filter(({ interaction }) => replyText(h.fake, interaction.id).startsWith(errorMessage('en', 'TOO_MANY_JOBS', { eta: '' }).split(';')[0]!))).toHaveLength(members.length);
  });

  it('/hair queue shows the member their place; /hair cancel removes their waiting job', async () => {
    h = await startHarness();
    const first = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), shape: 'Bob' }, member: { user: { id: '101010101010101010' } } });
    await waitForJob(h.tryOnQueue, tryOnJobId(first.id));
    const mine = { user: { id: '202020202020202020' } };
    const second = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), shape: 'Bob' }, member: mine });
    await waitForJob(h.tryOnQueue, tryOnJobId(second.id));
    const queue = h.fake.slashCommand({ name: 'hair', subcommand: 'queue', member: mine });
    await h.fake.waitForCallback(queue.id);
    const [summary, place] = replyText(h.fake, queue.id).split('\n');
    expect(summary).toBe(uiText('en', 'queue.summary', { waiting: 2, active: 0, workers: 0 }));
    expect(place).toMatch(/^Yours: position 2, ready <t:\d+:R>\.$/);
    const cancel = h.fake.slashCommand({ name: 'hair', subcommand: 'cancel', member: mine, locale: 'ko' });
    await h.fake.waitForCallback(cancel.id);
    expect(replyText(h.fake, cancel.id)).toBe(uiText('ko', 'cancel.done', { count: 1 }));
    expect(await h.tryOnQueue.getJob(tryOnJobId(second.id))).toBeUndefined();
    expect(h.fake.original(second.id)).toMatchObject({ content: uiText('en', 'cancel.done', { count: 1 }), components: [] });
    expect(await h.tryOnQueue.getJob(tryOnJobId(first.id))).toBeDefined();
    const again = h.fake.slashCommand({ name: 'hair', subcommand: 'cancel', member: mine });
    await h.fake.waitForCallback(again.id);
    expect(replyText(h.fake, again.id)).toBe(errorMessage('en', 'JOB_NOT_FOUND'));
  });

  it('edits the reply as the worker reports stages', async () => {
    h = await startHarness();
    // A BullMQ consumer that only reports stages: it exercises the bot's QueueEvents path, not the pipeline.
    const stages = new Worker(QUEUE_NAMES.tryOn, async (job) => {
      for (const stage of ['downloading', 'detecting', 'transferring'] as const) {
        await job.updateProgress({ stage, at: Date.now() });
        await h.fake.waitFor(() => h.fake.original(job.id!.slice(1))?.content.includes(uiText('ko', `stage.${stage}`)) || undefined, 5_000, stage);
      }
      return { done: true };
    }, { connection: { url: h.config.REDIS_URL }, prefix: h.config.QUEUE_PREFIX });
    try {
      const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), shape: 'Bob' }, locale: 'ko' });
      await h.fake.waitFor(() => h.fake.original(sent.id)?.content.includes(uiText('ko', 'stage.transferring')) || undefined, 10_000);
      expect(h.fake.webhookRequests(sent.token).filter((r) => r.method === 'PATCH').length).toBeGreaterThanOrEqual(4);
    } finally {
      await stages.close();
    }
  });

  it('tells the member when the worker holding their try-on died and the job is back in the queue', async () => {
    h = await startHarness();
    const connection = { url: h.config.REDIS_URL, maxRetriesPerRequest: null };
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), shape: 'Bob' }, locale: 'ko' });
    const jobId = tryOnJobId(sent.id);
    await waitForJob(h.tryOnQueue, jobId);
    await h.fake.waitFor(() => h.fake.original(sent.id)?.content.includes('<t:') || undefined, 10_000, 'the queued reply');
    // A worker takes the job with a short lock and dies (no renewal, no completion).
    const dead = new Worker(QUEUE_NAMES.tryOn, null, { connection, prefix: h.config.QUEUE_PREFIX, lockDuration: 800 });
    expect((await dead.getNextJob('dead-worker-token'))?.id).toBe(jobId);
    await dead.close();
    // A live worker's stalled check puts it back (its processor keeps it running until the test ends).
    let finish!: () => void;
    const live = new Worker(QUEUE_NAMES.tryOn, () => new Promise<void>((resolve) => (finish = resolve)), { connection, prefix: h.config.QUEUE_PREFIX, stalledInterval: 300 });
    try {
      const text = await h.fake.waitFor(() => {
        const content = h.fake.original(sent.id)?.content ?? '';
        return content.startsWith(uiText('ko', 'try.requeued', { eta: '' }).slice(0, 8)) ? content : undefined;
      }, 15_000, 'the requeue notice');
      expect(text).toBe(uiText('ko', 'try.requeued', { eta: /<t:\d+:R>/.exec(text)?.[0] }));
      const cancel = parseCustomId((h.fake.original(sent.id)!.components[0] as { components: Array<{ custom_id: string }> }).components[0]!.custom_id);
      expect(cancel).toMatchObject({ action: 'cancel', jobId });
    } finally {
      finish?.();
      await live.close();
    }
  });

  it('throttles progress edits to one per PROGRESS_EDIT_INTERVAL_MS', async () => {
    h = await startHarness({ PROGRESS_EDIT_INTERVAL_MS: '60000' });
    const stages = new Worker(QUEUE_NAMES.tryOn, async (job) => {
      for (const stage of ['downloading', 'detecting', 'aligning', 'transferring'] as const) {
        await job.updateProgress({ stage, at: Date.now() });
        await new Promise((r) => setTimeout(r, 150));
      }
      return { done: true };
    }, { connection: { url: h.config.REDIS_URL }, prefix: h.config.QUEUE_PREFIX });
    try {
      const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: selfie(), shape: 'Bob' } });
      await waitForJob(h.tryOnQueue, tryOnJobId(sent.id));
      for (let i = 0; i < 100 && (await h.tryOnQueue.getJobState(tryOnJobId(sent.id))) !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await h.tryOnQueue.getJobState(tryOnJobId(sent.id))).toBe('completed');
      await new Promise((r) => setTimeout(r, 300)); // room for any late (wrong) edit to arrive
      const stageEdits = h.fake.webhookRequests(sent.token).filter((r) => r.method === 'PATCH' && String(r.body?.content).startsWith('Working on your try-on'));
      expect(stageEdits.map((r) => r.body.content)).toEqual([uiText('en', 'try.stage', { stage: uiText('en', 'stage.downloading') })]);
    } finally {
      await stages.close();
    }
  });
});
