import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botKeys } from '../../src/bot/bot-keys.js';
import { QUEUE_NAMES } from '../../src/shared/job.js';
import { spawnWorker, type WorkerChild } from '../helpers/spawn-worker.js';
import { artifact, launchChromium, startTestStudio, type TestStudio } from '../helpers/studio.js';
import { deletePrefix, REDIS_URL } from '../helpers/worker-harness.js';

declare const document: any;

/**
 * The queue path in a real browser: the studio enqueues on real Redis, a worker *process* (npm run worker's entry)
 * downloads the photo once from the studio and posts the result back to its callback.
 */
const ASTRONAUT = fileURLToPath(new URL('../fixtures/astronaut.png', import.meta.url));
const GUILD = '700000000000000001';
const prefix = `test-studio-${randomUUID().slice(0, 8)}`;

let t: TestStudio;
let worker: WorkerChild;
let browser: Browser;
let redis: Redis;
let context: BrowserContext | undefined;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  t = await startTestStudio('queue', { REDIS_URL, QUEUE_PREFIX: prefix });
  worker = spawnWorker({
    REDIS_URL, QUEUE_PREFIX: prefix, HAIR_EP: 'cpu', METRICS_PORT: '0', LOG_LEVEL: 'info',
    DOWNLOAD_ALLOWED_HOSTS: new URL(t.studio.publicUrl).hostname,
    DISCORD_TOKEN: 'unused-by-studio-jobs', DISCORD_APPLICATION_ID: '100000000000000009',
  });
  await worker.ready;
  browser = await launchChromium();
  // A server's own preset, as a moderator's build leaves it: ready, with its thumbnail.
  const keys = botKeys(prefix);
  const thumbnail = await sharp(ASTRONAUT).resize(64, 64).tint({ r: 40, g: 160, b: 90 }).jpeg().toBuffer();
  await redis.hset(keys.presets(GUILD), 'mint', JSON.stringify({ name: 'Mint', kind: 'color', status: 'ready', addedBy: '1', addedAt: 1 }));
  await redis.hset(keys.presetThumbs(GUILD), 'mint', thumbnail.toString('base64'));
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await t?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

async function open(query = ''): Promise<Page> {
  context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${t.studio.url}${query}`);
  await page.locator('body[data-ready="true"]').waitFor();
  return page;
}

describe('studio in a browser: the Redis queue and a worker process', () => {
  it('upload → queued → the worker fetches the photo once and posts the result back → shown and downloadable', async () => {
    const page = await open();
    expect(await page.getByText('Try-ons go through the queue to the workers.').count()).toBe(1);
    await page.getByLabel('Choose a photo').setInputFiles(ASTRONAUT);
    await page.getByRole('img', { name: 'The face the try-on will use' }).waitFor();
    await page.getByRole('radio', { name: 'Copper' }).check();
    await page.getByRole('button', { name: 'Transfer', exact: true }).click();
    await page.waitForFunction(() => {
      const img = document.getElementById('after-img');
      return !document.getElementById('result').hidden && img.complete && img.naturalWidth > 0;
    }, undefined, { timeout: 60_000 });
    await page.screenshot({ path: artifact('queue-result.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
    const meta = await sharp(readFileSync((await download.path())!)).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBe(512);

    // The job went through the shared queue as a studio job; Redis holds its URLs, never the photo.
    // Studio job ids are `s` + 16 base64url characters (not BullMQ's own `stalled-check` and friends).
    const jobs = (await redis.keys(`${prefix}:${QUEUE_NAMES.tryOn}:s*`)).filter((k) => /:s[A-Za-z0-9_-]{16}$/.test(k));
    expect(jobs.length).toBeGreaterThan(0);
    const data = JSON.parse((await redis.hget(jobs[0]!, 'data')) ?? '{}');
    expect(data.via).toBe('studio');
    expect(data.selfie.url).toMatch(/\/worker\/selfie\/[A-Za-z0-9_-]{43}$/);
    const photo = readFileSync(ASTRONAUT);
    for (const key of await redis.keys(`${prefix}:*`)) {
      const type = await redis.type(key);
      const values = type === 'hash' ? Object.values(await redis.hgetallBuffer(key)) : type === 'string' ? [await redis.getBuffer(key)] : [];
      for (const value of values) expect(value?.includes(photo.subarray(0, 64))).toBeFalsy();
    }
    // The photo's URL worked once: the worker took it, nobody can now.
    expect((await fetch(data.selfie.url)).status).toBe(404);
    expect(worker.output.some((line) => line.includes('"msg":"try-on delivered"') && line.includes('"deliveredVia":"studio"'))).toBe(true);
  });

  it("a server's presets appear when the studio is opened with its id", async () => {
    const page = await open(`?guild=${GUILD}`);
    await page.getByRole('group', { name: 'Hair color' }).getByRole('radio', { name: 'Mint' }).waitFor({ state: 'attached' });
    expect(await page.getByText(`Presets of server ${GUILD}`).count()).toBe(1);
    expect(await page.getByRole('group', { name: 'Hair shape' }).getByRole('radio', { name: 'Mint' }).count()).toBe(0);
    // Built-ins stay offered beside it, as in the bot (unless the server turned them off).
    expect(await page.getByRole('group', { name: 'Hair color' }).getByRole('radio', { name: 'Copper' }).count()).toBe(1);
  });
});
