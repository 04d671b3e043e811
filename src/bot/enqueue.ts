import { Job, Queue } from 'bullmq';
import type { RedisClient } from '../redis/redis-connector.js';
import {
  CANCEL_TTL_S, DEFAULT_JOB_OPTIONS, HairError, JOB_NAMES, QUEUE_NAMES, WORKER_HEARTBEAT_TTL_S, parsePresetBuildJob, parseTryOnJob, replyTokenTtlMs,
  redisKeys, type Logger, type PresetBuildJobInput, type RedisConfig, type TryOnJobData, type TryOnJobInput, type DiscordTryOnJobData,
} from '../shared/index.js';
import { redisErrorListener } from '../shared/redis.js';
import { createRedisConnector } from '../redis/redis-connector.js';
import type { BotKeys } from './bot-keys.js';
import type { JobPhase } from './limits.js';

/** Used for an ETA before any job finished. */
const DEFAULT_JOB_MS = 12_000;

export interface EnqueueDeps {
  redis: RedisClient;
  keys: BotKeys;
  log: Logger;
}

export interface Enqueued {
  jobId: string;
  /** 1 = next in line. */
  position: number;
  /** Epoch ms the result is expected at. */
  etaAt: number;
}

export type CancelOutcome = 'removed' | 'signalled' | 'finished';

/**
 * The bot's only BullMQ Queue holder: validates job data with the shared contract before it reaches Redis, and
 * answers the questions the commands ask about the queue (position, counts, pause, cancel).
 */
export function createEnqueuer(config: RedisConfig, deps: EnqueueDeps) {
  const connector = createRedisConnector(config);
  const tryOn = new Queue<TryOnJobData>(QUEUE_NAMES.tryOn, { connection: connector.bullmq(), prefix: config.QUEUE_PREFIX });
  const presetBuild = new Queue(QUEUE_NAMES.presetBuild, { connection: connector.bullmq(), prefix: config.QUEUE_PREFIX });
  const shared = redisKeys(config.QUEUE_PREFIX);
  tryOn.on('error', redisErrorListener(deps.log, 'try-on queue'));
  presetBuild.on('error', redisErrorListener(deps.log, 'preset-build queue'));
  let closing: Promise<void> | undefined;

  async function workersOnline(): Promise<number> {
    return await deps.redis.zcount(shared.workers, Date.now() - WORKER_HEARTBEAT_TTL_S * 1000, '+inf');
  }

  /** Mean end-to-end time of the last 50 finished jobs. */
  async function averageJobMs(): Promise<number> {
    const recent = await deps.redis.zrange(deps.keys.statsDone, '-50', '-1');
    const totals = recent.map((m) => Number(m.split('|')[1])).filter((x) => Number.isFinite(x) && x > 0);
    return totals.length ? totals.reduce((a, b) => a + b, 0) / totals.length : DEFAULT_JOB_MS;
  }

  async function estimate(position: number): Promise<number> {
    const [workers, avg] = await Promise.all([workersOnline(), averageJobMs()]);
    return Date.now() + Math.ceil(position / Math.max(1, workers)) * avg;
  }

  /**
   * 1 = next. BullMQ LPUSHes new jobs onto the wait list and workers RPOPLPUSH from its other end, so a job's place
   * is the list length minus its index: two O(n)-in-Redis calls, no job data read (the queue may be long).
   */
  async function position(jobId: string): Promise<number | undefined> {
    const waitKey = (tryOn.keys as Record<string, string>).wait!;
    const [index, length] = await Promise.all([deps.redis.lpos(waitKey, jobId), deps.redis.llen(waitKey)]);
    return index === null ? undefined : length - index;
  }

  return {
    tryOnQueue: tryOn,
    presetBuildQueue: presetBuild,
    estimate,
    position,
    workersOnline,

    /** The interaction token goes beside the job (redisKeys().replyToken), expiring with the token. */
    async enqueueTryOn(jobId: string, input: TryOnJobInput, interactionToken?: string): Promise<Enqueued> {
      const data = parseTryOnJob(input);
      const tokenKey = shared.replyToken(jobId);
      if (data.via === 'discord') {
        if (!interactionToken) throw new HairError('INTERNAL', {}, { detail: 'a Discord try-on needs its interaction token' });
        await deps.redis.set(tokenKey, interactionToken, 'PX', replyTokenTtlMs(data.reply.interactionAt));
      }
      try {
        await tryOn.add(JOB_NAMES.tryOn, data, { ...DEFAULT_JOB_OPTIONS.tryOn, jobId });
      } catch (error) {
        await deps.redis.del(tokenKey).catch(() => undefined);
        throw error;
      }
      const pos = (await position(jobId)) ?? 1;
      const who = data.via === 'discord' ? { guildId: data.guildId, userId: data.userId } : { via: data.via };
      deps.log.info({ jobId, ...who, origin: data.origin, position: pos }, 'try-on enqueued');
      return { jobId, position: pos, etaAt: await estimate(pos) };
    },

    async enqueuePresetBuild(jobId: string, input: PresetBuildJobInput): Promise<void> {
      const data = parsePresetBuildJob(input);
      await presetBuild.add(JOB_NAMES.presetBuild, data, { ...DEFAULT_JOB_OPTIONS.presetBuild, jobId });
      deps.log.info({ jobId, guildId: data.guildId, presetId: data.presetId }, 'preset build enqueued');
    },

    /** A member's try-on (buttons, /hair cancel); studio jobs in the same queue are not the bot's to touch. */
    async getTryOn(jobId: string): Promise<Job<DiscordTryOnJobData> | undefined> {
      const job = await Job.fromId<TryOnJobData>(tryOn, jobId);
      return job && job.data.via !== 'studio' ? (job as Job<DiscordTryOnJobData>) : undefined;
    },

    async jobPhase(jobId: string): Promise<JobPhase> {
      const state = await tryOn.getJobState(jobId);
      if (state === 'unknown') return 'unknown';
      return state === 'completed' || state === 'failed' ? 'finished' : 'unfinished';
    },

    /** When a waiting or running job should be ready: its place in line, or the average job time from its start. */
    async readyAt(jobId: string): Promise<number> {
      const place = await position(jobId);
      if (place !== undefined) return await estimate(place);
      const [job, avg] = await Promise.all([Job.fromId(tryOn, jobId), averageJobMs()]);
      return Math.max(Date.now() + 1_000, (job?.processedOn ?? Date.now()) + avg);
    },

    async counts() {
      return await tryOn.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    },

    async isPaused(): Promise<boolean> {
      return await tryOn.isPaused();
    },
    async pause(): Promise<void> {
      await tryOn.pause();
    },
    async resume(): Promise<void> {
      await tryOn.resume();
    },

    /** Waiting jobs are removed; an active one gets the contract's cancel flag + message for its worker. */
    async cancel(jobId: string, userId: string): Promise<CancelOutcome> {
      const state = await tryOn.getJobState(jobId);
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
        try {
          await tryOn.remove(jobId);
          return 'removed';
        } catch {
          // it became active meanwhile: signal it below
        }
      }
      if (state === 'completed' || state === 'failed' || state === 'unknown') return 'finished';
      await deps.redis.set(shared.cancel(jobId), userId, 'EX', CANCEL_TTL_S);
      await deps.redis.publish(shared.cancelChannel, jobId);
      return 'signalled';
    },

    async close(): Promise<void> {
      closing ??= Promise.allSettled([tryOn.close(), presetBuild.close()]).then(() => connector.close());
      await closing;
    },
  };
}
export type Enqueuer = ReturnType<typeof createEnqueuer>;
