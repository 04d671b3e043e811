import { redisKeys, tryOnResultSchema, WORKER_HEARTBEAT_TTL_S, workerRegistrationSchema, type WorkerRegistration } from '../shared/index.js';
import type { BotContext } from './context.js';
import { returnValueOf } from './return-value.js';

const HOUR_MS = 60 * 60 * 1000;

export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface QueueStats {
  counts: Record<string, number>;
  paused: boolean;
  completedLastHour: number;
  perMinute: number;
  totalMs: { p50?: number | undefined; p95?: number | undefined };
  gpuMs: { p50?: number | undefined; p95?: number | undefined };
  failuresByCode: Record<string, number>;
  workers: WorkerRegistration[];
}

/** Records a finished job for stats and ETAs (idempotent: several bot processes may see the same event). */
export async function recordCompleted(ctx: Pick<BotContext, 'redis' | 'keys'>, jobId: string, totalMs: number, gpuMs: number, at = Date.now()): Promise<void> {
  await ctx.redis.multi().zadd(ctx.keys.statsDone, at, `${jobId}|${Math.round(totalMs)}|${Math.round(gpuMs)}`).zremrangebyscore(ctx.keys.statsDone, 0, at - 24 * HOUR_MS).exec();
}

/** A finished try-on, from its return value as QueueEvents reports it (a job without timings counts as 0 ms). */
export async function recordTryOnResult(ctx: Pick<BotContext, 'redis' | 'keys'>, jobId: string, returnvalue: unknown): Promise<void> {
  const result = tryOnResultSchema.safeParse(returnValueOf(returnvalue));
  const timings = result.success ? result.data.timings : {};
  await recordCompleted(ctx, jobId, timings.total ?? 0, timings.pipeline ?? timings.transferring ?? 0);
}

export async function recordFailed(ctx: Pick<BotContext, 'redis' | 'keys'>, jobId: string, code: string, at = Date.now()): Promise<void> {
  await ctx.redis.multi().zadd(ctx.keys.statsFailed, at, `${jobId}|${code}`).zremrangebyscore(ctx.keys.statsFailed, 0, at - 24 * HOUR_MS).exec();
}

/** Everything /hair-admin stats shows, from BullMQ counts, the bot's stats sets and the workers' registry. */
export async function queueStats(ctx: BotContext, now = Date.now()): Promise<QueueStats> {
  const since = String(now - HOUR_MS);
  const [counts, paused, done, failed] = await Promise.all([
    ctx.enqueuer.counts(),
    ctx.enqueuer.isPaused(),
    ctx.redis.zrangebyscore(ctx.keys.statsDone, since, '+inf'),
    ctx.redis.zrangebyscore(ctx.keys.statsFailed, since, '+inf'),
  ]);
  const totals = done.map((m) => Number(m.split('|')[1])).sort((a, b) => a - b);
  const gpus = done.map((m) => Number(m.split('|')[2])).sort((a, b) => a - b);
  const failuresByCode: Record<string, number> = {};
  for (const m of failed) {
    const code = m.split('|')[1] ?? 'INTERNAL';
    failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
  }
  const shared = redisKeys(ctx.config.QUEUE_PREFIX);
  const ids = await ctx.redis.zrangebyscore(shared.workers, String(now - WORKER_HEARTBEAT_TTL_S * 1000), '+inf');
  const workers: WorkerRegistration[] = [];
  for (const id of ids) {
    const parsed = workerRegistrationSchema.safeParse(await ctx.redis.hgetall(shared.worker(id)));
    if (parsed.success) workers.push(parsed.data);
  }
  return {
    counts, paused, completedLastHour: done.length, perMinute: Math.round((done.length / 60) * 100) / 100,
    totalMs: { p50: percentile(totals, 50), p95: percentile(totals, 95) },
    gpuMs: { p50: percentile(gpus, 50), p95: percentile(gpus, 95) },
    failuresByCode, workers,
  };
}
