import type { REST } from 'discord.js';
import { QueueEvents } from 'bullmq';
import { parseJobFailure, QUEUE_NAMES, type RedisConfig } from '../shared/index.js';
import { redisErrorListener } from '../shared/redis.js';
import { createRedisConnector } from '../redis/redis-connector.js';
import type { BotContext } from './context.js';
import { createPresetBuildOutcomes } from './preset-build-outcomes.js';
import { recordFailed, recordTryOnResult } from './stats.js';
import { createTryOnProgress } from './try-on-progress.js';

export interface ProgressDeps {
  ctx: BotContext;
  rest: REST;
}

/**
 * The bot's ears on both queues (BullMQ QueueEvents): try-on stages and requeues go to the member's reply
 * (try-on-progress.ts), finished and failed try-ons to the stats (stats.ts), preset builds to the catalog and the
 * moderator (preset-build-outcomes.ts). A failing handler is logged and never stops the others.
 */
export function createProgressWatcher(config: RedisConfig & { PROGRESS_EDIT_INTERVAL_MS: number }, deps: ProgressDeps) {
  const { ctx, rest } = deps;
  const connector = createRedisConnector(config);
  const tryOnEvents = new QueueEvents(QUEUE_NAMES.tryOn, { connection: connector.bullmq({ waitForever: true }), prefix: config.QUEUE_PREFIX });
  const presetEvents = new QueueEvents(QUEUE_NAMES.presetBuild, { connection: connector.bullmq({ waitForever: true }), prefix: config.QUEUE_PREFIX });
  tryOnEvents.on('error', redisErrorListener(ctx.log, 'try-on queue events'));
  presetEvents.on('error', redisErrorListener(ctx.log, 'preset-build queue events'));
  const tryOn = createTryOnProgress(config, { ctx, rest });
  const presetBuilds = createPresetBuildOutcomes({ ctx, rest });
  let closing: Promise<void> | undefined;

  const guard = <A>(what: string, fn: (args: A) => Promise<void>) => (args: A) => {
    fn(args).catch((err: unknown) => ctx.log.warn({ err, what }, 'queue event handler failed'));
  };

  tryOnEvents.on('progress', guard('progress', ({ jobId, data }: { jobId: string; data: unknown }) => tryOn.progress(jobId, data)));
  tryOnEvents.on('stalled', guard('stalled', ({ jobId }: { jobId: string }) => tryOn.stalled(jobId)));
  tryOnEvents.on('completed', guard('completed', async ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
    tryOn.ended(jobId);
    await recordTryOnResult(ctx, jobId, returnvalue);
  }));
  tryOnEvents.on('failed', guard('failed', async ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
    tryOn.ended(jobId);
    await recordFailed(ctx, jobId, parseJobFailure(failedReason).code);
  }));
  presetEvents.on('completed', guard('preset-completed', ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => presetBuilds.completed(jobId, returnvalue)));
  presetEvents.on('failed', guard('preset-failed', ({ jobId, failedReason }: { jobId: string; failedReason: string }) => presetBuilds.failed(jobId, failedReason)));

  return {
    /** Preset builds that ended while no bot was listening: applied now (preset-build-outcomes.ts). */
    reconcile: () => presetBuilds.reconcile(),
    async ready(): Promise<void> {
      await Promise.all([tryOnEvents.waitUntilReady(), presetEvents.waitUntilReady()]);
    },
    async close(): Promise<void> {
      closing ??= Promise.allSettled([tryOnEvents.close(), presetEvents.close()]).then(() => connector.close());
      await closing;
    },
  };
}
export type ProgressWatcher = ReturnType<typeof createProgressWatcher>;
