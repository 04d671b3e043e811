import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import {
  DEFAULT_JOB_OPTIONS, JOB_NAMES, parseJobFailure, parseTryOnJob, STUDIO_RESULT_HEADER, studioErrorCallbackSchema,
  studioResultMetaSchema, type StudioTryOnJobData, type TryOnResultPayload,
} from '../../src/shared/job.js';
import { createWorker, type HairWorker } from '../../src/worker/create-worker.js';
import { SELFIE, startHarness, type Harness } from '../helpers/worker-harness.js';

const COFFEE = readFileSync(new URL('../fixtures/coffee.png', import.meta.url));
const TOKEN = 'cb-token-0123456789abcdefghijklmnopqrstuvwxyz';

interface Callback {
  authorization: string | undefined;
  contentType: string | undefined;
  meta: string | undefined;
  body: Buffer;
}

let h: Harness;
let worker: HairWorker | undefined;
let callbacks: Callback[];

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A stand-in studio on the fake CDN: the selfie at a one-time path, and a callback answering `status`. */
function studioJob(bytes: Buffer, status = 204, id = 'job1') {
  const selfieUrl = h.cdn.file(`/selfie/${id}`, bytes);
  const callbackUrl = h.cdn.route(`/callback/${id}`, async (req, res) => {
    callbacks.push({
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      meta: req.headers[STUDIO_RESULT_HEADER] as string | undefined,
      body: await readBody(req),
    });
    res.writeHead(status).end();
  });
  return parseTryOnJob({
    via: 'studio',
    locale: 'ko',
    reply: { callbackUrl, callbackToken: TOKEN },
    selfie: { url: selfieUrl, size: bytes.length, contentType: 'image/png' },
    shapePresetId: 'builtin:short-layered',
    colorPresetId: 'builtin:copper',
    origin: 'studio',
    requestedAt: Date.now(),
  }) as StudioTryOnJobData;
}

beforeEach(async () => {
  h = await startHarness();
  callbacks = [];
  worker = await createWorker(h.config(), { logger: h.logger, createEngine: createTryOnEngine });
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(h.logLines.join('\n'));
  await worker?.close();
  worker = undefined;
  await h.close();
});

describe('worker → studio delivery', () => {
  it('downloads the selfie through the allow-list and POSTs the result with the bearer token', async () => {
    const data = studioJob(SELFIE);
    const job = await h.tryOnQueue.add(JOB_NAMES.tryOn, data, { ...DEFAULT_JOB_OPTIONS.tryOn, jobId: 'sdeliver1' });
    const result = (await job.waitUntilFinished(h.events)) as TryOnResultPayload;
    expect(result.deliveredVia).toBe('studio');
    expect(h.cdn.hits.get('/selfie/job1')).toBe(1);
    expect(callbacks).toHaveLength(1);
    const [callback] = callbacks;
    expect(callback!.authorization).toBe(`Bearer ${TOKEN}`);
    expect(callback!.contentType).toBe('image/jpeg');
    const meta = studioResultMetaSchema.parse(JSON.parse(callback!.meta!));
    expect(meta).toMatchObject({ jobId: 'sdeliver1', format: 'jpeg', width: result.width, height: result.height });
    const decoded = await sharp(callback!.body).metadata();
    expect([decoded.width, decoded.height]).toEqual([result.width, result.height]);
    // Studio jobs never touch Discord.
    expect(h.fake.requests.length).toBe(0);
  });

  it('reports a user error to the studio as a code with params, once, without retrying', async () => {
    const job = await h.tryOnQueue.add(JOB_NAMES.tryOn, studioJob(COFFEE), { ...DEFAULT_JOB_OPTIONS.tryOn, jobId: 'sdeliver2' });
    const error = await job.waitUntilFinished(h.events).then(() => undefined, (e: Error) => e);
    expect(parseJobFailure(error?.message).code).toBe('NO_FACE');
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]!.contentType).toBe('application/json');
    const payload = studioErrorCallbackSchema.parse(JSON.parse(callbacks[0]!.body.toString()));
    expect(payload).toMatchObject({ jobId: 'sdeliver2', error: { code: 'NO_FACE', retryable: false } });
    expect((await h.tryOnQueue.getJob('sdeliver2'))!.attemptsMade).toBe(1);
  });

  it('a studio that no longer waits (404) ends the job; a callback host outside the allow-list is never contacted', async () => {
    const gone = await h.tryOnQueue.add(JOB_NAMES.tryOn, studioJob(SELFIE, 404, 'gone'), { ...DEFAULT_JOB_OPTIONS.tryOn, jobId: 'sdeliver3' });
    const error = await gone.waitUntilFinished(h.events).then(() => undefined, (e: Error) => e);
    expect(parseJobFailure(error?.message).code).toBe('INTERNAL');
    expect((await h.tryOnQueue.getJob('sdeliver3'))!.attemptsMade).toBe(1);

    await worker!.close();
    worker = await createWorker(h.config({ DOWNLOAD_ALLOWED_HOSTS: 'cdn.discordapp.com' }), { logger: h.logger, createEngine: createTryOnEngine });
    callbacks = [];
    const blocked = await h.tryOnQueue.add(JOB_NAMES.tryOn, studioJob(SELFIE, 204, 'blocked'), { ...DEFAULT_JOB_OPTIONS.tryOn, jobId: 'sdeliver4' });
    const refused = await blocked.waitUntilFinished(h.events).then(() => undefined, (e: Error) => e);
    expect(parseJobFailure(refused?.message).code).toBe('DOWNLOAD_HOST_NOT_ALLOWED');
    expect(h.cdn.hits.get('/selfie/blocked')).toBeUndefined();
    expect(callbacks).toHaveLength(0);
  });
});
