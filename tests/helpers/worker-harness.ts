import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/shared/config.js';
import {
  DEFAULT_JOB_OPTIONS,
  JOB_NAMES,
  parsePresetBuildJob,
  parseTryOnJob,
  QUEUE_NAMES,
  redisKeys,
  replyTokenTtlMs,
  tryOnJobId,
  type JobProgress,
  type PresetBuildJobInput,
  type DiscordTryOnJobData,
  type TryOnJobInput,
} from '../../src/shared/job.js';
import { createLogger, type Logger } from '../../src/shared/log.js';
import { startFakeDiscord, type FakeDiscord, type InteractionState } from '../fake-discord/index.js';
import { FakeCdn } from './fake-cdn.js';
import { deletePrefix, REDIS_URL } from './redis-prefix.js';

export { deletePrefix, REDIS_URL } from './redis-prefix.js';

export const BOT_TOKEN = 'bot-token-SECRET-never-logged';
export const SELFIE = readFileSync(new URL('../fixtures/astronaut.png', import.meta.url));

/**
 * Everything a worker test needs around the worker: a random queue prefix on the real Redis, the fake Discord
 * (REST + CDN), a fake attachment host for odd downloads, the producer side (Queue, QueueEvents) and a captured log.
 */
export interface Harness {
  prefix: string;
  fake: FakeDiscord;
  cdn: FakeCdn;
  redis: Redis;
  tryOnQueue: Queue;
  presetQueue: Queue;
  events: QueueEvents;
  logger: Logger;
  logLines: string[];
  /** Environment for a worker (in-process via config(), or a child process). */
  env: Record<string, string>;
  config(extra?: Record<string, string>): Readonly<Config>;
  submit(options?: SubmitOptions): Promise<Submitted>;
  submitPreset(overrides?: Partial<PresetBuildJobInput>): Promise<Job>;
  progressOf(jobId: string): JobProgress[];
  close(): Promise<void>;
}

export interface SubmitOptions {
  locale?: 'en' | 'ko';
  /** Selfie bytes on the fake Discord CDN, or a ready URL (fake CDN routes). */
  bytes?: Buffer;
  url?: string;
  contentType?: string;
  maxBytes?: number;
  job?: Partial<TryOnJobInput>;
  /** Set the owner's cancel flag before enqueueing. */
  cancelFirst?: boolean;
}

export interface Submitted {
  job: Job;
  interaction: InteractionState;
  data: DiscordTryOnJobData;
}

export async function startHarness(extraEnv: Record<string, string> = {}): Promise<Harness> {
  const prefix = `test-worker-${randomUUID().slice(0, 8)}`;
  const fake = await startFakeDiscord();
  const cdn = await new FakeCdn().start();
  const redis = new Redis(REDIS_URL);
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const tryOnQueue = new Queue(QUEUE_NAMES.tryOn, { connection, prefix });
  const presetQueue = new Queue(QUEUE_NAMES.presetBuild, { connection, prefix });
  const events = new QueueEvents(QUEUE_NAMES.tryOn, { connection, prefix });
  await events.waitUntilReady();
  // Many jobs may wait on one QueueEvents (benchmarks).
  events.setMaxListeners(0);
  tryOnQueue.setMaxListeners(0);
  const progress = new Map<string, JobProgress[]>();
  events.on('progress', ({ jobId, data }) => {
    const list = progress.get(jobId) ?? [];
    list.push(data as JobProgress);
    progress.set(jobId, list);
  });
  const { logger, lines: logLines } = capturedLogger('worker-test');
  const env: Record<string, string> = {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_APPLICATION_ID: fake.applicationId,
    DISCORD_API_URL: fake.apiUrl,
    DOWNLOAD_ALLOWED_HOSTS: '127.0.0.1',
    DOWNLOAD_CONNECT_TIMEOUT_MS: '2000',
    DOWNLOAD_READ_TIMEOUT_MS: '5000',
    METRICS_PORT: '0',
    HAIR_EP: 'cpu',
    LOG_LEVEL: 'debug',
    SHUTDOWN_TIMEOUT_MS: '20000',
    // Short so a killed worker's job is taken over within seconds, long enough for a loaded CI machine.
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    ...extraEnv,
  };

  async function defer(interaction: InteractionState): Promise<void> {
    const response = await fetch(`${fake.apiUrl}/v10/interactions/${interaction.id}/${interaction.token}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 5 }),
    });
    if (response.status >= 300) throw new Error(`defer failed: ${response.status}`);
  }

  return {
    prefix, fake, cdn, redis, tryOnQueue, presetQueue, events, logger, logLines, env,
    config: (extra = {}) => loadConfig({ env: { ...env, ...extra }, need: ['discord'] }),
    progressOf: (jobId) => progress.get(jobId) ?? [],

    async submit(options = {}) {
      const interaction = fake.slashCommand({ name: 'hair', subcommand: 'try', locale: options.locale === 'ko' ? 'ko' : 'en-US' });
      await defer(interaction);
      const bytes = options.bytes ?? SELFIE;
      const url =
        options.url ??
        fake.addAttachment({ filename: 'selfie.png', bytes, ...(options.contentType ? { contentType: options.contentType } : { contentType: 'image/png' }) }).url;
      const data = parseTryOnJob({
        guildId: fake.guildId,
        channelId: fake.channelId,
        userId: '300000000000000001',
        locale: options.locale ?? 'en',
        reply: { applicationId: fake.applicationId, interactionAt: interaction.sentAt, ...(interaction.originalId ? { messageId: interaction.originalId } : {}) },
        selfie: { url, size: bytes.length, contentType: options.contentType ?? 'image/png', ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}) },
        shapePresetId: 'builtin:short-layered',
        colorPresetId: 'builtin:copper',
        requestedAt: Date.now(),
        ...options.job,
      }) as DiscordTryOnJobData;
      const jobId = tryOnJobId(interaction.id);
      await redis.set(redisKeys(prefix).replyToken(jobId), interaction.token, 'PX', replyTokenTtlMs(interaction.sentAt));
      if (options.cancelFirst) await redis.set(redisKeys(prefix).cancel(jobId), data.userId, 'EX', 60);
      const job = await tryOnQueue.add(JOB_NAMES.tryOn, data, { ...DEFAULT_JOB_OPTIONS.tryOn, jobId });
      return { job, interaction, data };
    },

    async submitPreset(overrides = {}) {
      const attachment = fake.addAttachment({ filename: 'preset.png', bytes: SELFIE, contentType: 'image/png' });
      const data = parsePresetBuildJob({
        guildId: fake.guildId,
        presetId: `guild:${fake.guildId}:wavy`,
        name: 'Wavy',
        kind: 'shape',
        image: { url: attachment.url, size: SELFIE.length, contentType: 'image/png' },
        moderatorId: '300000000000000002',
        requestedAt: Date.now(),
        ...overrides,
      });
      return presetQueue.add(JOB_NAMES.presetBuild, data, { ...DEFAULT_JOB_OPTIONS.presetBuild });
    },

    async close() {
      await events.close();
      for (const queue of [tryOnQueue, presetQueue]) {
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
      await deletePrefix(redis, prefix);
      redis.disconnect();
      await cdn.close();
      await fake.close();
    },
  };
}

/**
 * The error notice a member got for an interaction: an ephemeral follow-up (flags 64), with the public deferred reply
 * deleted before it. Undefined when the worker answered any other way.
 */
export function privateNotice(fake: FakeDiscord, interaction: InteractionState): { content: string; publicReplyDeleted: boolean } | undefined {
  const requests = fake.webhookRequests(interaction.token);
  const followUp = requests.find((r) => r.method === 'POST' && r.path === `/webhooks/${fake.applicationId}/${interaction.token}` && (Number(r.body?.flags) & 64) === 64);
  if (!followUp) return undefined;
  const deleted = requests.some((r) => r.method === 'DELETE' && r.path.endsWith('/messages/@original') && r.at <= followUp.at);
  return { content: String(followUp.body.content ?? ''), publicReplyDeleted: deleted && !requests.some((r) => r.method === 'PATCH') };
}

/** A debug logger whose JSON lines a test can read. */
export function capturedLogger(name: string): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    name,
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    }),
  });
  return { logger, lines };
}

/** Waits for a condition polled every 25 ms. */
export async function waitUntil<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
