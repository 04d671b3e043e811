import { Routes, type REST } from 'discord.js';
import { Job, QueueEvents } from 'bullmq';
import {
  jobProgressSchema, parseJobFailure, presetBuildResultSchema, QUEUE_NAMES, tryOnResultSchema, type PresetBuildJobData,
  type RedisConfig,
} from '../shared/index.js';
import { redisErrorListener } from '../shared/redis.js';
import type { BotContext } from './context.js';
import { errorText, t } from './localize.js';
import { recordCompleted, recordFailed } from './stats.js';
import { relativeTime } from './limits.js';
import { editPlaceholder } from './placeholder.js';
import { cancelRow } from './try-on.js';

/** Stages the bot shows; 'uploading' is left to the worker, whose result edit must not be overwritten. */
const SHOWN_STAGES = new Set(['downloading', 'detecting', 'aligning', 'transferring']);

export interface ProgressDeps {
  ctx: BotContext;
  rest: REST;
}

function parseReturn(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Watches both queues through QueueEvents: edits a member's queued reply as stages progress (at most once per
 * PROGRESS_EDIT_INTERVAL_MS per job), records finished and failed jobs for stats, and tells moderators when a
 * preset build is done. The throttle map is the only memory, and losing it loses nothing.
 */
export function createProgressWatcher(config: RedisConfig & { PROGRESS_EDIT_INTERVAL_MS: number }, deps: ProgressDeps) {
  const { ctx, rest } = deps;
  const connection = { url: config.REDIS_URL };
  const tryOnEvents = new QueueEvents(QUEUE_NAMES.tryOn, { connection, prefix: config.QUEUE_PREFIX });
  const presetEvents = new QueueEvents(QUEUE_NAMES.presetBuild, { connection, prefix: config.QUEUE_PREFIX });
  tryOnEvents.on('error', redisErrorListener(ctx.log, 'try-on queue events'));
  presetEvents.on('error', redisErrorListener(ctx.log, 'preset-build queue events'));
  const lastEdit = new Map<string, number>();
  let closing: Promise<void> | undefined;

  const guard = (what: string, fn: (...args: any[]) => Promise<void>) => (...args: any[]) => {
    fn(...args).catch((err: unknown) => ctx.log.warn({ err, what }, 'queue event handler failed'));
  };

  async function editOriginal(applicationId: string, token: string, body: Record<string, unknown>): Promise<void> {
    await rest.patch(Routes.webhookMessage(applicationId, token, '@original'), { body, auth: false });
  }

  tryOnEvents.on('progress', guard('progress', async ({ jobId, data }: { jobId: string; data: unknown }) => {
    const progress = jobProgressSchema.safeParse(typeof data === 'object' ? data : undefined);
    if (!progress.success || !SHOWN_STAGES.has(progress.data.stage)) return;
    const now = Date.now();
    if (now - (lastEdit.get(jobId) ?? 0) < config.PROGRESS_EDIT_INTERVAL_MS) return;
    lastEdit.set(jobId, now);
    const job = await ctx.enqueuer.getTryOn(jobId);
    // Skip studio jobs (their studio shows progress) and stale events: once the worker moved on (to 'uploading', where it posts the result), an edit here could
    // land after the result and hide it.
    const current = jobProgressSchema.safeParse(job?.progress);
    if (!job || !current.success || current.data.stage !== progress.data.stage || !(await job.isActive())) return;
    const { locale, userId } = job.data;
    await editPlaceholder(ctx, rest, jobId, job.data, {
      content: t(locale, 'try.stage', { stage: t(locale, `stage.${progress.data.stage}`) }),
      components: [cancelRow(locale, jobId, userId).toJSON()],
    });
  }));

  // A worker died holding the job (its lock lapsed): BullMQ put it back in the queue. Say so instead of silence.
  tryOnEvents.on('stalled', guard('stalled', async ({ jobId }: { jobId: string }) => {
    lastEdit.delete(jobId);
    const job = await ctx.enqueuer.getTryOn(jobId); // Discord jobs only
    if (!job || !(await job.isWaiting() || await job.isActive())) return;
    const { locale, userId } = job.data;
    const eta = relativeTime(await ctx.enqueuer.readyAt(jobId));
    await editPlaceholder(ctx, rest, jobId, job.data, {
      content: t(locale, 'try.requeued', { eta }),
      components: [cancelRow(locale, jobId, userId).toJSON()],
    });
  }));

  tryOnEvents.on('completed', guard('completed', async ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
    lastEdit.delete(jobId);
    const result = tryOnResultSchema.safeParse(parseReturn(returnvalue));
    const timings = result.success ? result.data.timings : {};
    await recordCompleted(ctx, jobId, timings.total ?? 0, timings.pipeline ?? timings.transferring ?? 0);
  }));

  tryOnEvents.on('failed', guard('failed', async ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
    lastEdit.delete(jobId);
    await recordFailed(ctx, jobId, parseJobFailure(failedReason).code);
  }));

  async function presetReply(jobId: string) {
    const raw = await ctx.redis.get(ctx.keys.presetReply(jobId));
    return raw ? (JSON.parse(raw) as { token: string; applicationId: string; locale: 'en' | 'ko'; name: string }) : undefined;
  }

  presetEvents.on('completed', guard('preset-completed', async ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
    const result = presetBuildResultSchema.safeParse(parseReturn(returnvalue));
    if (!result.success) return;
    await ctx.presets.markBuilt(result.data.presetId, result.data.thumbnailBase64 || undefined);
    const target = await presetReply(jobId);
    if (target) await editOriginal(target.applicationId, target.token, { content: t(target.locale, 'presets.ready', { name: target.name }) });
    await ctx.redis.del(ctx.keys.presetReply(jobId)); // the moderator's token is not needed any more
  }));

  presetEvents.on('failed', guard('preset-failed', async ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
    const job = await Job.fromId<PresetBuildJobData>(ctx.enqueuer.presetBuildQueue, jobId);
    const failure = parseJobFailure(failedReason);
    if (job) await ctx.presets.markFailed(job.data.presetId, failure.code);
    const target = await presetReply(jobId);
    if (target) await editOriginal(target.applicationId, target.token, { content: errorText(target.locale, failure.code, { jobId, ...failure.params }) });
    await ctx.redis.del(ctx.keys.presetReply(jobId));
  }));

  return {
    /**
     * Preset builds that ended while no bot was listening: apply their outcome now (jobs are kept for a day on
     * success and a week on failure), so a restart never leaves a preset "building" forever.
     */
    async reconcile(): Promise<number> {
      let applied = 0;
      const jobs = await ctx.enqueuer.presetBuildQueue.getJobs(['completed', 'failed'], 0, 500);
      for (const job of jobs) {
        const data = job.data as PresetBuildJobData;
        const entry = (await ctx.presets.list(data.guildId, undefined, { includeUnready: true })).find((p) => p.id === data.presetId);
        if (entry?.status !== 'building') continue;
        const result = presetBuildResultSchema.safeParse(parseReturn(job.returnvalue));
        if (job.finishedOn && result.success && !job.failedReason) await ctx.presets.markBuilt(data.presetId, result.data.thumbnailBase64 || undefined);
        else if (job.failedReason) await ctx.presets.markFailed(data.presetId, parseJobFailure(job.failedReason).code);
        else continue;
        applied += 1;
      }
      return applied;
    },
    async ready(): Promise<void> {
      await Promise.all([tryOnEvents.waitUntilReady(), presetEvents.waitUntilReady()]);
    },
    async close(): Promise<void> {
      closing ??= Promise.allSettled([tryOnEvents.close(), presetEvents.close()]).then(() => undefined);
      await closing;
    },
  };
}
export type ProgressWatcher = ReturnType<typeof createProgressWatcher>;
