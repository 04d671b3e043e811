import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCustomId, parseJobFailure, redisKeys, workerRegistrationSchema, type TryOnResultPayload } from '../../src/shared/job.js';
import { createWorker, type HairWorker } from '../../src/worker/create-worker.js';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import { contractModelsDir, labelAsOfficialExport } from '../pipeline/hairfast/fixtures.js';
import { onCanvas } from '../helpers/images.js';
import { BOT_TOKEN, privateNotice, SELFIE, startHarness, waitUntil, type Harness } from '../helpers/worker-harness.js';

let h: Harness;
let worker: HairWorker | undefined;

async function startWorker(extra: Record<string, string> = {}, now?: () => number): Promise<HairWorker> {
  worker = await createWorker(h.config(extra), { logger: h.logger, createEngine: createTryOnEngine, ...(now ? { now } : {}) });
  return worker;
}

async function failureOf(job: Job) {
  const error = await job.waitUntilFinished(h.events).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return parseJobFailure(error!.message);
}

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(h.logLines.join('\n'));
  await worker?.close();
  worker = undefined;
  await h.close();
});

describe('worker: enqueue → worker → Discord', () => {
  it('edits the deferred reply with a decodable image, buttons and timings; reports progress, metrics and registry', async () => {
    const w = await startWorker();
    expect(w.isReady()).toBe(true);
    const { job, interaction, data } = await h.submit();
    const result = (await job.waitUntilFinished(h.events)) as TryOnResultPayload;

    expect(result.deliveredVia).toBe('interaction');
    expect(result.workerId).toBe(w.id);
    const edit = h.fake.webhookRequests(interaction.token).find((r) => r.method === 'PATCH' && r.path.endsWith('/messages/@original'));
    expect(edit?.status).toBe(200);
    expect(edit!.authorization).toBeUndefined(); // interaction webhooks take no bot token
    expect(edit!.files).toHaveLength(1);
    const meta = await sharp(edit!.files[0]!.bytes).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBe(result.width);
    expect(edit!.files[0]!.bytes.length).toBe(result.bytes);
    const embed = edit!.body.embeds[0];
    expect(embed.image.url).toBe(`attachment://${edit!.files[0]!.filename}`);
    expect(embed.fields.map((f: { value: string }) => f.value)).toEqual(['short-layered', 'copper']);
    const buttons = edit!.body.components[0].components.map((c: { custom_id: string }) => parseCustomId(c.custom_id));
    expect(buttons.map((b: { action: string }) => b.action)).toEqual(['recolor', 'reshape', 'retry', 'delete']);
    expect(buttons.every((b: { jobId: string; ownerId: string }) => b.jobId === job.id && b.ownerId === data.userId)).toBe(true);
    expect(h.fake.original(interaction.id)?.attachments).toHaveLength(1);

    await waitUntil(() => h.progressOf(job.id!).length >= 5, 5_000, 'progress events');
    expect(h.progressOf(job.id!).map((p) => p.stage)).toEqual(['downloading', 'detecting', 'aligning', 'transferring', 'uploading']);
    for (const stage of ['downloading', 'detecting', 'transferring', 'uploading', 'total', 'queued']) expect(result.timings[stage]).toBeGreaterThanOrEqual(0);

    const reg = workerRegistrationSchema.parse(await h.redis.hgetall(redisKeys(h.prefix).worker(w.id)));
    expect(reg).toMatchObject({ id: w.id, pid: process.pid, executionProvider: 'cpu', jobsDone: 1 });
    expect(await h.redis.ttl(redisKeys(h.prefix).worker(w.id))).toBeGreaterThan(0);
    expect(await h.redis.zscore(redisKeys(h.prefix).workers, w.id)).not.toBeNull();

    const metrics = await (await fetch(`${w.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/hair_queue_jobs\{queue="hair-try-on",state="completed"\} 1/);
    expect(metrics).toMatch(/hair_stage_duration_seconds_count\{stage="transferring"\} 1/);
    expect(metrics).toMatch(/hair_job_duration_seconds_count\{queue="hair-try-on"\} 1/);
    expect(metrics).toMatch(/hair_worker_info\{[^}]*execution_provider="cpu"/);
    expect((await fetch(`${w.httpUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${w.httpUrl}/healthz`)).status).toBe(200);

    // Logs name the job but never the token, the signed URL or the bot token.
    const jobLines = h.logLines.filter((line) => line.includes(`"jobId":"${job.id}"`));
    expect(jobLines.length).toBeGreaterThan(1);
    const everything = h.logLines.join('\n');
    expect(everything).not.toContain(interaction.token);
    expect(everything).not.toContain(BOT_TOKEN);
    expect(everything).not.toContain('hm=fake');
    expect(everything).not.toContain(SELFIE.subarray(0, 64).toString('base64'));
  });

  it('a 6000×1000 panorama with a small face (issue 11, point 8) is delivered, not refused as NO_FACE', async () => {
    await startWorker();
    // The face is ~120 px, a fifth of the short side: the old 2048×341 working copy lost it.
    const bytes = await onCanvas(SELFIE, { width: 6000, height: 1000 }, 600, [{ left: 4200, top: 200 }]);
    const { job, interaction } = await h.submit({ bytes, contentType: 'image/jpeg' });
    const result = (await job.waitUntilFinished(h.events)) as TryOnResultPayload;
    expect(result.deliveredVia).toBe('interaction');
    expect(privateNotice(h.fake, interaction)).toBeUndefined();
    expect(h.fake.original(interaction.id)?.attachments).toHaveLength(1);
  });

  it('turns a user error into one failed attempt and a localized message (Korean)', async () => {
    await startWorker();
    const text = Buffer.from('this is not an image, just text\n'.repeat(50));
    const { job, interaction } = await h.submit({ bytes: text, contentType: 'image/png', locale: 'ko' });
    const failure = await failureOf(job);
    expect(failure.code).toBe('UNSUPPORTED_FORMAT');
    expect((await h.tryOnQueue.getJob(job.id!))!.attemptsMade).toBe(1);
    // Private: the public "working on it" reply is deleted and the reason goes in an ephemeral follow-up.
    const notice = privateNotice(h.fake, interaction);
    expect(notice?.publicReplyDeleted).toBe(true);
    expect(notice!.content).toMatch(/[\uac00-\ud7a3]/);
    expect(notice!.content).toContain('JPEG');
    expect(h.fake.original(interaction.id)).toBeUndefined();
  });

  it('refuses a selfie over the job size limit in English', async () => {
    await startWorker();
    const { job, interaction } = await h.submit({ maxBytes: 10 * 1024 });
    expect((await failureOf(job)).code).toBe('DOWNLOAD_TOO_LARGE');
    expect(privateNotice(h.fake, interaction)!.content).toContain('too large (limit: 10 KB)');
  });

  it('does not retry a selfie the CDN says is gone (404)', async () => {
    await startWorker();
    const { job, interaction } = await h.submit({ url: h.cdn.url('/attachments/deleted/selfie.png') });
    expect((await failureOf(job)).code).toBe('DOWNLOAD_FAILED');
    expect((await h.tryOnQueue.getJob(job.id!))!.attemptsMade).toBe(1);
    expect(h.cdn.hits.get('/attachments/deleted/selfie.png')).toBe(1);
    expect(privateNotice(h.fake, interaction)!.content).toContain('could not download your image');
  });

  it('falls back to a channel message with a mention when Discord says the token is invalid (50027)', async () => {
    await startWorker();
    const { job, interaction, data } = await h.submit({ job: { locale: 'ko' } });
    h.fake.expireToken(interaction.token);
    const result = (await job.waitUntilFinished(h.events)) as TryOnResultPayload;
    expect(result.deliveredVia).toBe('channel');
    const post = h.fake.requests.find((r) => r.method === 'POST' && r.path === `/channels/${h.fake.channelId}/messages`);
    expect(post?.status).toBe(200);
    expect(post!.authorization).toBe(`Bot ${BOT_TOKEN}`);
    expect(post!.body.content).toContain(`<@${data.userId}>`);
    expect(post!.body.allowed_mentions).toEqual({ users: [data.userId], parse: [] });
    expect((await sharp(post!.files[0]!.bytes).metadata()).width).toBeGreaterThan(0);
    expect(h.fake.webhookRequests(interaction.token).map((r) => r.status)).toEqual([401]);
  });

  it('posts in the channel without trying the webhook once the token is past 15 minutes', async () => {
    await startWorker({}, () => Date.now() + 16 * 60 * 1000);
    const { job, interaction } = await h.submit();
    const result = (await job.waitUntilFinished(h.events)) as TryOnResultPayload;
    expect(result.deliveredVia).toBe('channel');
    expect(h.fake.webhookRequests(interaction.token).filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });

  it('retries a transient Discord failure (5xx) with backoff, then delivers', async () => {
    await startWorker();
    let failed = 0;
    h.fake.override((r) => (r.method === 'PATCH' && r.path.startsWith('/webhooks/') && failed++ < 3 ? { status: 502, body: { message: 'bad gateway', code: 0 } } : undefined));
    const { job } = await h.submit();
    const result = (await job.waitUntilFinished(h.events)) as TryOnResultPayload;
    expect(result.deliveredVia).toBe('interaction');
    expect((await h.tryOnQueue.getJob(job.id!))!.attemptsMade).toBe(2); // a failed attempt, then the success
    expect(h.progressOf(job.id!).at(-1)).toMatchObject({ stage: 'uploading', attempt: 2 });
    expect(failed).toBeGreaterThanOrEqual(3);
  });

  it('cancels a running job when its owner asks (pub/sub → AbortSignal) and one not yet taken (flag)', async () => {
    const w = await startWorker();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const url = h.cdn.hold('/attachments/slow/selfie.png', SELFIE, held);
    const { job, interaction } = await h.submit({ url });
    await waitUntil(() => h.progressOf(job.id!).some((p) => p.stage === 'downloading'), 10_000, 'download to start');
    const keys = redisKeys(h.prefix);
    await h.redis.multi().set(keys.cancel(job.id!), '1', 'EX', 60).publish(keys.cancelChannel, job.id!).exec();
    expect((await failureOf(job)).code).toBe('JOB_CANCELLED');
    release();
    expect((await h.tryOnQueue.getJob(job.id!))!.attemptsMade).toBe(1);
    expect(privateNotice(h.fake, interaction)!.content).toContain('cancelled');

    const early = await h.submit({ cancelFirst: true });
    expect((await failureOf(early.job)).code).toBe('JOB_CANCELLED');
    expect(h.progressOf(early.job.id!)).toEqual([]);
    const metrics = await (await fetch(`${w.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/hair_job_failures_total\{queue="hair-try-on",code="JOB_CANCELLED"\} 2/);
  });

  it('builds a moderator preset, stores its cache in Redis, and rebuilds it from the kept photo', async () => {
    await startWorker();
    const job = await h.submitPreset();
    const { QueueEvents } = await import('bullmq');
    const events = new QueueEvents(h.presetQueue.name, { connection: { url: h.env.REDIS_URL!, maxRetriesPerRequest: null }, prefix: h.prefix });
    try {
      const result = (await job.waitUntilFinished(events)) as { presetId: string; thumbnailBase64: string; cacheBytes: number };
      expect(result.presetId).toBe(`guild:${h.fake.guildId}:wavy`);
      expect((await sharp(Buffer.from(result.thumbnailBase64, 'base64')).metadata()).format).toBe('jpeg');
      const cacheKeys = async () => (await h.redis.scan('0', 'MATCH', `${h.prefix}:preset-cache:*`, 'COUNT', 1000))[1];
      const stored = await cacheKeys();
      expect(stored.length).toBeGreaterThan(0);
      expect((await h.redis.getBuffer(stored[0]!))!.length).toBe(result.cacheBytes);

      // A try-on uses it; after its cache is gone (as after a model change) it is rebuilt from the kept photo.
      const shapePresetId = result.presetId;
      const first = await h.submit({ job: { shapePresetId } });
      expect(((await first.job.waitUntilFinished(h.events)) as TryOnResultPayload).deliveredVia).toBe('interaction');
      await h.redis.del(...(await cacheKeys()));
      const second = await h.submit({ job: { shapePresetId } });
      expect(((await second.job.waitUntilFinished(h.events)) as TryOnResultPayload).deliveredVia).toBe('interaction');
      expect((await cacheKeys()).length).toBeGreaterThan(0);

      // A guild preset the worker never built is the user's PRESET_NOT_FOUND, not a crash.
      const unknown = await h.submit({ job: { shapePresetId: `guild:${h.fake.guildId}:nope` } });
      expect((await failureOf(unknown.job)).code).toBe('PRESET_NOT_FOUND');
    } finally {
      await events.close();
    }
  });

  it('the ready line and the registry say plainly when restricted upstream parts are installed; contract graphs say nothing', async () => {
    const contract = await startWorker();
    const readyLine = () => h.logLines.map((l) => JSON.parse(l) as { msg: string; restrictedLicenses?: string[] }).filter((l) => l.msg.startsWith('worker ready'));
    expect(readyLine()).toHaveLength(1);
    expect(readyLine()[0]!.msg).not.toMatch(/restricted|NON-COMMERCIAL|EVALUATION/);
    expect(workerRegistrationSchema.parse(await h.redis.hgetall(redisKeys(h.prefix).worker(contract.id))).licenses).toEqual([]);
    await contract.close();

    const modelsDir = contractModelsDir();
    try {
      labelAsOfficialExport(modelsDir);
      const official = await startWorker({ MODELS_DIR: modelsDir, PRESET_CACHE_DIR: join(modelsDir, 'preset-cache') });
      const line = readyLine()[1]!;
      expect(line.msg).toMatch(/; restricted licenses installed — EVALUATION ONLY \(no service to third parties\); NO LICENSE granted upstream; NON-COMMERCIAL use only: feature-style-encoder, ctrlhair, arcface, e4e, psp, sean, stylegan2-ffhq/);
      expect(line.restrictedLicenses?.[0]).toMatch(/^EVALUATION ONLY .*FeatureStyleEncoder.* in embed$/);
      const reg = workerRegistrationSchema.parse(await h.redis.hgetall(redisKeys(h.prefix).worker(official.id)));
      expect(reg.licenses.map((n) => [n.part, n.use])).toEqual(expect.arrayContaining([['feature-style-encoder', 'evaluation-only'], ['sean', 'non-commercial']]));
      // the graphs the worker loaded that carry SEAN (sean_decode, or the swap composite that replaces it)
      expect(reg.licenses.find((n) => n.part === 'sean')?.graphs).toContain('sean_encode');
    } finally {
      await worker?.close();
      worker = undefined;
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });

  it('close() is safe twice and leaves the registry', async () => {
    const w = await startWorker();
    const first = w.close();
    expect(w.close()).toBe(first);
    await first;
    expect(w.isReady()).toBe(false);
    expect(await h.redis.exists(redisKeys(h.prefix).worker(w.id))).toBe(0);
    worker = undefined;
  });
});
