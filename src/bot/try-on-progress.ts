import type { REST } from 'discord.js';
import { LRUCache, type Perf } from 'lru-cache';
import { jobProgressSchema } from '../shared/index.js';
import type { BotContext } from './context.js';
import { relativeTime } from './limits.js';
import { t } from './localize.js';
import { editPlaceholder } from './placeholder.js';
import { cancelRow } from './try-on.js';

/** Stages the bot shows; 'uploading' is left to the worker, whose result edit must not be overwritten. */
const SHOWN_STAGES = new Set(['downloading', 'detecting', 'aligning', 'transferring']);
/** Jobs whose last edit is remembered at once; more than a bot ever has in flight, and a bound on the memory. */
export const MAX_THROTTLED_JOBS = 10_000;
/** How long a replica's claim on a job's stage edit lives: longer than any stage, shorter than the token. */
const PROGRESS_CLAIM_TTL_MS = 15 * 60_000;

/**
 * At most one edit per job per interval: a TTL cache (an entry lives one interval, the oldest goes first beyond
 * MAX_THROTTLED_JOBS), so the memory stays bounded however many jobs never report their end. Interval 0: no limit.
 */
export function createEditThrottle(intervalMs: number, clock?: Perf) {
  const recent = intervalMs > 0
    ? new LRUCache<string, true>({ max: MAX_THROTTLED_JOBS, ttl: intervalMs, ttlResolution: 0, ...(clock ? { perf: clock } : {}) })
    : undefined;
  return {
    /** True (and the job's interval starts now) unless the job was edited less than an interval ago. */
    allow(jobId: string): boolean {
      if (recent?.has(jobId)) return false;
      recent?.set(jobId, true);
      return true;
    },
    forget(jobId: string): void {
      recent?.delete(jobId);
    },
    get size(): number {
      return recent?.size ?? 0;
    },
  };
}

/**
 * A member's queued reply as their try-on runs: the stage, at most once per PROGRESS_EDIT_INTERVAL_MS per job, and a
 * notice when a dead worker's job went back to the queue. Losing the throttle loses nothing.
 */
export function createTryOnProgress(config: { PROGRESS_EDIT_INTERVAL_MS: number }, deps: { ctx: BotContext; rest: REST }) {
  const { ctx, rest } = deps;
  const throttle = createEditThrottle(config.PROGRESS_EDIT_INTERVAL_MS);

  return {
    async progress(jobId: string, data: unknown): Promise<void> {
      const progress = jobProgressSchema.safeParse(typeof data === 'object' ? data : undefined);
      if (!progress.success || !SHOWN_STAGES.has(progress.data.stage)) return;
      if (!throttle.allow(jobId)) return;
      const job = await ctx.enqueuer.getTryOn(jobId);
      // Skip studio jobs (their studio shows progress) and stale events: once the worker moved on (to 'uploading',
      // where it posts the result), an edit here could land after the result and hide it.
      const current = jobProgressSchema.safeParse(job?.progress);
      if (!job || !current.success || current.data.stage !== progress.data.stage || !(await job.isActive())) return;
      // Every bot replica hears the event; the first to claim the stage edits the reply.
      const claimed = await ctx.redis.set(ctx.keys.progressEdit(jobId, progress.data.stage), '1', 'PX', PROGRESS_CLAIM_TTL_MS, 'NX');
      if (claimed !== 'OK') return;
      const { locale, userId } = job.data;
      await editPlaceholder(ctx, rest, jobId, job.data, {
        content: t(locale, 'try.stage', { stage: t(locale, `stage.${progress.data.stage}`) }),
        components: [cancelRow(locale, jobId, userId).toJSON()],
      });
    },

    /** A worker died holding the job (its lock lapsed): BullMQ put it back in the queue. Say so instead of silence. */
    async stalled(jobId: string): Promise<void> {
      throttle.forget(jobId);
      const job = await ctx.enqueuer.getTryOn(jobId); // Discord jobs only
      if (!job || !(await job.isWaiting() || await job.isActive())) return;
      const { locale, userId } = job.data;
      const eta = relativeTime(await ctx.enqueuer.readyAt(jobId));
      await editPlaceholder(ctx, rest, jobId, job.data, {
        content: t(locale, 'try.requeued', { eta }),
        components: [cancelRow(locale, jobId, userId).toJSON()],
      });
    },

    /** The job finished or failed: nothing more to throttle. */
    ended(jobId: string): void {
      throttle.forget(jobId);
    },
  };
}
export type TryOnProgress = ReturnType<typeof createTryOnProgress>;
