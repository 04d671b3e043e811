import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { createBot, type Bot } from '../../src/bot/bot.js';
import { createRedisConnector, scanKeys, type RedisClient, type RedisConnector } from '../../src/redis/redis-connector.js';
import { createLogger, loadConfig, QUEUE_NAMES, type Config, type Logger, type PresetEntry } from '../../src/shared/index.js';
import { startFakeDiscord, type FakeDiscord } from '../fake-discord/index.js';

export const SELFIE = readFileSync(new URL('../fixtures/astronaut.png', import.meta.url));

/** Built-ins for tests: 30 shapes (to test the 25-choice cap) and a few colors, one with a Korean name. */
export function testBuiltins(): PresetEntry[] {
  const shapes: PresetEntry[] = Array.from({ length: 30 }, (_, i) => ({
    id: `builtin:shape-${String(i).padStart(2, '0')}`, name: `Shape ${String(i).padStart(2, '0')}`, kind: 'shape', source: 'builtin', status: 'ready',
  }));
  return [
    { id: 'builtin:bob', name: 'Bob', nameKo: '단발', kind: 'shape', source: 'builtin', status: 'ready' },
    ...shapes,
    { id: 'builtin:blonde', name: 'Blonde', nameKo: '금발', kind: 'color', source: 'builtin', status: 'ready' },
    { id: 'builtin:copper', name: 'Copper', kind: 'color', source: 'builtin', status: 'ready' },
    { id: 'builtin:pink-bob', name: 'Pink bob', kind: 'both', source: 'builtin', status: 'ready' },
  ];
}

export interface Harness {
  fake: FakeDiscord;
  config: Readonly<Config>;
  bot: Bot;
  redis: RedisClient;
  /** Connections to the Redis the bot uses (standalone, Sentinel or Cluster, from the config). */
  connector: RedisConnector;
  /** A Queue of our own to read what the bot enqueued. */
  tryOnQueue: Queue;
  presetQueue: Queue;
  /** Replaces the bot with a brand-new one (new Client, new connections): nothing in memory survives. */
  restartBot(): Promise<Bot>;
  close(): Promise<void>;
}

/**
 * `realStyles`: use the built-ins of styles/manifest.json instead of testBuiltins(). `fake`: a started fake Discord
 * to use (set up before the bot logs in, e.g. with guilds on other shards); the harness closes it.
 */
export async function startHarness(env: Record<string, string> = {}, options: { realStyles?: boolean; log?: Logger; fake?: FakeDiscord } = {}): Promise<Harness> {
  const fake = options.fake ?? await startFakeDiscord();
  const prefix = `test-bot-${randomBytes(5).toString('hex')}`;
  const config = loadConfig({
    need: ['discord'],
    env: {
      DISCORD_TOKEN: 'fake-bot-token', DISCORD_APPLICATION_ID: fake.applicationId, DISCORD_API_URL: fake.apiUrl,
      QUEUE_PREFIX: prefix, DOWNLOAD_ALLOWED_HOSTS: '127.0.0.1', PROGRESS_EDIT_INTERVAL_MS: '0', LOG_LEVEL: 'silent',
      STYLES_DIR: options.realStyles ? 'styles' : '/nonexistent', ...env,
    },
  });
  const log = options.log ?? createLogger({ level: 'silent' });
  const make = () => createBot(config, { log, ...(options.realStyles ? {} : { builtins: testBuiltins() }) });
  // INTERACTIONS_MODE=http: the fake POSTs interactions to the bot's endpoint instead of the gateway.
  const start = async (next: Bot) => {
    await next.start();
    fake.interactionsEndpoint = next.interactionsUrl;
    return next;
  };
  let bot = await start(make());
  const connector = createRedisConnector(config);
  const redis = connector.client({ lazyConnect: false });
  const tryOnQueue = new Queue(QUEUE_NAMES.tryOn, { connection: connector.bullmq(), prefix: config.QUEUE_PREFIX });
  const presetQueue = new Queue(QUEUE_NAMES.presetBuild, { connection: connector.bullmq(), prefix: config.QUEUE_PREFIX });
  // The test's own readers: a connection error while Redis fails over is retried by the client, not a test failure.
  redis.on('error', () => undefined);
  for (const queue of [tryOnQueue, presetQueue]) queue.on('error', () => undefined);
  const harness: Harness = {
    fake, config, redis, connector, tryOnQueue, presetQueue,
    get bot() {
      return bot;
    },
    async restartBot() {
      await bot.close();
      bot = await start(make());
      return bot;
    },
    async close() {
      await bot.close();
      await Promise.allSettled([tryOnQueue.close(), presetQueue.close()]);
      for await (const keys of scanKeys(redis, `${config.QUEUE_PREFIX}:*`)) await redis.del(...keys);
      await redis.quit();
      await connector.close();
      await fake.close();
    },
  };
  return harness;
}

/** The text a user saw in an interaction's first answer or its latest @original edit. */
export function replyText(fake: FakeDiscord, interactionId: string): string {
  const original = fake.original(interactionId);
  if (original?.content) return original.content;
  return fake.interactions.get(interactionId)?.callback?.data?.content ?? '';
}

export function isEphemeral(fake: FakeDiscord, interactionId: string): boolean {
  return ((fake.interactions.get(interactionId)?.callback?.data?.flags ?? 0) & 64) === 64;
}

export async function waitForJob(queue: Queue, jobId: string, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await queue.getJob(jobId);
    if (job) return job;
    if (Date.now() > until) throw new Error(`job ${jobId} was not enqueued`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Moves a job to completed/failed the way a worker does (take the lock, then finish), without any pipeline. */
async function takeJob(h: Harness, queueName: string, jobId: string) {
  const worker = new Worker(queueName, null, { connection: h.connector.bullmq({ waitForever: true }), prefix: h.config.QUEUE_PREFIX });
  const token = `test-${jobId}`;
  for (let i = 0; i < 50; i++) {
    const job = await worker.getNextJob(token);
    if (job?.id === jobId) return { worker, job, token };
    await new Promise((r) => setTimeout(r, 50));
  }
  await worker.close();
  throw new Error(`could not take ${jobId}`);
}

export async function finishJob(h: Harness, queueName: string, jobId: string, result: unknown): Promise<void> {
  const { worker, job, token } = await takeJob(h, queueName, jobId);
  await job.moveToCompleted(result, token, false);
  await worker.close();
}

export async function failJob(h: Harness, queueName: string, jobId: string, reason: string): Promise<void> {
  const { worker, job, token } = await takeJob(h, queueName, jobId);
  await job.moveToFailed(new UnrecoverableError(reason), token, false);
  await worker.close();
}
